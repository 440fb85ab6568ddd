// Package app is the composition root: configuration → store → domains →
// HTTP. It owns every long-lived component and shuts them down in order.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"

	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/limit"
	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/nlu"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/realtime"
	"github.com/steward-cs/steward/internal/store"
)

// knowledgeSync is how often a node checks whether another node or a
// command activated another knowledge release.
const knowledgeSync = 2 * time.Second

// hubBuffer is how many events a customer's stream may fall behind before
// it catches up from the store: a turn is two or three events, and every
// idle socket holds this much room (32 events are 1 KB; 256 were 8 KB).
const hubBuffer = 32

// SQLiteFile is the name of the embedded database inside the data directory.
const SQLiteFile = "steward.db"

// OpenStore opens the configured database.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.DB, error) {
	return store.Open(ctx, store.Options{DatabaseURL: cfg.Database, SQLitePath: filepath.Join(cfg.DataDir, SQLiteFile),
		Synchronous: cfg.SQLiteSync, Logger: logger})
}

// App is a running Steward.
type App struct {
	cfg      config.Config
	version  string // the build, for backup manifests ("" for the module's)
	logger   *slog.Logger
	db       *store.DB
	engine   *conversation.Engine
	auth     *auth.Service
	desk     *desk.Desk
	kb       *knowledge.Service
	flags    *quality.Flags
	audit    *audit.Log
	demo     []DemoAccount
	hub      *realtime.Hub
	crisis   *crisis
	vault    *guard.Vault
	listener net.Listener
	server   *http.Server
	closing  chan struct{}
	sockets  sync.WaitGroup // the live streams' goroutines
	node     string
	leader   leader
	cluster  *realtime.Cluster // nil on SQLite: one node
	dirLock  *DirLock          // the data directory, held until Run has closed the store
}

// Option adjusts how Open builds the app beyond its configuration.
type Option func(*openOptions)

type openOptions struct {
	models  *nlu.Memo
	version string
}

// WithVersion names the build in what the app writes down (the manifests of
// scheduled backups), as the commands do.
func WithVersion(v string) Option { return func(o *openOptions) { o.version = v } }

// WithModelMemo lets the app take trained models from m and leave its own
// there: a process that starts many apps over the same knowledge base (a
// test suite) then trains each model once.
func WithModelMemo(m *nlu.Memo) Option { return func(o *openOptions) { o.models = m } }

