package testutil

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/nlu"
)

// StartApp runs a real Steward on 127.0.0.1:0 with the demo knowledge base
// over the given database options (modify may adjust the config) and
// returns its base URL. It stops when the test ends.
func StartApp(t testing.TB, modify func(*config.Config)) string {
	t.Helper()
	return Start(t, modify).URL
}

// Running is a Steward started for a test.
type Running struct {
	URL     string
	Demo    []app.DemoAccount // the demo admin first, then the demo agents
	DataDir string
	// Stop shuts the app down before the test ends (it stops at the end
	// anyway): what its clients see when the server goes away.
	Stop func()
}

// Start is StartApp that also returns the demo accounts.
func Start(t testing.TB, modify func(*config.Config)) *Running {
	t.Helper()
	return start(t, modify, nil)
}

// StartLogging is Start with every log line, debug level up, written to w.
func StartLogging(t testing.TB, modify func(*config.Config), w io.Writer) *Running {
	t.Helper()
	return start(t, modify, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

func start(t testing.TB, modify func(*config.Config), logger *slog.Logger) *Running {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.Demo = "127.0.0.1:0", t.TempDir(), true
	cfg.ShutdownTimeout = 5 * time.Second
	// Tests drive many customers from 127.0.0.1 at machine speed; a test
	// of the limits sets them in modify.
	cfg.Security.LiftLimits()
	if modify != nil {
		modify(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, logger, app.WithModelMemo(&models))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("app stopped with: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("app did not stop within 15s")
			}
		})
	}
	t.Cleanup(stop)
	return &Running{URL: "http://" + a.Addr(), Demo: a.DemoAccounts(), DataDir: cfg.DataDir, Stop: stop}
}

// models is shared by every app a test process starts: most start over
// the demo knowledge base, whose model training (seconds, and several
// times that under the race detector) then happens once per process
// instead of once per app. Training is deterministic, so an app gets the
// model it would have trained itself.
var models nlu.Memo

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// StartClosingSoon is Start with a desk (in UTC) open since two hours ago
// and closing in three to four minutes, and one online agent who takes a
// single chat: for the tests of a queue that outlasts the opening hours.
// A closing time less than the five minutes a conversation is assumed to
// take leaves a slow machine time enough to queue a customer before it.
func StartClosingSoon(t testing.TB) (run *Running, agent *Staff) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Minute)
	run = Start(t, func(c *config.Config) {
		c.Desk.Timezone, c.Desk.Open, c.Desk.Close = "UTC", now.Add(-2*time.Hour).Format("15:04"), now.Add(4*time.Minute).Format("15:04")
	})
	admin := Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent = admin.AddUser("closing@example.com", "agent", map[string]any{"max_chats": 1})
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	return run, agent
}
