// Package config is Steward's typed configuration: defaults, then a YAML
// file, then STEWARD_* environment variables, then command-line flags. It is
// passed down explicitly, never read from a global.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-cs/steward/internal/dburl"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
)

// Config is everything a Steward process is configured with.
type Config struct {
	Addr     string `yaml:"addr"`
	DataDir  string `yaml:"data_dir"`
	Database string `yaml:"database"` // postgres:// URL; empty for the embedded SQLite file
	Demo     bool   `yaml:"demo"`
	// Node names this process among the nodes sharing a PostgreSQL
	// database (its monitor rollups, its events, the logs of who leads).
	// Default: the host name and the listening port.
	Node string `yaml:"node"`
	// AutoMigrate applies pending migrations on start. Unset means: yes for
	// the embedded SQLite file, no for PostgreSQL (shared by several nodes).
	AutoMigrate     *bool         `yaml:"auto_migrate"`
	SQLiteSync      string        `yaml:"sqlite_synchronous"`
	LogLevel        string        `yaml:"log_level"`
	LogFormat       string        `yaml:"log_format"`
	DefaultLocale   string        `yaml:"default_locale"`
	AllowedOrigins  []string      `yaml:"allowed_origins"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// SecureCookies marks the console's session cookie Secure; set it when
	// Steward is served over HTTPS through a proxy.
	SecureCookies bool      `yaml:"secure_cookies"`
	Desk          Desk      `yaml:"desk"`
	Knowledge     Knowledge `yaml:"knowledge"`
	Notify        Notify    `yaml:"notify"`
	Monitor       Monitor   `yaml:"monitor"`
	Incident      Incident  `yaml:"incident"`
	// Security holds rate limits, trusted proxies, WebSocket caps, HTTP
	// timeouts and the sites allowed to frame the chat page.
	Security Security `yaml:"security"`
	// Privacy configures how originals of masked personal data are kept.
	Privacy Privacy `yaml:"privacy"`
	// Backup schedules backups in the server (off unless a schedule is set).
	Backup Backup `yaml:"backup"`
	// LLM configures the optional language model that answers unsure
	// questions from the knowledge base (off unless base_url is set).
	LLM LLM `yaml:"llm"`
	// EnableFaultInjection turns on the drills' fault-injection points and
	// their admin API; off, POST /api/v1/admin/faults answers 404.
	EnableFaultInjection bool `yaml:"enable_fault_injection"`
}

// LLM configures an OpenAI-compatible chat completions API. The bot asks it
// only about a question its intent model is unsure of, with the closest
// knowledge-base entries and masked text; every failure falls back to the
// ordinary flow.
type LLM struct {
	// BaseURL is the API's root, e.g. https://api.openai.com/v1. Empty: no
	// language model.
	BaseURL string `yaml:"base_url"`
	APIKey  string `yaml:"api_key"`
	Model   string `yaml:"model"`
	// Timeout bounds one call (default 4s, at most 30s).
	Timeout time.Duration `yaml:"timeout"`
	// CallsPerMinute is the budget of calls (default 60).
	CallsPerMinute int `yaml:"calls_per_minute"`
	// MaxTokens bounds an answer's length (default 300).
	MaxTokens int `yaml:"max_tokens"`
	// MaxConcurrent bounds the calls waiting for the model at once on this
	// node (default 8, at most 64).
	MaxConcurrent int `yaml:"max_concurrent"`
	// Fallback is a second OpenAI-compatible API (another vendor, a model
	// served in-house) asked when this one fails or is left alone after
	// failures; optional.
	Fallback LLMEndpoint `yaml:"fallback"`
}

// LLMEndpoint is one OpenAI-compatible chat completions API.
type LLMEndpoint struct {
	BaseURL string `yaml:"base_url"`
	APIKey  string `yaml:"api_key"`
	Model   string `yaml:"model"`
}

// Enabled reports whether a language model is configured.
func (l LLM) Enabled() bool { return l.BaseURL != "" }

func (l LLM) validate() []error {
	var errs []error
	if l.BaseURL == "" {
		if l.Model != "" || l.APIKey != "" {
			errs = append(errs, fmt.Errorf("llm.base_url is required when llm.model or llm.api_key is set (e.g. https://api.openai.com/v1)"))
		}
		if l.Fallback != (LLMEndpoint{}) {
			errs = append(errs, fmt.Errorf("llm.fallback needs llm.base_url: the fallback is asked when the primary model fails"))
		}
		return errs
	}
	if f := l.Fallback; f != (LLMEndpoint{}) {
		if u, err := url.Parse(f.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("llm.fallback.base_url %q must be an http(s) URL such as https://api.deepseek.com/v1", f.BaseURL))
		}
		if strings.TrimSpace(f.Model) == "" {
			errs = append(errs, fmt.Errorf("llm.fallback.model is required with llm.fallback.base_url (e.g. deepseek-chat)"))
		}
	}
	if u, err := url.Parse(l.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("llm.base_url %q must be an http(s) URL such as https://api.openai.com/v1", l.BaseURL))
	}
	if strings.TrimSpace(l.Model) == "" {
		errs = append(errs, fmt.Errorf("llm.model is required with llm.base_url (e.g. gpt-4o-mini)"))
	}
	if l.Timeout < 0 || l.Timeout > 30*time.Second {
		errs = append(errs, fmt.Errorf("llm.timeout must be between 0s (the default, 4s) and 30s"))
	}
	if l.CallsPerMinute < 0 || l.CallsPerMinute > 100_000 {
		errs = append(errs, fmt.Errorf("llm.calls_per_minute must be between 0 (the default, 60) and 100000"))
	}
	if l.MaxTokens < 0 || l.MaxTokens > 4096 {
		errs = append(errs, fmt.Errorf("llm.max_tokens must be between 0 (the default, 300) and 4096"))
	}
	if l.MaxConcurrent < 0 || l.MaxConcurrent > 64 {
		errs = append(errs, fmt.Errorf("llm.max_concurrent must be between 0 (the default, 8) and 64"))
	}
	return errs
}

// Monitor configures detection: rules overlay the defaults by name (and
// component), SLOs replace the defaults when given.
type Monitor struct {
	Rules []monitor.Rule `yaml:"rules"`
	SLOs  []monitor.SLO  `yaml:"slos"`
	// Alert routing (Alertmanager's): zero values take the defaults
	// (2s, 1m, 4h).
	GroupWait      time.Duration `yaml:"group_wait"`
	GroupInterval  time.Duration `yaml:"group_interval"`
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// MetricsToken, when set, is the bearer token GET /metrics asks for
	// (Prometheus' scrape_config authorization). Empty: /metrics is public.
	MetricsToken string `yaml:"metrics_token"`
}

// Incident configures the automatic response.
type Incident struct {
	// Playbooks come before the defaults and replace those of their name.
	Playbooks []incident.Playbook `yaml:"playbooks"`
	// RecoverAfter is how long alerts stay quiet before a posture steps
	// down (default 15s; doubled for each relapse).
	RecoverAfter time.Duration `yaml:"recover_after"`
	// PublicURL is where the console is reached, for links in notices.
	PublicURL string `yaml:"public_url"`
}

// Notify configures where alerts and incident updates are sent.
type Notify struct {
	Channels []Channel `yaml:"channels"`
}

// Channel is one notification channel. Settings holds the provider's own
// fields (url, secret, ...), which its package decodes and validates.
type Channel struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // webhook, dingtalk, wecom, feishu, slack, email
	// MinLevel is the least alert level sent: info, warning (default) or critical.
	MinLevel string         `yaml:"min_level"`
	Settings map[string]any `yaml:",inline"`
}

// Knowledge configures the knowledge lifecycle.
type Knowledge struct {
	// TwoPersonRule requires a version's approver to differ from its
	// author; on unless set to false.
	TwoPersonRule *bool `yaml:"two_person_rule"`
	Gate          Gate  `yaml:"gate"`
}

// TwoPerson reports whether the two-person rule is on.
func (k Knowledge) TwoPerson() bool { return k.TwoPersonRule == nil || *k.TwoPersonRule }

// Gate holds the quality gate's limits; zero values take the defaults.
type Gate struct {
	MinAccuracy     float64  `yaml:"min_accuracy"`      // default 0.4 (0 too)
	MaxAccuracyDrop float64  `yaml:"max_accuracy_drop"` // default 0.05 (0 too: a tiny value refuses any drop)
	Folds           int      `yaml:"folds"`             // default 5
	MaxHeldOut      int      `yaml:"max_held_out"`      // default 2000
	AllowedDomains  []string `yaml:"allowed_domains"`
	AllowedPhones   []string `yaml:"allowed_phones"`
}

// Desk configures the human desk.
type Desk struct {
	// ManualAssign turns automatic assignment off: agents claim from the queue.
	ManualAssign bool `yaml:"manual_assign"`
	// Opening hours; outside them a handoff offers the offline form. Empty
	// Open and Close mean always open.
	Timezone string   `yaml:"timezone"` // e.g. Asia/Shanghai (default UTC)
	Days     []string `yaml:"days"`     // e.g. [mon-fri, sat] (default every day)
	Open     string   `yaml:"open"`     // e.g. "09:00"
	Close    string   `yaml:"close"`    // e.g. "18:00"
	// RatingTags replace the default rating tags.
	RatingTags []RatingTag `yaml:"rating_tags"`
}

// RatingTag is a tag customers may give with a rating, labelled in both languages.
type RatingTag struct {
	ID string `yaml:"id"`
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// Privacy configures the sealed originals of masked personal data. The
// keys come from STEWARD_PII_KEYS ("id:base64,..." — the first seals), or
// else from a key file (generated with a fresh key on first start).
type Privacy struct {
	// KeyFile is the keyring file (default <data_dir>/pii-keys.json; with
	// PostgreSQL every node must share it, or use STEWARD_PII_KEYS).
	KeyFile string `yaml:"key_file"`
	// Keys is the STEWARD_PII_KEYS form, for configuration management that
	// writes secrets into the file; prefer the variable.
	Keys string `yaml:"keys"`
	// Retention is how long originals are kept before they are erased
	// (default 720h, 30 days; "0s" keeps no originals at all).
	Retention *time.Duration `yaml:"retention"`
}

// RetentionOrDefault is the effective retention period.
func (p Privacy) RetentionOrDefault() time.Duration {
	if p.Retention == nil {
		return 30 * 24 * time.Hour
	}
	return *p.Retention
}

// HasHours reports whether opening hours are configured.
func (d Desk) HasHours() bool { return d.Open != "" || d.Close != "" }

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "./data", SQLiteSync: "FULL", LogLevel: "info", LogFormat: "text",
		DefaultLocale: "zh-CN", ShutdownTimeout: 20 * time.Second, Security: DefaultSecurity()}
}

// Load reads the optional YAML file at path over the defaults, then the
// environment (getenv is os.Getenv outside tests).
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config file: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config file %s: %s", path, yamlMessage(err, data))
		}
		// One document: settings after a "---" were ignored without a
		// word, unchecked and unvalidated.
		var more yaml.Node
		if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config file %s: it holds more than one YAML document (after \"---\"); put every setting in one", path)
		}
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// unknownField is what the YAML decoder says of a setting Config lacks.
var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// wrongType is what the YAML decoder says of a value of the wrong kind.
var wrongType = regexp.MustCompile("line (\\d+): cannot unmarshal !!\\w+ `([^`]*)` into (\\S+)")

// kinds says in words what a Go type of the configuration takes.
var kinds = map[string]string{
	"time.Duration": "a duration with a unit, e.g. 30s or 5m",
	"int":           "a whole number", "int64": "a whole number", "float64": "a number",
	"bool": "true or false", "string": "text (quote it)",
}

// yamlMessage is a YAML decoding error as an operator should read it: a
// misspelt setting is named as such, not as a field of a Go type, and a
// value of the wrong kind by its setting and what it should be
// ("line 3: shutdown_timeout: 30 is not a duration with a unit, e.g. 30s
// or 5m"), not as a Go type.
func yamlMessage(err error, data []byte) string {
	msg := err.Error()
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msg = strings.Join(te.Errors, "; ") // without "yaml: unmarshal errors:"
	}
	msg = unknownField.ReplaceAllString(msg, "unknown setting \"$1\" (check its spelling and its section)")
	lines := strings.Split(string(data), "\n")
	return wrongType.ReplaceAllStringFunc(msg, func(m string) string {
		g := wrongType.FindStringSubmatch(m)
		want, ok := kinds[g[3]]
		switch {
		case ok:
		case strings.HasPrefix(g[3], "[]"):
			want = "a list, e.g. [a, b] or one \"- item\" per line"
		case strings.HasPrefix(g[3], "map["), strings.Contains(g[3], "."):
			want = "a section of settings"
		default:
			want = "of another kind"
		}
		setting, value := "", g[2]
		if n, err := strconv.Atoi(g[1]); err == nil && n >= 1 && n <= len(lines) {
			if k, v, found := strings.Cut(strings.TrimSpace(lines[n-1]), ":"); found {
				setting = strings.TrimPrefix(strings.TrimSpace(k), "- ") + ": "
				// The parser shortens long values ("https:/..."): the line's
				// rest is the value, unless the line holds a section in
				// braces, whose rest printed its other settings, an API key
				// among them.
				if v = strings.TrimSpace(v); strings.HasSuffix(value, "...") && v != "" && !strings.ContainsAny(v, "{},") {
					value = v
				}
			}
		}
		if secretLike(setting + value) {
			value = "(value hidden)"
		}
		return fmt.Sprintf("line %s: %s%s is not %s", g[1], setting, value, want)
	})
}

// secretLike reports whether text names or holds a secret, whose value an
// error must not print.
func secretLike(text string) bool {
	t := strings.ToLower(text)
	for _, w := range []string{"key", "secret", "token", "password", "sk-"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// applyEnv overrides fields from STEWARD_* variables. A secret may instead
// be read from a file named by the variable with a _FILE suffix.
func (c *Config) applyEnv(getenv func(string) string) error {
	get := func(name string) (string, bool, error) {
		if v := getenv(name); v != "" {
			return v, true, nil
		}
		if f := getenv(name + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", false, fmt.Errorf("%s_FILE: %w", name, err)
			}
			v := strings.TrimSpace(string(b))
			if v == "" {
				// An empty file (a mount that came up empty, a secret made from an unset
				// variable) would silently turn the secret off: /metrics public,
				// customers' identities believed as sent.
				return "", false, fmt.Errorf("%s_FILE: %s is empty", name, f)
			}
			return v, true, nil
		}
		return "", false, nil
	}
	strs := map[string]*string{
		"STEWARD_ADDR": &c.Addr, "STEWARD_DATA_DIR": &c.DataDir, "STEWARD_DATABASE": &c.Database, "STEWARD_NODE": &c.Node,
		"STEWARD_SQLITE_SYNCHRONOUS": &c.SQLiteSync, "STEWARD_LOG_LEVEL": &c.LogLevel,
		"STEWARD_LOG_FORMAT": &c.LogFormat, "STEWARD_DEFAULT_LOCALE": &c.DefaultLocale,
		"STEWARD_PII_KEYS": &c.Privacy.Keys, "STEWARD_PII_KEY_FILE": &c.Privacy.KeyFile,
		"STEWARD_METRICS_TOKEN": &c.Monitor.MetricsToken, "STEWARD_IDENTITY_SECRET": &c.Security.IdentitySecret,
		"STEWARD_PG_BIN":       &c.Backup.PGBin,
		"STEWARD_LLM_BASE_URL": &c.LLM.BaseURL, "STEWARD_LLM_API_KEY": &c.LLM.APIKey, "STEWARD_LLM_MODEL": &c.LLM.Model,
		"STEWARD_LLM_FALLBACK_BASE_URL": &c.LLM.Fallback.BaseURL, "STEWARD_LLM_FALLBACK_API_KEY": &c.LLM.Fallback.APIKey,
		"STEWARD_LLM_FALLBACK_MODEL": &c.LLM.Fallback.Model,
	}
	for name, dst := range strs {
		v, ok, err := get(name)
		if err != nil {
			return err
		}
		if ok {
			*dst = v
		}
	}
	getBool := func(name string) (*bool, error) {
		v, ok, err := get(name)
		if err != nil || !ok {
			return nil, err
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s must be true or false, not %q", name, v)
		}
		return &b, nil
	}
	if b, err := getBool("STEWARD_DEMO"); err != nil {
		return err
	} else if b != nil {
		c.Demo = *b
	}
	if b, err := getBool("STEWARD_AUTO_MIGRATE"); err != nil {
		return err
	} else if b != nil {
		c.AutoMigrate = b
	}
	if v, ok, err := get("STEWARD_ALLOWED_ORIGINS"); err != nil {
		return err
	} else if ok {
		c.AllowedOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" { // "a.example.com, b.example.com" never matched b
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
		}
	}
	if v, ok, err := get("STEWARD_SHUTDOWN_TIMEOUT"); err != nil {
		return err
	} else if ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("STEWARD_SHUTDOWN_TIMEOUT: %w", err)
		}
		c.ShutdownTimeout = d
	}
	return nil
}

