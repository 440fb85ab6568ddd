package token

import (
	"strings"
	"testing"
	"time"
)

// Ids made later sort after earlier ones as strings, down to the
// millisecond; ids of the same millisecond differ.
func TestSortableIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	prev := SortableID("m", base.Add(-time.Hour*24*365*30), 8) // 1996
	for i, d := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond, time.Second, 255 * time.Millisecond << 8, time.Hour * 24 * 365 * 100} {
		id := SortableID("m", base.Add(d), 8)
		if !strings.HasPrefix(id, "m") || len(id) != 1+23 {
			t.Fatalf("id %q: want the prefix m and 23 characters after it", id)
		}
		if strings.Trim(id[1:], "0123456789abcdefghijklmnopqrstuv") != "" {
			t.Fatalf("id %q has a character outside lowercase base32hex", id)
		}
		if id <= prev {
			t.Fatalf("step %d: id %q sorts before the earlier %q", i, id, prev)
		}
		prev = id
	}
	seen := map[string]bool{}
	for range 1000 {
		id := SortableID("m", base, 8)
		if seen[id] {
			t.Fatalf("two ids of the same millisecond are both %q", id)
		}
		seen[id] = true
	}
}
