package calendar

import (
	"testing"
	"time"
)

func TestAtSkipsTheGapOfAClockChange(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	gaza, err := time.LoadLocation("Asia/Gaza")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  time.Time
		want string // RFC 3339 in the zone
	}{
		{"an ordinary midnight", Midnight(2026, 11, 23, shanghai), "2026-11-23T00:00:00+08:00"},
		{"24:00 is the next midnight", At(2026, 11, 23, 24*60, shanghai), "2026-11-24T00:00:00+08:00"},
		{"Santiago skips midnight on 6 September 2026: the day starts at 01:00", Midnight(2026, 9, 6, santiago), "2026-09-06T01:00:00-03:00"},
		{"the day before is whole", Midnight(2026, 9, 5, santiago), "2026-09-05T00:00:00-04:00"},
		{"New York skips 02:00–03:00 on 8 March 2026", At(2026, 3, 8, 2*60+30, ny), "2026-03-08T03:00:00-04:00"},
		{"New York's midnight that day exists", Midnight(2026, 3, 8, ny), "2026-03-08T00:00:00-05:00"},
		// Gaza's clocks went back from 01:00 to 00:00 on 29 October 2021:
		// the day has two midnights, and starts at the first (time.Date
		// gives the second, which dropped the day's first hour from the
		// quality report).
		{"Gaza repeats midnight on 29 October 2021: the day starts at the first", Midnight(2021, 10, 29, gaza), "2021-10-29T00:00:00+03:00"},
		{"the repeated hour's later times are their first readings too", At(2021, 10, 29, 30, gaza), "2021-10-29T00:30:00+03:00"},
		{"New York repeats 01:00–02:00 on 1 November 2026", At(2026, 11, 1, 60+30, ny), "2026-11-01T01:30:00-04:00"},
		{"and 02:00 that day is read once", At(2026, 11, 1, 2*60, ny), "2026-11-01T02:00:00-05:00"},
		{"a day given past the month's end is normalised", Midnight(2026, 11, 31, shanghai), "2026-12-01T00:00:00+08:00"},
	} {
		if s := tc.got.Format(time.RFC3339); s != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, s, tc.want)
		}
	}
}
