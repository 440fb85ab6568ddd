package desk

import (
	"fmt"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/calendar"
)

// Hours are the desk's opening hours: days of the week and a daily window
// in a time zone. Outside them, a handoff offers the offline form.
type Hours struct {
	Location *time.Location
	Days     [7]bool // indexed by time.Weekday
	From, To int     // minutes after midnight; To < From spans midnight
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseHours reads opening hours: a time zone name ("Asia/Shanghai"), days
// ("mon".."sun", or ranges such as "mon-fri"; none means every day) and a
// window "09:00"–"18:00".
func ParseHours(zone string, days []string, from, to string) (*Hours, error) {
	h := &Hours{Location: time.UTC}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("desk hours: unknown time zone %q", zone)
		}
		h.Location = loc
	}
	if len(days) == 0 {
		days = []string{"sun-sat"}
	}
	for _, d := range days {
		lo, hi, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "-")
		a, ok1 := weekdays[lo]
		b := a
		ok2 := true
		if isRange {
			b, ok2 = weekdays[hi]
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("desk hours: day %q must be mon..sun or a range such as mon-fri", d)
		}
		for w := a; ; w = (w + 1) % 7 {
			h.Days[w] = true
			if w == b {
				break
			}
		}
	}
	var err error
	if h.From, err = clock(from); err != nil {
		return nil, err
	}
	if h.To, err = clock(to); err != nil {
		return nil, err
	}
	if h.From == h.To {
		return nil, fmt.Errorf("desk hours: %s–%s is an empty window", from, to)
	}
	return h, nil
}

func clock(s string) (int, error) {
	if strings.TrimSpace(s) == "24:00" {
		return 24 * 60, nil // the end of the day: "00:00" to "24:00" is all day
	}
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("desk hours: %q must be a time such as 09:00", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Open reports whether the desk is open at t. Nil hours are always open.
// It is the windows' own answer: read off the wall clock, it disagreed
// with AddOpen in the hour the clocks repeat when they go back (a customer
// queued as open was told the desk was closed until the next evening).
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	start, end, ok := h.window(t)
	return ok && !t.Before(start) && t.Before(end)
}

// AddOpen returns when d of open time has passed from t: the time by which
// agents who work only in opening hours have put d of work behind them.
// Closed time does not count, so a wait of 20 minutes estimated at 17:55
// with the desk closing at 18:00 ends at 09:15 the next open day. Nil hours
// are always open.
func (h *Hours) AddOpen(t time.Time, d time.Duration) time.Time {
	if h == nil {
		return t.Add(d)
	}
	// Each pass uses up one window; two weeks of windows is more than any
	// estimate needs (a week's days all closed cannot be parsed).
	for range 15 {
		start, end, ok := h.window(t)
		if !ok {
			break
		}
		if start.After(t) {
			t = start
		}
		if left := end.Sub(t); d <= left {
			return t.Add(d)
		}
		d -= end.Sub(t)
		t = end
	}
	return t.Add(d)
}

// window is the opening window that holds t, or else the next one: [start,
// end). A window across midnight belongs to the day it starts on.
func (h *Hours) window(t time.Time) (start, end time.Time, ok bool) {
	y, mo, d := t.In(h.Location).Date()
	for i := -1; i <= 8; i++ {
		// Noon names the day: its midnight may be skipped by a clock change.
		if !h.Days[calendar.Noon(y, mo, d+i, h.Location).Weekday()] {
			continue
		}
		start = calendar.At(y, mo, d+i, h.From, h.Location)
		end = calendar.At(y, mo, d+i, h.To, h.Location)
		if h.To <= h.From {
			end = calendar.At(y, mo, d+i+1, h.To, h.Location)
		}
		if end.After(t) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}
