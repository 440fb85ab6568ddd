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

// A subscriber with a wake function is woken after each event it is given
// and when it is dropped, so that it needs no goroutine waiting on C.
func TestHubWakesFuncSubscribers(t *testing.T) {
	h := NewHub(2)
	wakes := 0
	s := h.SubscribeFunc("c1", 0, func() { wakes++ })
	h.Publish(Event{Topic: "c1", Data: 1})
	h.Publish(Event{Topic: "c2", Data: 2})
	if got := s.Take(); wakes != 1 || len(got) != 1 || got[0].Data != 1 {
		t.Fatalf("after one event of its topic: %d wakes, %v held; want 1 wake and event 1", wakes, got)
	}
	for i := range 3 {
		h.Publish(Event{Topic: "c1", Data: 3 + i}) // the third is over the hub's buffer of 2
	}
	select {
	case <-s.Dropped():
	default:
		t.Fatal("a subscriber 3 events behind with a buffer of 2 was not dropped")
	}
	if wakes != 4 {
		t.Fatalf("%d wakes, want 4 (three events and the drop)", wakes)
	}
	if got := s.Take(); len(got) != 2 || got[0].Data != 3 || got[1].Data != 4 {
		t.Fatalf("took %v, want events 3 and 4", got)
	}
}

// Drop drops the subscribers of the topics named, and no others: a node
// that cannot read what another node's event says (a read timed out)
// makes those who watch it read it again, and leaves the rest alone.
func TestDropDropsTheTopicsNamed(t *testing.T) {
	h := NewHub(4)
	conv, desk, other := h.Subscribe("conversation:c1"), h.Subscribe("desk"), h.Subscribe("conversation:c2")
	h.Drop("conversation:c1", "desk")
	for name, s := range map[string]*Subscription{"conversation:c1": conv, "desk": desk} {
		select {
		case <-s.Dropped():
		default:
			t.Errorf("%s was not dropped", name)
		}
	}
	select {
	case <-other.Dropped():
		t.Error("conversation:c2 was dropped too")
	default:
	}
	if h.Subscribers("conversation:c1") != 0 || h.Subscribers("conversation:c2") != 1 {
		t.Errorf("subscribers left: c1 %d, c2 %d", h.Subscribers("conversation:c1"), h.Subscribers("conversation:c2"))
	}
}
