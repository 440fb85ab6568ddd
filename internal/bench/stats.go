package bench

import (
	"math"
	"slices"
	"time"
)

// Latency is a latency distribution in milliseconds; it is embedded in the
// scenarios' results, so its fields appear at their top level.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value that at least p % of the values
// do not exceed. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// Summarize sorts d in place and returns its distribution.
func Summarize(d []time.Duration) Latency {
	slices.Sort(d)
	if len(d) == 0 {
		return Latency{}
	}
	return Latency{P50: ms(Percentile(d, 50)), P90: ms(Percentile(d, 90)), P99: ms(Percentile(d, 99)), Max: ms(d[len(d)-1])}
}

// ms is d in milliseconds, rounded to microseconds.
func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

// round rounds v to digits decimals, so that reports stay readable.
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// tally counts things by name (error kinds, reply outcomes).
type tally map[string]int

func (t tally) add(o tally) {
	for k, v := range o {
		t[k] += v
	}
}

func (t tally) sum() int {
	n := 0
	for _, v := range t {
		n += v
	}
	return n
}

// orNil is t, or nil when empty, so that an empty tally is left out of JSON.
func (t tally) orNil() map[string]int {
	if len(t) == 0 {
		return nil
	}
	return t
}
