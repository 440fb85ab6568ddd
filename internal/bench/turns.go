package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// messageFrame is a message as Steward's API shows it (the fields the
// benchmark reads).
type messageFrame struct {
	ID      string `json:"id"`
	Seq     int64  `json:"seq"`
	Role    string `json:"role"`
	Text    string `json:"text,omitempty"`
	Outcome string `json:"outcome,omitempty"`
}

// turnReply is the answer to POST /api/v1/conversations/{id}/messages.
type turnReply struct {
	State    string         `json:"state"`
	Customer messageFrame   `json:"customer_message"`
	Messages []messageFrame `json:"messages"`
}

// conversationReply is the answer to creating or fetching a conversation.
type conversationReply struct {
	ID       string         `json:"id"`
	Token    string         `json:"token"`
	State    string         `json:"state"`
	Messages []messageFrame `json:"messages"`
}

// lastSeq is the sequence number of the conversation's newest message.
func (c *conversationReply) lastSeq() int64 {
	var s int64
	for _, m := range c.Messages {
		s = max(s, m.Seq)
	}
	return s
}

// conv is a conversation a simulated customer had, and the ids of the
// messages the server acknowledged in it.
type conv struct {
	id, token string
	acked     []string
	sent      int // messages sent on it, acknowledged or not
}

// ledger keeps every conversation of a scenario, for the check that no
// acknowledged message was lost.
type ledger struct {
	mu    sync.Mutex
	convs []*conv
}

func (l *ledger) add(c *conv) {
	l.mu.Lock()
	l.convs = append(l.convs, c)
	l.mu.Unlock()
}

// createConversation starts a conversation in locale.
func createConversation(ctx context.Context, client *http.Client, base, locale string) (*conversationReply, error) {
	body := mustJSON(map[string]string{"locale": locale})
	var c conversationReply
	if err := doJSON(ctx, client, "POST", base+"/api/v1/conversations", "", body, http.StatusCreated, &c); err != nil {
		return nil, fmt.Errorf("create conversation: %w", err)
	}
	if c.ID == "" || c.Token == "" {
		return nil, fmt.Errorf("create conversation: no id or token in the answer")
	}
	return &c, nil
}

// TurnsResult is the turn rate and latency of one scenario (REST or
// WebSocket), and what the transcripts said afterwards.
type TurnsResult struct {
	Concurrency int     `json:"concurrency"`
	DurationSec float64 `json:"duration_sec"`
	Turns       int     `json:"turns"`
	TurnsPerSec float64 `json:"turns_per_sec"`
	Latency
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// Lost counts messages the server acknowledged that its transcript
	// does not hold.
	Lost int `json:"lost"`
	// Unanswered counts acknowledged messages with no reply after them in
	// the transcript; Extra, customer messages there beyond those sent (a
	// message stored twice), and acknowledgements naming a message another
	// one of the conversation was acknowledged with.
	Unanswered            int `json:"unanswered"`
	Extra                 int `json:"extra"`
	VerifiedConversations int `json:"verified_conversations"`
	VerifiedMessages      int `json:"verified_messages"`
	// Conversations counts the conversations used; a customer handed to
	// the desk starts a new one.
	Conversations int            `json:"conversations"`
	Outcomes      map[string]int `json:"outcomes,omitempty"`
	// RatioToBaseline is TurnsPerSec over the echo server's requests per
	// second measured in the same run (absent without a baseline).
	RatioToBaseline *float64 `json:"ratio_to_baseline,omitempty"`
	ServerProcess
}

// ServerProcess is what the benchmark saw of the server's process during a
// scenario (absent when it does not know the server's process id).
type ServerProcess struct {
	ServerCPUSec *float64 `json:"server_cpu_sec,omitempty"`
	BenchCPUSec  float64  `json:"bench_cpu_sec"`
	ServerRSSMB  *float64 `json:"server_rss_mb,omitempty"`
	// ServerStatus is the public status (/api/v1/status) after the run:
	// "operational" unless the server degraded itself under the load.
	ServerStatus string `json:"server_status,omitempty"`
	// ServerLogErrors counts ERROR lines and panics in the server's log.
	ServerLogErrors *int `json:"server_log_errors,omitempty"`
}

// restCustomer is one simulated customer of the turns scenario.
type restCustomer struct {
	client *http.Client
	base   string
	ask    *asker
	ledger *ledger
	conv   *conv
	// outcomes of the bot's replies, and handoffs that ended a conversation.
	outcomes tally
}

func (c *restCustomer) tally() tally { return c.outcomes }

func (c *restCustomer) end() {}

func (c *restCustomer) begin(ctx context.Context) error {
	cr, err := createConversation(ctx, c.client, c.base, c.ask.locale())
	if err != nil {
		return err
	}
	c.conv = &conv{id: cr.ID, token: cr.Token}
	c.ledger.add(c.conv)
	return nil
}

