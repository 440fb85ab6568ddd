package desk

import (
	"testing"
	"time"
)

// Open reads the wall clock; window (and so AddOpen, the after-hours wait)
// places a day's opening and closing at the first reading of a repeated
// clock time (calendar.At). In the hour the clocks repeat when they go
// back, the two disagree: a night desk open 23:00–01:30 in New York is
// "open" by Open at 01:15 EST on 1 November 2026 (after it closed at the
// first 01:30, EDT), so a handoff queues the customer, while AddOpen counts
// that time as closed and tells them the wait runs to the next evening;
// a desk opening at 01:30 is "closed" by Open from the second 01:00 to
// 01:30 although its window began at the first 01:30.
func TestOpenAgreesWithTheWindowsInARepeatedHour(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"23:00", "01:30"}, {"01:30", "03:00"}} {
		h, err := ParseHours("America/New_York", nil, c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		// 01:15 EST, the second reading of 01:15 that night.
		at := time.Date(2026, 11, 1, 6, 15, 0, 0, time.UTC)
		if at.In(ny).Format("15:04 MST") != "01:15 EST" {
			t.Fatalf("%s", at.In(ny).Format(time.RFC3339))
		}
		open := h.Open(at)
		countsOpen := h.AddOpen(at, time.Minute).Equal(at.Add(time.Minute))
		if open != countsOpen {
			t.Errorf("%s–%s at %s: Open says %v, but AddOpen counts the time as open=%v (done at %s)", c[0], c[1],
				at.In(ny).Format(time.RFC3339), open, countsOpen, h.AddOpen(at, time.Minute).In(ny).Format(time.RFC3339))
		}
	}
}
