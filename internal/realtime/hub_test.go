package realtime

import "testing"

func TestHubDeliversAndDropsSlowSubscribers(t *testing.T) {
	h := NewHub(2)
	fast, slow := h.Subscribe("c1"), h.Subscribe("c1")
	other := h.Subscribe("c2")
	for i := range 3 {
		h.Publish(Event{Topic: "c1", Data: i})
		if got := (<-fast.C).Data; got != i {
			t.Fatalf("fast subscriber got %v, want %d", got, i)
		}
	}
	select {
	case <-slow.Dropped():
	default:
		t.Fatal("a subscriber 3 events behind with a buffer of 2 was not dropped")
	}
	if n := h.Subscribers("c1"); n != 1 {
		t.Fatalf("c1 has %d subscribers, want 1", n)
	}
	if len(other.C) != 0 {
		t.Fatal("an event crossed topics")
	}
	fast.Close()
	if n := h.Subscribers("c1"); n != 0 {
		t.Fatalf("after Close c1 has %d subscribers", n)
	}
}
