// Package calendar reads clock times on calendar days in a time zone,
// including the days a daylight-saving change skips an hour of.
package calendar

import "time"

// At is the instant a clock in loc reads minutes after midnight (24*60 is
// the next midnight) on the calendar day y-mo-d (normalised as time.Date
// does). A clock time that a daylight-saving change repeats is its first
// reading. A clock time that a daylight-saving change skips is the first
// quarter hour after the gap: time.Date puts the skipped midnight of
// Santiago or Havana at 23:00 on the day before, which moved a day's start
// into the previous day.
func At(y int, mo time.Month, d, minutes int, loc *time.Location) time.Time {
	for m := minutes; m < minutes+24*60; m += 15 {
		t := time.Date(y, mo, d, 0, m, 0, 0, loc)
		// The clock reading asked for, normalised (24:00 is the next day).
		want := time.Date(y, mo, d, 0, m, 0, 0, time.UTC)
		if reads(t, want) {
			// A clock time the change back repeats (Gaza's midnight of
			// 29 October 2021, read at +03 and again at +02) is its
			// first reading: time.Date gives the second, which started
			// that day an hour late.
			for _, back := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
				if earlier := t.Add(-back); reads(earlier, want) {
					return earlier
				}
			}
			return t
		}
	}
	return time.Date(y, mo, d, 0, minutes, 0, 0, loc)
}

// reads reports whether t, in its zone, reads the clock time want holds
// (in UTC).
func reads(t, want time.Time) bool {
	return t.Year() == want.Year() && t.YearDay() == want.YearDay() && t.Hour() == want.Hour() && t.Minute() == want.Minute()
}

// Midnight is the start of the calendar day y-mo-d in loc.
func Midnight(y int, mo time.Month, d int, loc *time.Location) time.Time {
	return At(y, mo, d, 0, loc)
}

// Noon is noon of the calendar day y-mo-d in loc: a time every day has,
// for stepping from day to day and reading a day's date and weekday.
func Noon(y int, mo time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, mo, d, 12, 0, 0, 0, loc)
}
