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
func ReadFile(path string) ([]nlu.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read data set: %w", err)
	}
	defer f.Close()
	exs, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return exs, nil
}

// Read reads JSON Lines examples from r.
func Read(r io.Reader) ([]nlu.Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []nlu.Example
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec struct {
			Text  *string `json:"text"`
			Label *string `json:"label"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("line %d: not a JSON object: %v", line, err)
		}
		switch {
		case rec.Text == nil:
			return nil, fmt.Errorf("line %d: missing \"text\"", line)
		case rec.Label == nil:
			return nil, fmt.Errorf("line %d: missing \"label\"", line)
		case strings.TrimSpace(*rec.Label) == "":
			return nil, fmt.Errorf("line %d: empty \"label\"", line)
		}
		out = append(out, nlu.Example{Text: *rec.Text, Label: *rec.Label})
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
