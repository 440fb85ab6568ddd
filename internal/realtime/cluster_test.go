package realtime

import (
	"encoding/json"
	"fmt"
	"testing"
)

// Events leave in order, in notifications that each fit PostgreSQL's
// payload limit and parse as a JSON array.
func TestClusterBatchesFitOneNotification(t *testing.T) {
	c := NewCluster("n1", nil, nil)
	const events = 2000
	for i := range events {
		c.Send(Remote{Kind: KindConversation, ID: fmt.Sprintf("c_%08d", i), After: int64(i), Desk: i%2 == 0})
	}
	next, batches := 0, 0
	for {
		payload, n := c.nextBatch()
		if n == 0 {
			break
		}
		batches++
		if len(payload) > maxPayload {
			t.Fatalf("a notification of %d bytes (limit %d)", len(payload), maxPayload)
		}
		var got []Remote
		if err := json.Unmarshal([]byte(payload), &got); err != nil {
			t.Fatalf("payload is not a JSON array of events: %v", err)
		}
		if len(got) != n {
			t.Fatalf("payload holds %d events, nextBatch said %d", len(got), n)
		}
		for _, ev := range got {
			if want := fmt.Sprintf("c_%08d", next); ev.ID != want || ev.Node != "n1" {
				t.Fatalf("event %d is %+v, want id %s from n1", next, ev, want)
			}
			next++
		}
	}
	if next != events || batches < 2 {
		t.Fatalf("%d events in %d notifications, want %d in several", next, batches, events)
	}
}
