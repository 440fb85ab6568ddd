package app

import (
	"testing"
	"time"
)

// A new release is the suspect of the quality alerts that follow it; the
// release a rollback goes back to is not (blamed, it would be rolled back
// in turn, one good release further), until a newer one is served.
func TestReleaseWatchSuspectsNewReleasesOnly(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var w releaseWatch
	w.note(1, time.Time{}) // served at start: never changed
	if id, at := w.suspect(); id != 1 || !at.IsZero() {
		t.Fatalf("at start: suspect %d at %v", id, at)
	}
	steps := []struct {
		id          int64
		wantSuspect int64
	}{
		{2, 2}, // published
		{1, 0}, // rolled back
		{1, 0}, // still served: still not suspect
		{3, 3}, // the fixed release
		{2, 0}, // an older one activated by hand
	}
	for i, s := range steps {
		now := t0.Add(time.Duration(i) * time.Minute)
		w.note(s.id, now)
		id, at := w.suspect()
		if id != s.wantSuspect {
			t.Errorf("step %d (release %d): suspect %d, want %d", i, s.id, id, s.wantSuspect)
		}
		if s.wantSuspect != 0 && !at.Equal(now) {
			t.Errorf("step %d: suspect since %v, want %v", i, at, now)
		}
		if w.activated.IsZero() {
			t.Errorf("step %d: the epoch did not move", i)
		}
	}
}