// Open builds every component and binds the listening socket; Run serves.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger, options ...Option) (_ *App, err error) {
	var oo openOptions
	for _, o := range options {
		o(&oo)
	}
	// Whoever built the logger, no line of ours carries personal data.
	logger = slog.New(guard.LogHandler(logger.Handler()))
	a := &App{cfg: cfg, logger: logger, hub: realtime.NewHub(hubBuffer), closing: make(chan struct{}), node: cfg.NodeName(),
		version: oo.version}
	// One server per data directory: its database, spool and keys are this
	// process's alone (PostgreSQL nodes each have their own directory).
	if a.dirLock, err = LockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.dirLock.Release()
		}
	}()
	// The address is tried first: a port already taken is said at once,
	// before the migrations, the config audit, the demo accounts' reset and
	// the model's training (seconds to minutes). It is bound for good only
	// at the end: bound now, it would take connections it cannot answer.
	probe, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	probe.Close()
	defer func() {
		if err != nil {
			close(a.closing) // ends what watches it (the HTTP layer's closing context)
		}
	}()
	if a.db, err = OpenStore(ctx, cfg, logger); err != nil {
		return nil, err
	}
	if a.db.Clustered() {
		a.cluster = realtime.NewCluster(a.node, a.db, logger)
	}
	defer func() {
		if err != nil {
			a.db.Close(context.Background())
		}
	}()
	if err := a.prepareSchema(ctx); err != nil {
		return nil, err
	}
	if cfg.Demo {
		// Before anything of the demo is written: its knowledge base and
		// canned replies must not land on a real desk either.
		if err := a.refuseRealDesk(ctx); err != nil {
			return nil, err
		}
	}
	builtin, err := conversation.LoadBuiltin()
	if err != nil {
		return nil, err
	}
	if a.crisis, err = openCrisis(ctx, cfg, a.db, a.node, &a.leader, logger); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.crisis.close()
		}
	}()
	pub := httpapi.HubPublisher{Hub: a.hub, Cluster: a.cluster}
	ring, err := openKeyring(ctx, cfg, a.db, logger)
	if err != nil {
		return nil, err
	}
	a.vault = guard.NewVault(a.db, ring, cfg.Privacy.RetentionOrDefault(), logger)
	firewall := guard.NewFirewall()
	engineOpts := conversation.Options{Protector: guard.NewProtector(ring), Firewall: func(text string) (bool, string) {
		v := firewall.Check(text)
		return v.Attack, v.Category
	},
		Builtin: builtin, Publisher: pub, Logger: logger, DefaultLocale: cfg.DefaultLocale,
		Contacts: knowledge.Contacts{Domains: cfg.Knowledge.Gate.AllowedDomains, Phones: cfg.Knowledge.Gate.AllowedPhones},
		Observer: observer{mon: a.crisis.mon}, Admit: func(source string) bool {
			return a.crisis.ctl == nil || a.crisis.ctl.Allow(source)
		}}
	if a.crisis.faults != nil {
		engineOpts.Faults = a.crisis.faults
	}
	if cfg.LLM.Enabled() {
		var observe func(provider, result string)
		if cfg.LLM.Fallback != (config.LLMEndpoint{}) {
			observe = a.crisis.observeProviders()
		}
		model, err := provider(cfg.LLM, a.crisis.faults, observe, logger)
		if err != nil {
			return nil, err
		}
		// A turn waiting for the model holds no conversation lock of the
		// cluster's (conversation.Engine.attempt), so max_concurrent is the
		// same on one node or many.
		engineOpts.LLM = llm.New(model, llm.Options{Timeout: cfg.LLM.Timeout, CallsPerMinute: cfg.LLM.CallsPerMinute,
			MaxTokens: cfg.LLM.MaxTokens, MaxInFlight: cfg.LLM.MaxConcurrent, Observe: a.crisis.observeLLM()})
		logger.Info("language model answers unsure questions", "model", cfg.LLM.Model, "fallback", cfg.LLM.Fallback.Model)
	}
	if a.db.Clustered() {
		engineOpts.Lock = a.db.LockConversation
	}
	a.engine = conversation.NewEngine(a.crisis.spool, engineOpts)
	a.audit = audit.New(a.db, logger)
	if err := recordConfig(ctx, a.audit, cfg); err != nil {
		return nil, err
	}
	a.flags = quality.NewFlags(a.db)
	target := &servingTarget{engine: a.engine}
	a.kb = NewKnowledge(cfg, a.db, builtin, target, a.audit, a.flags, logger, oo.models)
	if err := a.loadKnowledge(ctx); err != nil {
		return nil, err
	}
	a.auth = auth.NewService(a.db, auth.Options{Logger: logger, Audit: a.audit})
	deskOpts, err := deskOptions(cfg.Desk)
	if err != nil {
		return nil, err
	}
	deskOpts.Logger, deskOpts.Vault, deskOpts.Leading = logger, a.vault, a.leader.Leading
	a.desk = desk.New(deskStore{DB: a.db, spool: a.crisis.spool}, a.engine, pub, deskOpts)
	a.engine.SetDesk(a.desk)
	if cfg.Demo {
		if err := a.desk.SeedCanned(ctx, desk.DemoCanned()); err != nil {
			return nil, fmt.Errorf("seed canned replies: %w", err)
		}
		if a.demo, err = a.demoAccounts(ctx); err != nil {
			return nil, err
		}
	}
	if err = a.crisis.finish(ctx, cfg, a); err != nil {
		return nil, err
	}
	if ctl := a.crisis.ctl; ctl != nil {
		refresh := ctl.Refresh
		target.after.Store(&refresh)
	}
	var identities *auth.Identities
	if cfg.Security.IdentitySecret != "" {
		if identities, err = auth.NewIdentities(cfg.Security.IdentitySecret, nil); err != nil {
			return nil, err
		}
	}
	reportZone := time.UTC
	if cfg.Desk.Timezone != "" {
		if reportZone, err = time.LoadLocation(cfg.Desk.Timezone); err != nil {
			return nil, fmt.Errorf("desk.timezone: %w", err)
		}
	}
	handler := httpapi.New(httpapi.Options{Crisis: a.crisis.api(a), Engine: a.engine, Auth: a.auth, Desk: a.desk, Hub: a.hub, Cluster: a.cluster, Store: a.db,
		Quality: quality.NewService(a.db, ratingTags(cfg.Desk)), Knowledge: a.kb, Flags: a.flags, Reports: a.db, ReportZone: reportZone,
		Audit:  a.audit,
		Logger: logger, OriginPatterns: cfg.AllowedOrigins, Closing: a.closing, Sockets: &a.sockets, SecureCookies: cfg.SecureCookies,
		Limits: limits(cfg.Security), FrameAncestors: cfg.Security.FrameAncestorSources(), Identities: identities})
	t := cfg.Security.Timeouts
	a.server = &http.Server{Handler: handler, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	if a.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return a, nil
}

// prepareSchema migrates when allowed, and otherwise refuses a stale schema.
func (a *App) prepareSchema(ctx context.Context) error {
	applied, _, err := a.db.SettledSchemaVersion(ctx)
	if err != nil {
		return err
	}
	if applied == 0 || a.cfg.AutoMigrates() {
		if _, err := a.db.Migrate(ctx); err != nil {
			return err
		}
	}
	return a.db.CheckSchema(ctx)
}

