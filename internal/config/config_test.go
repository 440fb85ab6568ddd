package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLayersFileThenEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.yaml")
	os.WriteFile(path, []byte("addr: 0.0.0.0:9000\nlog_level: debug\nshutdown_timeout: 5s\n"), 0o600)
	secret := filepath.Join(dir, "db")
	os.WriteFile(secret, []byte("postgres://u:pw@db/steward\n"), 0o600)
	env := map[string]string{"STEWARD_LOG_LEVEL": "warn", "STEWARD_DATABASE_FILE": secret, "STEWARD_DEMO": "true"}
	cfg, err := Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.LogLevel != "warn" || !cfg.Demo || cfg.ShutdownTimeout != 5*time.Second ||
		cfg.Database != "postgres://u:pw@db/steward" {
		t.Fatalf("cfg = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg.Redacted(), "pw") || cfg.AutoMigrates() {
		t.Fatalf("redacted %q, auto-migrate %v", cfg.Redacted(), cfg.AutoMigrates())
	}
}

func TestLoadRejectsUnknownFieldsAndBadValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte("adr: x\n"), 0o600)
	if _, err := Load(path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), `unknown setting "adr"`) ||
		strings.Contains(err.Error(), "config.Config") {
		t.Fatalf("unknown field: err = %v, want it named as an unknown setting, without Go's type", err)
	}
	// A value of the wrong kind is named by its setting and what it takes,
	// not by a Go type.
	for _, tc := range []struct{ yaml, want string }{
		{"shutdown_timeout: 30\n", "line 1: shutdown_timeout: 30 is not a duration with a unit, e.g. 30s or 5m"},
		{"desk:\n  manual_assign: maybe\n", "line 2: manual_assign: maybe is not true or false"},
		{"security:\n  frame_ancestors: https://shop.example.com\n", "line 2: frame_ancestors: https://shop.example.com is not a list"},
	} {
		os.WriteFile(path, []byte(tc.yaml), 0o600)
		if _, err := Load(path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), tc.want) ||
			strings.Contains(err.Error(), "time.Duration") || strings.Contains(err.Error(), "unmarshal") {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	cfg := Default()
	cfg.Addr, cfg.LogLevel, cfg.Database = "nope", "loud", "mysql://x"
	cfg.Desk.Timezone = "Mars/Base" // caught before anything is opened, not when the desk starts
	cfg.AllowedOrigins = []string{"shop.example.com", "["}
	cfg.Knowledge.Gate.Folds = 1
	cfg.Desk.Days = []string{"mon-fri"} // without hours: it was ignored, the desk open every day
	err := cfg.Validate()
	for _, want := range []string{"addr", "log_level", "database", "Mars/Base", "allowed_origins[1]", "folds", "desk.days"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a message about %s", err, want)
		}
	}
}

// STEWARD_ALLOWED_ORIGINS takes a list as people write it, with spaces.
func TestAllowedOriginsFromTheEnvironment(t *testing.T) {
	cfg, err := Load("", func(k string) string {
		switch k {
		case "STEWARD_ALLOWED_ORIGINS":
			return "a.example.com, b.example.com,,"
		case "STEWARD_PG_BIN":
			return "/usr/pgsql-16/bin"
		}
		return ""
	})
	if err != nil || strings.Join(cfg.AllowedOrigins, "|") != "a.example.com|b.example.com" {
		t.Fatalf("origins %q, %v", cfg.AllowedOrigins, err)
	}
	// The scheduled backups find pg_dump where the backup commands do.
	if cfg.Backup.PGBin != "/usr/pgsql-16/bin" {
		t.Fatalf("backup.pg_bin = %q from STEWARD_PG_BIN", cfg.Backup.PGBin)
	}
}

// The metrics token comes from the file or STEWARD_METRICS_TOKEN, and a
// guessable one is refused by Validate.
func TestMetricsToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte("data_dir: /tmp/x\nmonitor:\n  metrics_token: from-the-file-0123456789\n"), 0o600)
	cfg, err := Load(path, func(string) string { return "" })
	if err != nil || cfg.Monitor.MetricsToken != "from-the-file-0123456789" {
		t.Fatalf("from the file: %q, %v", cfg.Monitor.MetricsToken, err)
	}
	env := map[string]string{"STEWARD_METRICS_TOKEN": "from-the-environment-42"}
	if cfg, err = Load(path, func(k string) string { return env[k] }); err != nil || cfg.Monitor.MetricsToken != "from-the-environment-42" {
		t.Fatalf("from the environment: %q, %v", cfg.Monitor.MetricsToken, err)
	}
	// A secret: the configuration's fingerprint (audited) does not hold it.
	other := cfg
	other.Monitor.MetricsToken = "another-token-0123456789"
	if a, _ := cfg.Fingerprint(); a != func() string { b, _ := other.Fingerprint(); return b }() {
		t.Error("the metrics token changed the configuration's fingerprint: it is in it")
	}
	for _, bad := range []string{"short", " padded-token-0123456789 "} {
		env["STEWARD_METRICS_TOKEN"] = bad
		cfg, err := Load(path, func(k string) string { return env[k] })
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), "metrics_token") {
			t.Errorf("token %q: err = %v, want a message about metrics_token", bad, err)
		}
	}
}

