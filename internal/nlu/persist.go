package nlu

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"fmt"
	"io"
)

// modelFormat versions the encoding; a model written by another version is
// refused rather than misread.
const modelFormat = 1

// modelFile is the exported mirror of Model that gob encodes. The
// vocabulary is a slice indexed by feature id, so the same model always
// encodes to the same bytes.
type modelFile struct {
	Format   int
	Labels   []string
	Features []string
	IDF      []float32
	Group    []uint8
	W        []float32
	Bias     []float32
	OOS      int
	Temp     float64
	MinConf  float64
	Set      featureSet
}

// MarshalBinary encodes the model, gzip-compressed: the artefact a
// knowledge release keeps so that activating it needs no retraining.
func (m *Model) MarshalBinary() ([]byte, error) {
	f := modelFile{Format: modelFormat, Labels: m.labels, Features: make([]string, len(m.vocab)), IDF: m.idf,
		Group: m.group, W: m.w, Bias: m.bias, OOS: m.oos, Temp: m.temp, MinConf: m.minConf, Set: m.fs}
	for s, id := range m.vocab {
		f.Features[id] = s
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := gob.NewEncoder(zw).Encode(&f); err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress model: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalModel decodes a model written by MarshalBinary and checks that
// its parts agree in size.
func UnmarshalModel(data []byte) (*Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decompress model: %w", err)
	}
	var f modelFile
	if err := gob.NewDecoder(zr).Decode(&f); err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("decompress model: %w", err)
	}
	if f.Format != modelFormat {
		return nil, fmt.Errorf("model format %d is not supported (want %d)", f.Format, modelFormat)
	}
	k, n := len(f.Labels), len(f.Features)
	if k == 0 || len(f.IDF) != n || len(f.Group) != n || len(f.W) != n*k || len(f.Bias) != k || f.OOS >= k || f.Temp <= 0 {
		return nil, fmt.Errorf("model is inconsistent: %d labels, %d features, %d weights", k, n, len(f.W))
	}
	m := &Model{labels: f.Labels, vocab: make(map[string]int32, n), idf: f.IDF, group: f.Group, w: f.W,
		bias: f.Bias, oos: f.OOS, temp: f.Temp, minConf: f.MinConf, fs: f.Set}
	for id, s := range f.Features {
		m.vocab[s] = int32(id)
	}
	return m, nil
}
