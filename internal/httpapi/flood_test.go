package httpapi_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// The flood test's load. A customer sends a message every customerThink
// (2.5 a second, quicker than anyone types); the flooder sends 50 times
// that from one address, paced rather than as fast as it can, so the test
// measures the limits and not how many goroutines the machine can run.
const (
	floodCustomers = 12
	customerThink  = 400 * time.Millisecond
	floodFactor    = 50
	floodWorkers   = 5
	// Unloaded and loaded slots alternate quickly, so that the machine's
	// own load (other tests, other processes), which comes in bursts of a
	// second or more, falls on both alike.
	floodSlot  = 500 * time.Millisecond
	floodSlots = 64
	// latencyFloor: a p99 below this is scheduling noise on a shared CI
	// machine under -race, not load the flood caused. There a customer's
	// turn takes about 5 ms at the median, but a GC cycle, a descheduled
	// goroutine or an fsync queued behind another process's put 20 to 70 ms
	// on the few requests in flight at that moment, and the p99 of a few
	// hundred samples is made of those. The bound is 2× the unloaded p99,
	// or 2× the floor if that is higher.
	latencyFloor = 50 * time.Millisecond
)

var floodQuestions = []string{"how much does shipping cost", "how do I reset my password", "can I pay with a credit card",
	"运费多少", "发票怎么开", "how do I return an item", "优惠券怎么用", "where is my refund"}

// slot is a stretch of the flood test: odd ones are loaded. A sample
// taken across slots is dropped.
type slot int32

func (s slot) loaded() bool { return s%2 == 1 }