// loadKnowledge seeds the demo knowledge base into an empty store when
// asked, then serves the active release (publishing the first one if
// there is none).
func (a *App) loadKnowledge(ctx context.Context) error {
	all, err := a.kb.Records(ctx, knowledge.Filter{All: true})
	if err != nil {
		return err
	}
	if len(all) == 0 && a.cfg.Demo {
		demo, err := knowledge.DemoEntries()
		if err != nil {
			return err
		}
		if _, err := a.kb.Import(ctx, knowledge.System, demo, true); err != nil {
			return fmt.Errorf("load demo knowledge base: %w", err)
		}
		a.logger.Info("loaded the demo knowledge base", "entries", len(demo))
	}
	start := time.Now()
	if err := a.kb.Load(ctx); err != nil {
		return fmt.Errorf("load knowledge release: %w", err)
	}
	active := a.kb.Active()
	if active.Release == nil {
		a.logger.Warn("the knowledge base is empty: the bot can only make small talk and hand off (start with --demo, or import and publish with `steward kb import`)")
		return nil
	}
	a.logger.Info("knowledge release ready", "release", active.Release.ID, "entries", active.Index.Len(),
		"model", active.Index.ModelInfo(), "took_ms", time.Since(start).Milliseconds())
	return nil
}

// servingTarget serves each release the knowledge lifecycle activates to
// the engine, then has the incident controller hand the engine its posture
// again: level 3 answers from the active release's essential entries, and
// a release activated under it (a rollback, a fix) left the engine judging
// "essential" by the release that was active when level 3 began.
type servingTarget struct {
	engine *conversation.Engine
	after  atomic.Pointer[func()]
}

func (t *servingTarget) SetIndex(ix *knowledge.Index) {
	t.engine.SetIndex(ix)
	if f := t.after.Load(); f != nil {
		(*f)()
	}
}

// NewKnowledge is the knowledge lifecycle as configured, over db: the
// server and the kb commands run the same one. Releases it activates
// resolve (or reopen) the correction flags they fix; target, if not nil,
// serves them (nil for a command, which a running server follows); models,
// if not nil, remembers trained models.
func NewKnowledge(cfg config.Config, db *store.DB, builtin *conversation.Builtin, target knowledge.Target,
	log *audit.Log, flags *quality.Flags, logger *slog.Logger, models *nlu.Memo) *knowledge.Service {
	g := cfg.Knowledge.Gate
	return knowledge.NewService(db, knowledge.Options{TwoPersonRule: cfg.Knowledge.TwoPerson(), Extra: builtin.Examples(),
		Target: target, Audit: log, Logger: logger, Models: models, Gate: knowledge.GateOptions{MinAccuracy: g.MinAccuracy, MaxAccuracyDrop: g.MaxAccuracyDrop,
			Folds: g.Folds, MaxHeldOut: g.MaxHeldOut, AllowedDomains: g.AllowedDomains, AllowedPhones: g.AllowedPhones},
		OnRelease: func(ctx context.Context, r *knowledge.Release) {
			n, err := flags.Released(ctx, r.ID, r.Versions)
			if err != nil {
				logger.Error("follow correction flags", "release", r.ID, "error", err)
			} else if n > 0 {
				logger.Info("correction flags follow the release", "release", r.ID, "flags", n)
			}
		}})
}

// Addr returns the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx is cancelled, then shuts down in order: stop
// accepting, drain in-flight requests, end live streams, close the store.
func (a *App) Run(ctx context.Context) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(a.listener) }()
	// The background workers outlive ctx until the HTTP server has drained.
	workers, stopWorkers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.desk.Run(workers) })
	wg.Go(func() { a.kb.Watch(workers, knowledgeSync) })
	wg.Go(func() { a.vault.Run(workers, time.Hour) })
	a.crisis.run(workers, &wg)
	wg.Go(func() {
		a.lead(workers, func(ctx context.Context, wg *sync.WaitGroup) {
			// A follower's view may be a moment old; a posture this node
			// served alone, without the database, is kept and stored.
			if err := a.crisis.ctl.TakeLead(ctx); err != nil {
				a.logger.Warn("reload the posture", "error", err)
			}
			a.crisis.lead(ctx, wg)
			a.runBackups(ctx, wg) // one node backs the shared database up
		})
	})
	if a.cluster != nil {
		wg.Go(func() { a.cluster.Run(workers, a.deliverRemote) })
		wg.Go(func() { a.follow(workers) })
	}
	a.logger.Info("listening", "addr", a.Addr(), "node", a.node, "database", a.cfg.Redacted())
	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	a.logger.Info("shutting down (a second signal stops at once)")
	stopping := time.Now()
	close(a.closing)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if serr := a.server.Shutdown(sctx); serr != nil {
		a.logger.Warn("http drain incomplete", "error", serr)
	}
	// The live streams, closed with closing, finish before the store does.
	streamsDone := make(chan struct{})
	go func() {
		a.sockets.Wait()
		close(streamsDone)
	}()
	select {
	case <-streamsDone:
	case <-sctx.Done():
		a.logger.Warn("live streams still open at shutdown")
	}
	stopWorkers()
	wg.Wait()
	a.crisis.close()
	if cerr := a.db.Close(sctx); cerr != nil {
		a.logger.Warn("close store", "error", cerr)
	}
	a.dirLock.Release()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	a.logger.Info("stopped", "took_ms", time.Since(stopping).Milliseconds())
	return err
}

