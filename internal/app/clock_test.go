package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The clock probe fails while the node is more than the limit off the
// database server's clock, either way, says by how much, and logs the
// start and the end of it once each; a database it cannot reach is not a
// clock fault.
func TestClockProbe(t *testing.T) {
	var offset time.Duration
	var dbErr error
	var log bytes.Buffer
	probe := clockProbe(func(context.Context) (time.Duration, error) { return offset, dbErr },
		2*time.Second, slog.New(slog.NewTextHandler(&log, nil)))
	ctx := context.Background()
	for _, tc := range []struct {
		offset  time.Duration
		dbErr   error
		wantErr string
	}{
		{offset: 150 * time.Millisecond},
		{offset: -2 * time.Second},
		{offset: 3200 * time.Millisecond, wantErr: "3.2s ahead"},
		{offset: 3300 * time.Millisecond, wantErr: "3.3s ahead"},
		{dbErr: errors.New("connection refused")},
		{offset: -5 * time.Second, wantErr: "-5s ahead"},
		{offset: 10 * time.Millisecond},
	} {
		offset, dbErr = tc.offset, tc.dbErr
		err := probe(ctx)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("offset %s (database error %v): %v, want %q", tc.offset, tc.dbErr, err, tc.wantErr)
		}
	}
	// Off from 3.2 s on (an unreachable database in between is no news,
	// −5 s is still off), then back: one start and one end.
	if got := strings.Count(log.String(), "clock skew"); got != 1 {
		t.Errorf("logged %d starts of skew, want 1:\n%s", got, log.String())
	}
	if got := strings.Count(log.String(), "agrees with the database server's again"); got != 1 {
		t.Errorf("logged %d ends of skew, want 1:\n%s", got, log.String())
	}
}
