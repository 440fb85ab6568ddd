package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/drill"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/nlu"
)

type drillCommand struct {
	env       Env
	json      bool
	url       string
	token     string
	tokenFile string
	logFile   string
	keep      bool
	// models is shared by the servers of one run: each starts over the
	// demo knowledge base, whose model is then trained once.
	models nlu.Memo
}

func (c *drillCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("drill", c.env, "drill SCENARIO|all [--json] [--url URL --token TOKEN] [--log FILE]\n\nScenarios: "+
		strings.Join(drill.Names(), ", ")+"\n\nWithout --url, each scenario starts its own Steward on a fresh data directory "+
		"(demo knowledge base, fault injection on) and a loopback webhook receiver for its notifications.")
	fs.BoolVar(&c.json, "json", false, "print the scorecard as JSON (an array for all)")
	fs.StringVar(&c.url, "url", "", "drill a running Steward started with --enable-fault-injection instead")
	fs.StringVar(&c.token, "token", "", "an admin's bearer token or API key for --url (default $STEWARD_DRILL_TOKEN or $STEWARD_TOKEN; a flag is seen by ps)")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the token for --url from this file (default $STEWARD_TOKEN_FILE)")
	fs.StringVar(&c.logFile, "log", "", "write the drilled servers' logs to FILE (default: discarded)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("name one scenario, or all (%s)", strings.Join(drill.Names(), ", "))
	}
	var scenarios []drill.Scenario
	if rest[0] == "all" {
		scenarios = drill.Scenarios()
	} else if s, ok := drill.Find(rest[0]); ok {
		scenarios = []drill.Scenario{s}
	} else {
		return usagef("unknown scenario %q (known: %s, all)", rest[0], strings.Join(drill.Names(), ", "))
	}
	if c.url != "" {
		if c.url, err = serverURL(c.url); err != nil {
			return err
		}
		if c.token, err = serverToken(c.env, c.token, c.tokenFile, "STEWARD_DRILL_TOKEN"); err != nil {
			return err
		}
		if c.token == "" {
			return usagef("--url needs a token: STEWARD_TOKEN (or STEWARD_DRILL_TOKEN), --token-file or --token: an admin's bearer token or API key")
		}
	}
	logs := io.Discard
	if c.logFile != "" {
		f, err := os.Create(c.logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		logs = &lockedWriter{w: f}
	}
	var cards []*drill.Scorecard
	for _, s := range scenarios {
		if !c.json {
			fmt.Fprintf(c.env.Stderr, "drill %s: %s ...\n", s.Name, s.Description)
		}
		card, err := c.one(ctx, s, logs)
		if err != nil {
			return fmt.Errorf("drill %s: %w", s.Name, err)
		}
		cards = append(cards, card)
		if !c.json {
			printCard(c.env.Stdout, card)
		}
	}
	var missed []string
	for _, card := range cards {
		if !card.Passed {
			missed = append(missed, card.Scenario+" ("+strings.Join(card.Failures, "; ")+")")
		}
	}
	if c.json {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		var v any = cards
		if rest[0] != "all" {
			v = cards[0]
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	if len(missed) > 0 {
		// Named with their reasons: in CI this is the last line printed.
		return fmt.Errorf("drills missed their targets: %s", strings.Join(missed, ", "))
	}
	return nil
}

// one runs a scenario against --url, or against a Steward of its own.
func (c *drillCommand) one(ctx context.Context, s drill.Scenario, logs io.Writer) (*drill.Scorecard, error) {
	if c.url != "" {
		entries, err := fetchEntries(ctx, c.url, c.token)
		if err != nil {
			return nil, err
		}
		return drill.Run(ctx, drill.Target{URL: strings.TrimRight(c.url, "/"), Token: c.token, Entries: entries}, s, drill.Timing{})
	}
	primary, err := drill.NewReceiver()
	if err != nil {
		return nil, err
	}
	defer primary.Close()
	backup, err := drill.NewReceiver()
	if err != nil {
		return nil, err
	}
	defer backup.Close()
	dir, err := os.MkdirTemp("", "steward-drill-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.EnableFaultInjection = "127.0.0.1:0", filepath.Join(dir, "data"), true, true
	cfg.SQLiteSync = "NORMAL"
	cfg.ShutdownTimeout = 10 * time.Second
	// The simulated customers and the flood all come from 127.0.0.1: the
	// per-address limits would stop the flood before the monitor sees it.
	// The drill measures the posture throttle, which works per source.
	cfg.Security.LiftLimits()
	cfg.Notify.Channels = []config.Channel{
		{Name: "drill-primary", Type: "webhook", MinLevel: "info", Settings: map[string]any{"url": primary.URL()}},
		{Name: "drill-backup", Type: "webhook", MinLevel: "info", Settings: map[string]any{"url": backup.URL()}},
	}
	if s.NeedsModel() {
		// Two stand-in OpenAI-compatible APIs on loopback: the primary
		// model and the fallback. The budget is sized to the simulated
		// customers (about three unsure questions a second), so that the
		// drill measures the outage, not the budget.
		models, err := startModels()
		if err != nil {
			return nil, err
		}
		defer models[0].Close()
		defer models[1].Close()
		cfg.LLM = config.LLM{BaseURL: models[0].URL(), Model: "drill-primary", CallsPerMinute: 1200,
			Fallback: config.LLMEndpoint{BaseURL: models[1].URL(), Model: "drill-fallback"}}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})).With("drill", s.Name)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a, err := app.Open(runCtx, cfg, logger, app.WithModelMemo(&c.models))
	if err != nil {
		stop()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	base := "http://" + a.Addr()
	var admin app.DemoAccount
	for _, d := range a.DemoAccounts() {
		if d.Role == auth.RoleAdmin {
			admin = d
		}
	}
	token, err := login(ctx, base, admin.Email, admin.Password)
	if err != nil {
		return nil, err
	}
	entries, err := knowledge.DemoEntries()
	if err != nil {
		return nil, err
	}
	return drill.Run(ctx, drill.Target{URL: base, Token: token, Primary: primary, Backup: backup, Entries: entries}, s, drill.Timing{})
}

// startModels starts the stand-ins of a primary and a fallback model.
func startModels() ([2]*drill.Model, error) {
	var ms [2]*drill.Model
	for i := range ms {
		m, err := drill.NewModel()
		if err != nil {
			if i > 0 {
				ms[0].Close()
			}
			return ms, fmt.Errorf("start a stand-in model: %w", err)
		}
		ms[i] = m
	}
	return ms, nil
}

func login(ctx context.Context, base, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("log in as %s: status %d", email, resp.StatusCode)
	}
	return out.Token, nil
}

func fetchEntries(ctx context.Context, base, token string) ([]knowledge.Entry, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(base, "/")+"/api/v1/kb/export", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("export the knowledge base: status %d", resp.StatusCode)
	}
	return knowledge.Decode(resp.Body, knowledge.FormatJSON)
}

func printCard(w io.Writer, c *drill.Scorecard) {
	f := func(p *float64) string {
		if p == nil {
			return "never"
		}
		return fmt.Sprintf("%.1fs", *p)
	}
	verdict := "PASSED"
	if !c.Passed {
		verdict = "FAILED: " + strings.Join(c.Failures, "; ")
	}
	fmt.Fprintf(w, "%-22s detected %s, mitigated %s, recovered %s; 5xx %d, lost %d, unserved %d, notifications %d, turns %d — %s\n",
		c.Scenario, f(c.DetectedAfterS), f(c.MitigatedAfterS), f(c.RecoveredAfterS), c.Customer5xx, c.LostMessages,
		c.Unserved, c.Notifications, c.Turns, verdict)
}

// lockedWriter serialises the drilled servers' log lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