// limits are the configured rate limits as the HTTP layer takes them.
func limits(c config.Security) httpapi.Limits {
	rate := func(r config.RateLimit) limit.Rate { return limit.Rate{PerSecond: r.Rate, Burst: r.Burst} }
	rl := c.RateLimits
	return httpapi.Limits{TrustedProxies: c.Proxies(), IP: rate(rl.IP), ConversationCreate: rate(rl.ConversationCreate),
		Conversation: rate(rl.Conversation), Login: rate(rl.Login), RefusedTurnCost: c.RefusedTurnCost,
		MaxWebSocketsPerIP: c.MaxWebSocketsPerIP, WebSocketMessages: rate(c.WebSocketMessages)}
}

func deskOptions(c config.Desk) (desk.Options, error) {
	opts := desk.Options{ManualOnly: c.ManualAssign}
	if c.HasHours() {
		h, err := desk.ParseHours(c.Timezone, c.Days, c.Open, c.Close)
		if err != nil {
			return opts, err
		}
		opts.Hours = h
	}
	return opts, nil
}

// ratingTags are the configured rating tags, or nil for the defaults.
func ratingTags(c config.Desk) []quality.RatingTag {
	var tags []quality.RatingTag
	for _, t := range c.RatingTags {
		tags = append(tags, quality.RatingTag{ID: t.ID, Label: map[string]string{"zh-CN": t.ZH, "en": t.EN}})
	}
	return tags
}

// DemoDomain is the domain of the demo's accounts.
const DemoDomain = "@demo.steward"

// DemoAccount is a demo user and the password it got at this start.
type DemoAccount struct {
	Email, Password string
	Role            auth.Role
}

// DemoAccounts returns the demo users created or reset at start-up.
func (a *App) DemoAccounts() []DemoAccount { return a.demo }

// demoAccounts creates the demo admin and agents, or gives the existing
// ones new random passwords: a demo prints working credentials at every
// start, and no password is ever written in the docs.
// refuseRealDesk refuses the demo on a database that has accounts but never
// had the demo's: a real desk's. --demo there would add an admin whose
// password goes to the terminal and its logs, and the demo knowledge base
// if it had none yet. Refuse, rather than guess it was meant.
func (a *App) refuseRealDesk(ctx context.Context) error {
	users, err := a.db.Users(ctx)
	if err != nil {
		return fmt.Errorf("demo: list users: %w", err)
	}
	if len(users) > 0 && !slices.ContainsFunc(users, func(u auth.User) bool { return strings.HasSuffix(u.Email, DemoDomain) }) {
		return errcode.Localized(errcode.Conflict,
			"--demo (demo: true) would add demo accounts, an admin among them, to a database with %d accounts of its own: start without it",
			"--demo（demo: true）会在一个已有 %d 个账号的数据库里加入演示账号（其中有管理员）：请不加它启动", len(users))
	}
	return nil
}

func (a *App) demoAccounts(ctx context.Context) ([]DemoAccount, error) {
	people := []auth.NewUser{
		{Email: "admin" + DemoDomain, Name: "演示管理员 Demo Admin", Role: auth.RoleAdmin},
		{Email: "agent1" + DemoDomain, Name: "李娜 Li Na", Role: auth.RoleAgent, MaxChats: 3},
		{Email: "agent2" + DemoDomain, Name: "Tom Chen", Role: auth.RoleAgent, MaxChats: 3},
	}
	var out []DemoAccount
	for _, p := range people {
		p.Password = auth.RandomPassword()
		u, err := a.db.UserByEmail(ctx, p.Email)
		switch {
		case err == nil:
			err = a.auth.SetPassword(ctx, auth.System, u, p.Password)
		case errcode.Code(err) == errcode.NotFound:
			_, err = a.auth.AddUser(ctx, auth.System, p)
		}
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", p.Email, err)
		}
		out = append(out, DemoAccount{Email: p.Email, Password: p.Password, Role: p.Role})
	}
	return out, nil
}
