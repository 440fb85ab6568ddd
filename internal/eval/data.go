// Package eval measures Steward's understanding on labelled data sets: it
// reads JSON Lines files, trains the production NLU on one split, scores it
// on another and reports the metrics `steward eval` prints.
package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/steward-cs/steward/internal/nlu"
)

// maxLine bounds one JSON Lines record; a longer line is an error, not a
// silent truncation.
const maxLine = 1 << 20

// ErrEmpty is returned for a data set without a single example.
var ErrEmpty = errors.New("no examples")

// ReadFile reads a JSON Lines data set: one {"text": ..., "label": ...}
// object a line; other fields are ignored, blank lines skipped. Errors name
// the file and the line.
func ReadFile(path string) ([]nlu.Example, error) { return readFile(path, Read) }

// Read reads JSON Lines examples from r.
func Read(r io.Reader) ([]nlu.Example, error) {
	return readLines(r, func(b []byte) (nlu.Example, error) {
		var rec struct {
			Text  *string `json:"text"`
			Label *string `json:"label"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return nlu.Example{}, fmt.Errorf("not a JSON object: %v", err)
		}
		switch {
		case rec.Text == nil:
			return nlu.Example{}, errors.New(`missing "text"`)
		case rec.Label == nil:
			return nlu.Example{}, errors.New(`missing "label"`)
		case strings.TrimSpace(*rec.Label) == "":
			return nlu.Example{}, errors.New(`empty "label"`)
		case strings.TrimSpace(*rec.Text) == "":
			return nlu.Example{}, errors.New(`empty "text"`)
		}
		return nlu.Example{Text: *rec.Text, Label: *rec.Label}, nil
	})
}

// readFile opens path and reads it with read; errors name the file.
func readFile[T any](path string, read func(io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read data set: %w", err)
	}
	defer f.Close()
	out, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// readLines decodes every non-blank line of a JSON Lines stream with
// decode, naming the line of the first error; a stream without a record
// is ErrEmpty. Every data set `steward eval` reads goes through it.
func readLines[T any](r io.Reader, decode func(line []byte) (T, error)) ([]T, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []T
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			// A byte order mark (Notepad, PowerShell's utf8) is not part of the first object.
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		v, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", line+1, maxLine)
		}
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrEmpty
	}
	return out, nil
}

// Holdout splits examples deterministically: of each label's examples, in
// file order, every one whose position falls in the held-out fraction goes
// to the second set. It lets a data set without a test split be measured.
func Holdout(examples []nlu.Example, fraction float64) (train, test []nlu.Example) {
	seen := map[string]int{}
	for _, ex := range examples {
		i := seen[ex.Label]
		seen[ex.Label]++
		// Example i is held out when the running count of held-out
		// examples steps up: an even spread at the given rate.
		if int(float64(i+1)*fraction) > int(float64(i)*fraction) {
			test = append(test, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, test
}