// turn sends one message and reads the answer. A customer whose
// conversation left the bot (handed to the desk) starts a new one before
// the next message.
func (c *restCustomer) turn(ctx context.Context) error {
	if c.conv == nil {
		if err := c.begin(ctx); err != nil {
			return err
		}
	}
	var r turnReply
	url := c.base + "/api/v1/conversations/" + c.conv.id + "/messages"
	c.conv.sent++
	if err := doJSON(ctx, c.client, "POST", url, c.conv.token, mustJSON(c.ask.next()), http.StatusOK, &r); err != nil {
		return err
	}
	if r.Customer.ID == "" {
		return kindErrorf("no_ack", "the answer names no customer message")
	}
	c.conv.acked = append(c.conv.acked, r.Customer.ID)
	if r.State != "bot" {
		c.conv = nil
	}
	if len(r.Messages) == 0 {
		return kindErrorf("no_reply", "the bot did not reply (state %s)", r.State)
	}
	c.outcomes[r.Messages[len(r.Messages)-1].Outcome]++
	return nil
}

// customer is one simulated customer of a turns scenario.
type customer interface {
	begin(ctx context.Context) error // the first conversation (and its stream)
	turn(ctx context.Context) error
	tally() tally
	end() // leave, as a browser leaving the page does
}

// runTurns runs the turns scenario against base.
func runTurns(ctx context.Context, o *Options, base string, qs []question) (*TurnsResult, *ledger, error) {
	return runCustomers(ctx, o, "turns", func(client *http.Client, i int, led *ledger) customer {
		return &restCustomer{client: client, base: base, ask: newAsker(qs, i), ledger: led, outcomes: tally{}}
	})
}

// runCustomers drives o.Concurrency customers made by newCustomer for
// o.Duration and sums what they saw.
func runCustomers(ctx context.Context, o *Options, name string, newCustomer func(client *http.Client, i int, led *ledger) customer) (*TurnsResult, *ledger, error) {
	client := newHTTPClient(o.Concurrency)
	defer client.CloseIdleConnections()
	led := &ledger{}
	customers := make([]customer, o.Concurrency)
	defer func() {
		for _, c := range customers {
			if c != nil {
				c.end()
			}
		}
	}()
	res, err := drive(ctx, o.Concurrency, o.Duration, func(ctx context.Context, i int) (step, error) {
		c := newCustomer(client, i, led)
		customers[i] = c
		if err := c.begin(ctx); err != nil {
			return nil, err
		}
		return c.turn, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	logSamples(o, name, res)
	outcomes := tally{}
	for _, c := range customers {
		if c != nil {
			outcomes.add(c.tally())
		}
	}
	out := turnsResult(o, res)
	out.Outcomes = outcomes.orNil()
	return out, led, nil
}

// turnsResult turns drive's measurements into a TurnsResult.
func turnsResult(o *Options, res *loadResult) *TurnsResult {
	return &TurnsResult{Concurrency: o.Concurrency, DurationSec: round(res.elapsed.Seconds(), 2), Turns: res.ok,
		TurnsPerSec: round(float64(res.ok)/res.elapsed.Seconds(), 1), Latency: Summarize(res.latencies),
		Errors: res.errors.sum(), ErrorKinds: res.errors.orNil()}
}

// verify fetches the transcripts of (at most limit of) the ledger's
// conversations and counts acknowledged messages missing from them.
func verify(ctx context.Context, base string, led *ledger, limit int, r *TurnsResult) error {
	client := newHTTPClient(16)
	defer client.CloseIdleConnections()
	convs := led.convs
	r.Conversations = len(convs)
	if len(convs) > limit {
		// An even sample across the run.
		step := float64(len(convs)) / float64(limit)
		sample := make([]*conv, 0, limit)
		for i := range limit {
			sample = append(sample, convs[int(float64(i)*step)])
		}
		convs = sample
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	sem := make(chan struct{}, 16)
	for _, c := range convs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			defer cancel()
			var t conversationReply
			err := doJSON(rctx, client, "GET", base+"/api/v1/conversations/"+c.id, c.token, nil, http.StatusOK, &t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("verify conversation %s: %w", c.id, err)
				}
				return
			}
			// Every acknowledged message exactly once, each answered, and
			// nothing the customer did not send: ids alone let a message
			// stored twice, an extra one or a missing reply pass.
			at := make(map[string]int, len(t.Messages)) // customer message id → its index
			customers := 0
			for i, m := range t.Messages {
				if m.Role == "customer" {
					at[m.ID] = i
					customers++
				}
			}
			if customers > c.sent {
				r.Extra += customers - c.sent
			}
			acked := make(map[string]bool, len(c.acked))
			for _, id := range c.acked {
				if acked[id] {
					r.Extra++ // acknowledged with the id of an earlier message
					continue
				}
				acked[id] = true
				i, ok := at[id]
				switch {
				case !ok:
					r.Lost++
				case i+1 >= len(t.Messages) || t.Messages[i+1].Role == "customer":
					r.Unanswered++
				}
			}
			r.VerifiedConversations++
			r.VerifiedMessages += len(c.acked)
		})
	}
	wg.Wait()
	return firstErr
}