func TestSecurityDefaultsOverlayAndValidation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte(`security:
  trusted_proxies: [10.0.0.0/8, "::1"]
  rate_limits:
    ip: {rate: 3}
  frame_ancestors: ['self', https://shop.example.com, "https://*.example.cn/"]
  timeouts: {read_header: 2s}
`), 0o600)
	cfg, err := Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	def := DefaultSecurity()
	s := cfg.Security
	if s.RateLimits.IP != (RateLimit{Rate: 3, Burst: def.RateLimits.IP.Burst}) || s.RateLimits.Login != def.RateLimits.Login ||
		s.Timeouts.ReadHeader != 2*time.Second || s.Timeouts.Read != def.Timeouts.Read {
		t.Fatalf("a partial security block should keep the other defaults: %+v", s)
	}
	if got := strings.Join(s.FrameAncestorSources(), " "); got != "'self' https://shop.example.com https://*.example.cn" {
		t.Fatalf("frame-ancestors sources %q", got)
	}
	if p := s.Proxies(); len(p) != 2 || p[1].String() != "::1/128" {
		t.Fatalf("proxies %v", p)
	}

	bad := Default()
	bad.Security.TrustedProxies = []string{"10.0.0.0/99"}
	bad.Security.RateLimits.Conversation = RateLimit{Rate: 0, Burst: 5}
	bad.Security.MaxWebSocketsPerIP = 0
	bad.Security.FrameAncestors = []string{"https://ok.example.com; script-src *", "ftp://x", "https://a.*.com"}
	bad.Security.Timeouts.Idle = 0
	err = bad.Validate()
	for _, want := range []string{"trusted_proxies[0]", "rate_limits.conversation ", "max_websockets_per_ip",
		"frame_ancestors[0]", "frame_ancestors[1]", "frame_ancestors[2]", "timeouts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a message about %s", err, want)
		}
	}
}

func TestIdentitySecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte("data_dir: /tmp/x\n"), 0o600)
	secret := filepath.Join(t.TempDir(), "identity")
	os.WriteFile(secret, []byte("from-a-file-of-at-least-thirty-two-bytes\n"), 0o600)
	env := map[string]string{"STEWARD_IDENTITY_SECRET_FILE": secret}
	cfg, err := Load(path, func(k string) string { return env[k] })
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil || cfg.Security.IdentitySecret != "from-a-file-of-at-least-thirty-two-bytes" {
		t.Fatalf("from a file: %q, %v", cfg.Security.IdentitySecret, err)
	}
	other := cfg
	other.Security.IdentitySecret = "another-secret-of-at-least-thirty-two-bytes"
	if a, _ := cfg.Fingerprint(); a != func() string { b, _ := other.Fingerprint(); return b }() {
		t.Error("the identity secret changed the configuration's fingerprint: it is in it")
	}
	env = map[string]string{"STEWARD_IDENTITY_SECRET": "too-short"}
	cfg, err = Load(path, func(k string) string { return env[k] })
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "identity_secret") {
		t.Errorf("a 9-byte secret: %v, want a message about identity_secret", err)
	}
}

// A password given as a parameter of the database URL is hidden from logs
// as well as one in its user part.
func TestRedactedHidesPasswordParameters(t *testing.T) {
	for _, db := range []string{
		"postgres://u@db/steward?password=s3cr3tPW&connect_timeout=2",
		"postgres://u:s3cr3tPW@db/steward?sslmode=verify-full&sslpassword=s3cr3tPW",
	} {
		c := Config{Database: db}
		got := c.Redacted()
		if strings.Contains(got, "s3cr3tPW") || !strings.Contains(got, "db/steward") {
			t.Errorf("Redacted(%q) = %q", db, got)
		}
	}
}

func TestLLMSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.yaml")
	os.WriteFile(path, []byte("data_dir: /tmp/x\nllm:\n  base_url: https://api.example.com/v1\n  model: small-model\n  timeout: 2s\n"), 0o600)
	keyFile := filepath.Join(dir, "llm-key")
	os.WriteFile(keyFile, []byte("sk-from-a-file\n"), 0o600)
	env := map[string]string{"STEWARD_LLM_API_KEY_FILE": keyFile}
	cfg, err := Load(path, func(k string) string { return env[k] })
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil || !cfg.LLM.Enabled() || cfg.LLM.APIKey != "sk-from-a-file" || cfg.LLM.Model != "small-model" || cfg.LLM.Timeout != 2*time.Second {
		t.Fatalf("%+v, %v", cfg.LLM, err)
	}
	// The fallback's settings come from the environment too, its key from a file.
	fbKey := filepath.Join(dir, "fallback-key")
	os.WriteFile(fbKey, []byte("sk-fallback\n"), 0o600)
	env["STEWARD_LLM_FALLBACK_BASE_URL"], env["STEWARD_LLM_FALLBACK_MODEL"] = "https://fallback.example.com/v1", "other-model"
	env["STEWARD_LLM_FALLBACK_API_KEY_FILE"] = fbKey
	withFallback, err := Load(path, func(k string) string { return env[k] })
	if err == nil {
		err = withFallback.Validate()
	}
	if want := (LLMEndpoint{BaseURL: "https://fallback.example.com/v1", APIKey: "sk-fallback", Model: "other-model"}); err != nil ||
		withFallback.LLM.Fallback != want {
		t.Fatalf("the fallback from the environment: %+v, %v; want %+v", withFallback.LLM.Fallback, err, want)
	}
	other := cfg
	other.LLM.APIKey = "sk-another"
	if a, _ := cfg.Fingerprint(); a != func() string { b, _ := other.Fingerprint(); return b }() {
		t.Error("the API key changed the configuration's fingerprint: it is in it")
	}
	other = cfg
	other.LLM.MaxTokens = 500
	if a, _ := cfg.Fingerprint(); a == func() string { b, _ := other.Fingerprint(); return b }() {
		t.Error("llm.max_tokens is left out of the configuration's fingerprint, as if it were a secret")
	}
	if Default().LLM.Enabled() {
		t.Error("a language model is on by default")
	}
	for _, tc := range []struct {
		llm  LLM
		want string
	}{
		{LLM{Model: "m"}, "llm.base_url is required"},
		{LLM{BaseURL: "api.example.com", Model: "m"}, "llm.base_url"},
		{LLM{BaseURL: "https://api.example.com/v1"}, "llm.model is required"},
		{LLM{BaseURL: "https://api.example.com/v1", Model: "m", Timeout: time.Minute}, "llm.timeout"},
		{LLM{BaseURL: "https://api.example.com/v1", Model: "m", MaxTokens: 100_000}, "llm.max_tokens"},
		{LLM{BaseURL: "https://api.example.com/v1", Model: "m", CallsPerMinute: -1}, "llm.calls_per_minute"},
		{LLM{BaseURL: "https://api.example.com/v1", Model: "m", MaxConcurrent: 65}, "llm.max_concurrent"},
		{LLM{Fallback: LLMEndpoint{BaseURL: "https://api.example.com/v1", Model: "m"}}, "llm.fallback needs llm.base_url"},
		{LLM{BaseURL: "https://api.example.com/v1", Model: "m", Fallback: LLMEndpoint{BaseURL: "ftp://x", Model: "m"}}, "llm.fallback.base_url"},
		{LLM{BaseURL: "https://api.example.com/v1", Model: "m", Fallback: LLMEndpoint{BaseURL: "https://b.example.com/v1"}}, "llm.fallback.model is required"},
	} {
		c := Default()
		c.DataDir, c.LLM = "/tmp/x", tc.llm
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.llm, err, tc.want)
		}
	}
}

// The console's public URL must be one a notice can link to: without a
// scheme every channel dropped the "View details" link without a word.
func TestPublicURLIsAnHTTPURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{{"", true}, {"https://steward.example.com", true}, {"http://10.0.0.5:8080", true},
		{"steward.example.com", false}, {"ftp://steward.example.com", false}, {"https://", false}} {
		c := Default()
		c.Incident.PublicURL = tc.url
		err := c.Validate()
		if tc.ok && err != nil || !tc.ok && (err == nil || !strings.Contains(err.Error(), "incident.public_url")) {
			t.Errorf("public_url %q: %v", tc.url, err)
		}
	}
}

// A config file's error never prints a secret: a value of the wrong kind in
// a section written in braces printed the line's rest, an API key among
// it. And settings after a "---" are refused, not ignored unchecked.
func TestConfigErrorsKeepSecretsAndRefuseASecondDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte(`llm: {base_url: "https://api.example.com/v1", api_key: sk-SUPERSECRET-123456, model: m, timeout: 4 seconds please}`+"\n"), 0o600)
	_, err := Load(path, func(string) string { return "" })
	if err == nil || strings.Contains(err.Error(), "SUPERSECRET") {
		t.Fatalf("a bad value beside an API key: %v", err)
	}
	os.WriteFile(path, []byte("addr: 127.0.0.1:8080\n---\nlog_level: bogus\n"), 0o600)
	if _, err := Load(path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "more than one YAML document") {
		t.Fatalf("a second document: %v", err)
	}
}