// Validate reports every problem at once, each naming its setting.
func (c *Config) Validate() error {
	var errs []error
	if host, port, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q must be HOST:PORT, e.g. 127.0.0.1:8080", c.Addr))
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		errs = append(errs, fmt.Errorf("addr %q: port must be a number from 0 to 65535", c.Addr))
	} else {
		_ = host
	}
	if c.Database != "" {
		u, err := url.Parse(c.Database)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, fmt.Errorf("database must be a postgres:// URL (leave it empty for the embedded SQLite file)"))
		}
	} else if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, fmt.Errorf("data_dir is required with the embedded SQLite database"))
	}
	if t := c.Monitor.MetricsToken; t != "" && (len(t) < 16 || strings.TrimSpace(t) != t) {
		errs = append(errs, fmt.Errorf("monitor.metrics_token must be at least 16 characters without surrounding spaces (e.g. openssl rand -hex 24)"))
	}
	switch strings.ToUpper(c.SQLiteSync) {
	case "FULL", "NORMAL":
	default:
		errs = append(errs, fmt.Errorf("sqlite_synchronous must be FULL or NORMAL, not %q", c.SQLiteSync))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log_format must be text or json, not %q", c.LogFormat))
	}
	switch c.DefaultLocale {
	case "zh-CN", "en":
	default:
		errs = append(errs, fmt.Errorf("default_locale must be zh-CN or en, not %q", c.DefaultLocale))
	}
	if r := c.Privacy.Retention; r != nil && *r < 0 {
		errs = append(errs, fmt.Errorf("privacy.retention must not be negative (0s keeps no originals)"))
	}
	if len(c.Desk.Days) > 0 && !c.Desk.HasHours() {
		// Days alone were ignored: the desk was open every day.
		errs = append(errs, fmt.Errorf("desk.days needs desk.open and desk.close (\"00:00\" and \"24:00\" for all day)"))
	}
	if (c.Desk.Open == "") != (c.Desk.Close == "") {
		errs = append(errs, fmt.Errorf("desk.open and desk.close must be set together (e.g. \"09:00\" and \"18:00\")"))
	} else if c.Desk.HasHours() {
		// Checked here, before anything is opened, rather than when the desk starts.
		if _, err := desk.ParseHours(c.Desk.Timezone, c.Desk.Days, c.Desk.Open, c.Desk.Close); err != nil {
			errs = append(errs, err)
		}
	} else if _, err := time.LoadLocation(c.Desk.Timezone); c.Desk.Timezone != "" && err != nil {
		errs = append(errs, fmt.Errorf("desk.timezone %q is not a known time zone (e.g. Asia/Shanghai)", c.Desk.Timezone))
	}
	for i, t := range c.Desk.RatingTags {
		if t.ID == "" || t.ZH == "" || t.EN == "" {
			errs = append(errs, fmt.Errorf("desk.rating_tags[%d] needs id, zh and en", i))
		}
	}
	// Written so that NaN (".nan" in YAML) is refused: a gate minimum of NaN never refused a release.
	if g := c.Knowledge.Gate; !(g.MinAccuracy >= 0 && g.MinAccuracy <= 1) || !(g.MaxAccuracyDrop >= 0 && g.MaxAccuracyDrop <= 1) {
		errs = append(errs, fmt.Errorf("knowledge.gate.min_accuracy and max_accuracy_drop must be between 0 and 1"))
	}
	if p := c.Incident.PublicURL; p != "" {
		// Without a scheme every channel dropped the link without a word.
		if u, err := url.Parse(p); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("incident.public_url %q must be an http(s) URL such as https://steward.example.com", p))
		}
	}
	for i, o := range c.AllowedOrigins {
		if _, err := path.Match(o, ""); err != nil || strings.TrimSpace(o) != o || o == "" {
			errs = append(errs, fmt.Errorf("allowed_origins[%d] %q is not a host pattern such as shop.example.com or *.example.com", i, o))
		}
	}
	if g := c.Knowledge.Gate; g.Folds < 0 || g.Folds == 1 || g.Folds > 20 || g.MaxHeldOut < 0 {
		errs = append(errs, fmt.Errorf("knowledge.gate.folds must be 2 to 20 (0 for the default) and max_held_out not negative"))
	}
	seen := map[string]bool{}
	for i, ch := range c.Notify.Channels {
		switch {
		case ch.Name == "" || ch.Type == "":
			errs = append(errs, fmt.Errorf("notify.channels[%d] needs a name and a type", i))
		case seen[ch.Name]:
			errs = append(errs, fmt.Errorf("notify.channels[%d]: the name %q is used twice", i, ch.Name))
		}
		seen[ch.Name] = true
		switch ch.MinLevel {
		case "", "info", "warning", "critical":
		default:
			errs = append(errs, fmt.Errorf("notify.channels[%d].min_level must be info, warning or critical, not %q", i, ch.MinLevel))
		}
	}
	for _, r := range monitor.MergeRules(monitor.DefaultRules(), c.Monitor.Rules) {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("monitor.rules: %w", err))
		}
	}
	for _, s := range c.Monitor.SLOs {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("monitor.slos: %w", err))
		}
	}
	for i := range c.Incident.Playbooks {
		p := c.Incident.Playbooks[i]
		if err := p.Compile(); err != nil {
			errs = append(errs, fmt.Errorf("incident.playbooks[%d]: %w", i, err))
		}
	}
	if c.Incident.RecoverAfter < 0 {
		errs = append(errs, fmt.Errorf("incident.recover_after must not be negative"))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"group_wait", c.Monitor.GroupWait}, {"group_interval", c.Monitor.GroupInterval}, {"repeat_interval", c.Monitor.RepeatInterval}} {
		if name := d.name; d.d < 0 {
			// The alert manager would quietly use its default instead.
			errs = append(errs, fmt.Errorf("monitor.%s must not be negative (0 for the default)", name))
		}
	}
	errs = append(errs, c.Security.validate()...)
	errs = append(errs, c.Backup.validate()...)
	errs = append(errs, c.LLM.validate()...)
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout must be positive"))
	}
	return errors.Join(errs...)
}

// AutoMigrates reports whether serve applies pending migrations itself.
func (c *Config) AutoMigrates() bool {
	if c.AutoMigrate != nil {
		return *c.AutoMigrate
	}
	return c.Database == ""
}

// Redacted returns the database URL without its password (in the user
// part or as a password= / sslpassword= parameter), for logs.
func (c *Config) Redacted() string {
	if c.Database == "" {
		return "sqlite:" + c.DataDir
	}
	return dburl.Redact(c.Database)
}

// NodeName is the configured node name, or the host name and the port.
func (c Config) NodeName() string {
	if c.Node != "" {
		return c.Node
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "steward"
	}
	if _, port, err := net.SplitHostPort(c.Addr); err == nil && port != "" && port != "0" {
		return host + ":" + port
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}
