package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/guard"
)

// FirewallExample is one message of a firewall data set. Whether it is an
// attack is said by the set it is read into, not by its label.
type FirewallExample struct {
	Text string
	// Category is the line's "category" field, or else Source.
	Category string
	// Source names the file: its folder and name ("clinc150/val.jsonl").
	Source string
}

// ReadFirewallFile reads a JSON Lines set of messages: one {"text": ...}
// object a line, with an optional "category"; other fields are ignored,
// blank lines skipped. Errors name the file and the line.
func ReadFirewallFile(path string) ([]FirewallExample, error) {
	return ReadFirewallFileAs(path, SourceName(path))
}

// SourceName is how a file is named in the report: its folder and name.
func SourceName(path string) string {
	return filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path)))
}

// ReadFirewallFileAs is ReadFirewallFile with the file named source in the
// report (two files of one folder and name, in different places, are told
// apart by their paths).
func ReadFirewallFileAs(path, source string) ([]FirewallExample, error) {
	return readFile(path, func(r io.Reader) ([]FirewallExample, error) { return readFirewall(r, source) })
}

func readFirewall(r io.Reader, source string) ([]FirewallExample, error) {
	return readLines(r, func(b []byte) (FirewallExample, error) {
		var rec struct {
			Text     *string `json:"text"`
			Category string  `json:"category"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return FirewallExample{}, fmt.Errorf("not a JSON object: %v", err)
		}
		if rec.Text == nil {
			return FirewallExample{}, errors.New(`missing "text"`)
		}
		if strings.TrimSpace(*rec.Text) == "" {
			return FirewallExample{}, errors.New(`empty "text"`)
		}
		ex := FirewallExample{Text: *rec.Text, Category: rec.Category, Source: source}
		if ex.Category == "" {
			ex.Category = source
		}
		return ex, nil
	})
}

// FirewallReport is what `steward eval firewall` prints. Rates are
// fractions, 0..1.
type FirewallReport struct {
	Attacks                 int     `json:"attacks"`
	Benign                  int     `json:"benign"`
	AttackRecall            float64 `json:"attack_recall"`
	BenignFalsePositiveRate float64 `json:"benign_false_positive_rate"`
	// ByCategory is the recall per attack category (or attack file).
	ByCategory map[string]CategoryRecall `json:"by_category"`
	// ByFile is the recall of each attack file, the false-positive rate
	// of each benign one.
	ByFile map[string]FileRate `json:"by_file"`
	// FalsePositives are the first benign messages blocked, Missed the
	// first attacks let through, at most 10 each.
	FalsePositives []string `json:"false_positives"`
	Missed         []string `json:"missed"`
	CheckP50Micros float64  `json:"check_p50_us"`
	CheckP99Micros float64  `json:"check_p99_us"`
}

// CategoryRecall is the recall on one category of attacks.
type CategoryRecall struct {
	Examples int     `json:"examples"`
	Recall   float64 `json:"recall"`
}

// FileRate is how one file fared: Recall for a file of attacks,
// FalsePositiveRate for a benign one.
type FileRate struct {
	Examples          int      `json:"examples"`
	Blocked           int      `json:"blocked"`
	Recall            *float64 `json:"recall,omitempty"`
	FalsePositiveRate *float64 `json:"false_positive_rate,omitempty"`
}

// maxListed bounds the messages a report quotes.
const maxListed = 10

// ScoreFirewall checks every message with fw and reports recall on the
// attacks and the false-positive rate on the benign messages.
func ScoreFirewall(fw *guard.Firewall, attacks, benign []FirewallExample) FirewallReport {
	r := FirewallReport{
		Attacks: len(attacks), Benign: len(benign),
		ByCategory: map[string]CategoryRecall{}, ByFile: map[string]FileRate{},
		FalsePositives: []string{}, Missed: []string{},
	}
	micros := make([]float64, 0, len(attacks)+len(benign))
	check := func(text string) bool {
		start := time.Now()
		v := fw.Check(text)
		micros = append(micros, float64(time.Since(start).Nanoseconds())/1e3)
		return v.Attack
	}
	blockedBy := map[string]int{}
	caught := 0
	for _, ex := range attacks {
		hit := check(ex.Text)
		c := r.ByCategory[ex.Category]
		c.Examples++
		f := r.ByFile[ex.Source]
		f.Examples++
		if hit {
			caught++
			blockedBy[ex.Category]++
			f.Blocked++
		} else if len(r.Missed) < maxListed {
			r.Missed = append(r.Missed, ex.Text)
		}
		r.ByCategory[ex.Category] = c
		r.ByFile[ex.Source] = f
	}
	blocked := 0
	for _, ex := range benign {
		hit := check(ex.Text)
		f := r.ByFile[ex.Source]
		f.Examples++
		if hit {
			blocked++
			f.Blocked++
			if len(r.FalsePositives) < maxListed {
				r.FalsePositives = append(r.FalsePositives, ex.Text)
			}
		}
		r.ByFile[ex.Source] = f
	}
	r.AttackRecall = ratio(caught, len(attacks))
	r.BenignFalsePositiveRate = ratio(blocked, len(benign))
	for k, c := range r.ByCategory {
		c.Recall = ratio(blockedBy[k], c.Examples)
		r.ByCategory[k] = c
	}
	attackFiles := map[string]bool{}
	for _, ex := range attacks {
		attackFiles[ex.Source] = true
	}
	for k, f := range r.ByFile {
		rate := ratio(f.Blocked, f.Examples)
		if attackFiles[k] {
			f.Recall = &rate
		} else {
			f.FalsePositiveRate = &rate
		}
		r.ByFile[k] = f
	}
	r.CheckP50Micros = percentile(micros, 0.50)
	r.CheckP99Micros = percentile(micros, 0.99)
	return r
}