// Acceptance (issue 7): one source at 50× the normal rate is limited while
// other customers' p99 latency stays within 2× of the unloaded figure. The
// customers and the flooder are real TCP clients on distinct loopback
// addresses; nothing is told by a header.
func TestFloodFromOneAddressSparesOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 40 seconds")
	}
	// Limits a customer never meets at one message per 400 ms, and that
	// hold the flooder to a twenty-fifth of its rate.
	base := testutil.StartApp(t, func(c *config.Config) {
		c.Security.RateLimits.IP = config.RateLimit{Rate: 5, Burst: 10}
		c.Security.RateLimits.ConversationCreate = config.RateLimit{Rate: 1, Burst: 5}
		c.Security.RateLimits.Conversation = config.RateLimit{Rate: 5, Burst: 10}
	})
	var (
		now     atomic.Int32 // the current slot; -1 while warming up
		mu      sync.Mutex
		samples = map[bool][]time.Duration{} // by loaded
		refused int                          // customers' 429s
		failed  []string                     // customers' other failures
	)
	now.Store(-1)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	customer := func(hc *http.Client, i int) {
		var conv testutil.Conversation
		for n := 0; ctx.Err() == nil; n++ {
			if n%8 == 0 { // a fresh conversation now and then, as real customers do
				a, err := request(hc, "POST", base+"/api/v1/conversations", "", map[string]string{"locale": "en"})
				if err == nil && a.status == http.StatusCreated {
					err = json.Unmarshal(a.body, &conv)
				}
				mu.Lock()
				if err != nil || a.status != http.StatusCreated {
					if a.status == http.StatusTooManyRequests {
						refused++
					} else if ctx.Err() == nil {
						failed = append(failed, "create: "+string(a.body)+errText(err))
					}
					mu.Unlock()
					return
				}
				mu.Unlock()
			}
			sl := slot(now.Load())
			start := time.Now()
			a, err := request(hc, "POST", base+"/api/v1/conversations/"+conv.ID+"/messages", conv.Token,
				map[string]string{"text": floodQuestions[(i+n)%len(floodQuestions)]})
			took := time.Since(start)
			mu.Lock()
			switch {
			case err != nil:
				if ctx.Err() == nil {
					failed = append(failed, err.Error())
				}
			case a.status == http.StatusTooManyRequests:
				refused++
			case a.status != http.StatusOK:
				failed = append(failed, string(a.body))
			case sl >= 0 && slot(now.Load()) == sl:
				samples[sl.loaded()] = append(samples[sl.loaded()], took)
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(customerThink):
			}
		}
	}
	for i := range floodCustomers {
		hc := testutil.HTTPFrom(testutil.Loopback(t, byte(101+i)), 2)
		wg.Go(func() { customer(hc, i) })
	}

	// The flooder: one address, floodFactor × a customer's rate over a few
	// connections, running in the loaded slots only.
	var floodOK, flood429, floodOther atomic.Int64
	flooder := testutil.HTTPFrom(testutil.Loopback(t, 200), floodWorkers)
	floodConvs := make([]testutil.Conversation, floodWorkers)
	for w := range floodConvs {
		floodConvs[w] = startConversation(t, flooder, base)
	}
	interval := time.Duration(float64(customerThink) / floodFactor * floodWorkers)
	for w := range floodWorkers {
		wg.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if !slot(now.Load()).loaded() {
					continue
				}
				c := floodConvs[w]
				a, err := request(flooder, "POST", base+"/api/v1/conversations/"+c.ID+"/messages", c.Token,
					map[string]string{"text": floodQuestions[n%len(floodQuestions)]})
				switch {
				case err != nil:
					if ctx.Err() == nil {
						floodOther.Add(1)
					}
				case a.status == http.StatusOK:
					floodOK.Add(1)
				case a.status == http.StatusTooManyRequests:
					flood429.Add(1)
				default:
					floodOther.Add(1)
				}
			}
		})
	}

	time.Sleep(3 * time.Second) // warm-up: connections, caches, first conversations
	var floodStart time.Time
	for i := range floodSlots {
		now.Store(int32(i))
		if i == 1 {
			floodStart = time.Now()
		}
		time.Sleep(floodSlot)
	}
	now.Store(floodSlots) // even: the flood stops
	floodFor := time.Since(floodStart)
	stop()
	wg.Wait()

	unloaded, loaded := samples[false], samples[true]
	p99u, p99l := pct(unloaded, 99), pct(loaded, 99)
	bound := 2 * max(p99u, latencyFloor)
	sent := floodOK.Load() + flood429.Load() + floodOther.Load()
	loadedFor := floodSlots / 2 * floodSlot
	t.Logf("customers: unloaded n=%d p50=%s p99=%s max=%s; loaded n=%d p50=%s p99=%s max=%s; bound %s",
		len(unloaded), pct(unloaded, 50), p99u, pct(unloaded, 100), len(loaded), pct(loaded, 50), p99l, pct(loaded, 100), bound)
	t.Logf("flooder: %d requests in %s (%.0f/s; a customer sends %.1f/s): %d answered, %d refused with 429, %d other",
		sent, loadedFor, float64(sent)/loadedFor.Seconds(), float64(time.Second)/float64(customerThink),
		floodOK.Load(), flood429.Load(), floodOther.Load())

	if len(failed) > 0 {
		t.Errorf("customers' requests failed %d times, first: %s", len(failed), failed[0])
	}
	if refused > 0 {
		t.Errorf("customers got %d 429s", refused)
	}
	if min(len(unloaded), len(loaded)) < 300 {
		t.Fatalf("too few samples for a p99: %d unloaded, %d loaded", len(unloaded), len(loaded))
	}
	// The flooder kept (nearly) its pace and was held to its address's
	// limit: 5 a second (and the burst of 10) over the time it flooded,
	// whatever its pace; the rest refused.
	if want := int64(0.7 * floodFactor / customerThink.Seconds() * loadedFor.Seconds()); sent < want {
		t.Errorf("the flooder sent only %d requests, want at least %d: it was not flooding", sent, want)
	}
	if allowed := int64(5*floodFor.Seconds()) + 10 + 1; floodOK.Load() > allowed || flood429.Load() < sent/2 || floodOther.Load() > 0 {
		t.Errorf("the flooder was not held to its limits (at most %d answers in %s): %d answered, %d refused, %d other",
			allowed, floodFor.Round(time.Millisecond), floodOK.Load(), flood429.Load(), floodOther.Load())
	}
	if p99l > bound {
		t.Errorf("customers' p99 under the flood is %s, over the bound %s (2× the unloaded %s, floor %s)", p99l, bound, p99u, latencyFloor)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " " + err.Error()
}

// pct is the p-th percentile of d by nearest rank (100: the maximum).
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
