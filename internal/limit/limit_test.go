package limit

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestBucketsAllowRefillAndRetry(t *testing.T) {
	b := NewBuckets(Rate{PerSecond: 2, Burst: 3}, 0)
	t0 := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _ := b.allowAt("a", 1, t0); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := b.allowAt("a", 1, t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over the burst: ok=%v wait=%s, want refused for 500ms", ok, wait)
	}
	if ok, _ := b.allowAt("b", 1, t0); !ok {
		t.Fatal("another key shares the first key's bucket")
	}
	if ok, _ := b.allowAt("a", 1, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused after refilling one token")
	}
	// More than the burst is asked as the burst, so it can succeed.
	if ok, wait := b.allowAt("a", 10, t0.Add(1250*time.Millisecond)); ok || wait != 750*time.Millisecond {
		t.Fatalf("10 tokens at 1.5 held: ok=%v wait=%s, want the burst (3) in 750ms", ok, wait)
	}
}

func TestBucketsChargeLeavesDebt(t *testing.T) {
	b := NewBuckets(Rate{PerSecond: 1, Burst: 2}, 0)
	t0 := time.Unix(1_000_000, 0)
	b.allowAt("a", 1, t0)
	b.chargeAt("a", 4, t0) // 1 - 4 = -3
	ok, wait := b.allowAt("a", 1, t0)
	if ok || wait != 4*time.Second {
		t.Fatalf("in debt: ok=%v wait=%s, want refused for 4s", ok, wait)
	}
	if ok, _ := b.allowAt("a", 1, t0.Add(4*time.Second)); !ok {
		t.Fatal("refused after the debt was paid")
	}
}

func TestBucketsForgetFullAndLeastRecentlyUsed(t *testing.T) {
	b := NewBuckets(Rate{PerSecond: 1, Burst: 1}, 3)
	t0 := time.Unix(1_000_000, 0)
	for i := range 3 {
		b.allowAt(fmt.Sprint(i), 1, t0)
	}
	// A fourth key evicts the least recently used ("0"), not a full one
	// (none is full yet).
	b.allowAt("3", 1, t0)
	if b.Len() != 3 {
		t.Fatalf("%d keys remembered, want the bound 3", b.Len())
	}
	if _, ok := b.keys["0"]; ok {
		t.Fatal("the least recently used key was kept")
	}
	// Once buckets have refilled, using any key forgets idle ones.
	later := t0.Add(time.Minute)
	b.allowAt("x", 1, later)
	b.allowAt("x", 1, later)
	if b.Len() != 1 {
		t.Fatalf("%d keys remembered after every other bucket refilled, want 1", b.Len())
	}
	// A bucket in debt is not forgotten while it owes.
	b.chargeAt("x", 100, later)
	b.allowAt("y", 1, later.Add(10*time.Second))
	b.allowAt("y", 1, later.Add(10*time.Second))
	if _, ok := b.keys["x"]; !ok {
		t.Fatal("a bucket in debt was forgotten")
	}
}

func TestSlots(t *testing.T) {
	s := NewSlots(2)
	if !s.Acquire("a") || !s.Acquire("a") {
		t.Fatal("refused within the cap")
	}
	if s.Acquire("a") {
		t.Fatal("a third slot over the cap of 2")
	}
	if !s.Acquire("b") {
		t.Fatal("another key refused")
	}
	s.Release("a")
	if !s.Acquire("a") {
		t.Fatal("refused after a release")
	}
	s.Release("a")
	s.Release("a")
	s.Release("b")
	if len(s.open) != 0 {
		t.Fatalf("keys with nothing open are remembered: %v", s.open)
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "192.168.1.1", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		proxies Proxies
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies: the header is ignored", nil, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"untrusted peer: the header is ignored", proxies, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer without a header", proxies, "10.1.2.3:1234", nil, "10.1.2.3"},
		{"trusted peer: the right-most entry", proxies, "10.1.2.3:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a client's own entries are skipped", proxies, "10.1.2.3:1234", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"proxy hops are skipped", proxies, "10.1.2.3:1234", []string{"1.1.1.1, 198.51.100.1, 192.168.1.1, 10.9.9.9"}, "198.51.100.1"},
		{"several headers are one list", proxies, "10.1.2.3:1234", []string{"1.1.1.1, 198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"entries with ports", proxies, "10.1.2.3:1234", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 through an IPv6 proxy", proxies, "[fd00::1]:443", []string{"[2001:db8::7]:80"}, "2001:db8::7"},
		{"a malformed entry: the nearest proxy", proxies, "10.1.2.3:1234", []string{"1.1.1.1, bogus, 10.9.9.9"}, "10.9.9.9"},
		{"only proxies: the furthest", proxies, "10.1.2.3:1234", []string{"10.7.7.7, 10.9.9.9"}, "10.7.7.7"},
		{"mapped IPv4 peer", nil, "[::ffff:203.0.113.5]:1234", nil, "203.0.113.5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.proxies.ClientIP(c.remote, c.xff)
			if !ok || got.String() != c.want {
				t.Fatalf("ClientIP = %v, %v; want %s", got, ok, c.want)
			}
		})
	}
	if _, err := ParseProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
}

func TestKey(t *testing.T) {
	if k := Key(netip.MustParseAddr("203.0.113.5")); k != "203.0.113.5" {
		t.Fatalf("IPv4 key %q", k)
	}
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	if Key(a) != Key(b) || Key(a) != "2001:db8:1:2::/64" {
		t.Fatalf("IPv6 keys %q and %q, want one /64", Key(a), Key(b))
	}
}
