package nlu

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"
	"math"
)

// modelFormat versions the encoding; a model written by a later version is
// refused rather than misread. Format 2 added the network (Net); a format 1
// artefact is a linear model alone and still loads. Format 3 writes the
// weight matrices as little-endian bytes (the fields ending in Bytes): gob
// codes a []float32 number by number, which took most of the time of
// saving and loading a model with a network; formats 1 and 2 still load.
const modelFormat = 3

// modelFile is the exported mirror of Model that gob encodes. The
// vocabulary is a slice indexed by feature id, so the same model always
// encodes to the same bytes.
type modelFile struct {
	Format   int
	Labels   []string
	Features []string
	IDF      []float32
	Group    []uint8
	W        []float32 // formats 1 and 2
	WBytes   []byte    // format 3: W, little-endian
	Bias     []float32
	OOS      int
	Temp     float64
	MinConf  float64
	Set      featureSet
	Net      *netFile // nil for the linear model alone
}

// netFile is the exported mirror of mlp.
type netFile struct {
	Hidden  int
	Rows    []int32
	W1      []float32 // format 2
	W1Bytes []byte    // format 3
	B1      []float32
	W2      []float32 // format 2
	W2Bytes []byte    // format 3
	B2      []float32
	Temp    float64
}

// MarshalBinary encodes the model, gzip-compressed: the artefact a
// knowledge release keeps so that activating it needs no retraining.
func (m *Model) MarshalBinary() ([]byte, error) {
	f := modelFile{Format: modelFormat, Labels: m.labels, Features: make([]string, len(m.vocab)), IDF: m.idf,
		Group: m.group, WBytes: floatBytes(m.w), Bias: m.bias, OOS: m.oos, Temp: m.temp, MinConf: m.minConf, Set: m.fs}
	for s, id := range m.vocab {
		f.Features[id] = s
	}
	if n := m.net; n != nil {
		f.Net = &netFile{Hidden: n.hidden, Rows: n.rows, W1Bytes: floatBytes(n.w1), B1: n.b1, W2Bytes: floatBytes(n.w2),
			B2: n.b2, Temp: n.temp}
	}
	return encodeArtefact(nil, "model", &f)
}

// encodeArtefact appends v, gob-encoded and gzip-compressed, to prefix.
func encodeArtefact(prefix []byte, what string, v any) ([]byte, error) {
	buf := bytes.NewBuffer(prefix)
	zw, _ := gzip.NewWriterLevel(buf, gzip.BestSpeed)
	if err := gob.NewEncoder(zw).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s: %w", what, err)
	}
	return buf.Bytes(), nil
}

// decodeArtefact decodes what encodeArtefact wrote into v, reading the
// stream to its end so that a truncated artefact is an error.
func decodeArtefact(data []byte, what string, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decompress %s: %w", what, err)
	}
	if err := gob.NewDecoder(zr).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("decompress %s: %w", what, err)
	}
	return nil
}

// UnmarshalModel decodes a model written by MarshalBinary and checks that
// its parts agree in size.
func UnmarshalModel(data []byte) (*Model, error) {
	var f modelFile
	if err := decodeArtefact(data, "model", &f); err != nil {
		return nil, err
	}
	if f.Format < 1 || f.Format > modelFormat || f.Format < 2 && f.Net != nil {
		return nil, fmt.Errorf("model format %d is not supported (want 1 to %d)", f.Format, modelFormat)
	}
	if f.Format >= 3 {
		var err error
		if f.W, err = bytesFloats(f.WBytes, "weights"); err != nil {
			return nil, err
		}
		if f.Net != nil {
			if f.Net.W1, err = bytesFloats(f.Net.W1Bytes, "network's input weights"); err != nil {
				return nil, err
			}
			if f.Net.W2, err = bytesFloats(f.Net.W2Bytes, "network's output weights"); err != nil {
				return nil, err
			}
		}
	}
	k, n := len(f.Labels), len(f.Features)
	if k == 0 || len(f.IDF) != n || len(f.Group) != n || len(f.W) != n*k || len(f.Bias) != k || f.OOS >= k || !finitePositive(f.Temp) {
		return nil, fmt.Errorf("model is inconsistent: %d labels, %d features, %d weights", k, n, len(f.W))
	}
	// Values Predict indexes with or divides by: a crafted or broken
	// artefact is refused here rather than panicking on every turn.
	if !(f.MinConf >= 0 && f.MinConf <= 1) {
		return nil, fmt.Errorf("model's confidence threshold %v is not between 0 and 1", f.MinConf)
	}
	for _, g := range f.Group {
		if g > 1 {
			return nil, fmt.Errorf("model's feature group %d is not 0 or 1", g)
		}
	}
	m := &Model{labels: f.Labels, vocab: make(map[string]int32, n), idf: f.IDF, group: f.Group, w: f.W,
		bias: f.Bias, oos: f.OOS, temp: f.Temp, minConf: f.MinConf, fs: f.Set}
	for id, s := range f.Features {
		m.vocab[s] = int32(id)
	}
	if f.Net != nil {
		net, err := f.Net.network(n, k)
		if err != nil {
			return nil, err
		}
		m.net = net
	}
	return m, nil
}

// floatBytes is v as little-endian bytes.
func floatBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// bytesFloats reads what floatBytes wrote.
func bytesFloats(b []byte, what string) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("model's %s: %d bytes is not a whole number of float32s", what, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// network checks that the network's parts agree in size with each other
// and with a model of features and classes, and returns it.
func (f *netFile) network(features, classes int) (*mlp, error) {
	h := f.Hidden
	bad := h <= 0 || len(f.Rows) != features || len(f.W1)%h != 0 || len(f.B1) != h || len(f.W2) != h*classes ||
		len(f.B2) != classes || !finitePositive(f.Temp)
	for _, r := range f.Rows {
		bad = bad || r < -1 || int(r) >= len(f.W1)/max(h, 1)
	}
	if bad {
		return nil, fmt.Errorf("model's network is inconsistent: %d hidden units, %d input rows, %d features", h, len(f.Rows), features)
	}
	return &mlp{hidden: h, classes: classes, rows: f.Rows, w1: f.W1, b1: f.B1, w2: f.W2, b2: f.B2, temp: f.Temp}, nil
}

// finitePositive reports whether v is a number above 0 and not infinite.
func finitePositive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }
