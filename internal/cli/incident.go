package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/config"
)

// apiFlags are the flags of the commands that talk to a running server:
// posture and incident changes must reach the server that serves them.
type apiFlags struct {
	url, token, tokenFile, configPath string
	json                              bool
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "the running Steward (default $STEWARD_URL, else the addr of --config and $STEWARD_ADDR, else http://127.0.0.1:8080)")
	fs.StringVar(&f.configPath, "config", "", "the server's YAML config file: its addr is where to reach it when --url and $STEWARD_URL are not given")
	fs.StringVar(&f.token, "token", "", "a bearer token or API key with incident rights (default $STEWARD_TOKEN; a flag is seen by ps: prefer the variable or --token-file)")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the token from this file (default $STEWARD_TOKEN_FILE)")
	fs.BoolVar(&f.json, "json", false, "print the server's JSON")
}

// serverToken is the token for a running server: --token, else the file
// --token-file or STEWARD_TOKEN_FILE names, else the variables vars (the
// drills' older STEWARD_DRILL_TOKEN) and STEWARD_TOKEN. "" when none is
// given.
func serverToken(env Env, token, file string, vars ...string) (string, error) {
	if token != "" {
		return token, nil
	}
	if file == "" {
		file = env.Getenv("STEWARD_TOKEN_FILE")
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read the token: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("read the token: %s is empty", file)
	}
	for _, v := range append(vars, "STEWARD_TOKEN") {
		if t := env.Getenv(v); t != "" {
			return t, nil
		}
	}
	return "", nil
}

// listenURL is the URL that reaches a server listening on addr from the
// same machine: a wildcard host (":8080", "0.0.0.0:8080", "[::]:8080")
// is reached on loopback.
func listenURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", fmt.Errorf("the configured addr %q names no port to reach the server on", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// serverURL checks a running server's base URL before anything is sent,
// so that "localhost:8080" is answered in words rather than by a parser.
func serverURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usagef("--url must be http://HOST:PORT or https://HOST:PORT, not %q", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

func (f *apiFlags) call(ctx context.Context, env Env, method, path string, body any) ([]byte, error) {
	if f.url == "" {
		f.url = env.Getenv("STEWARD_URL")
	}
	if f.url == "" {
		// The server's own configuration says where it listens (the
		// defaults give http://127.0.0.1:8080).
		cfg, err := config.Load(f.configPath, env.Getenv)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if f.url, err = listenURL(cfg.Addr); err != nil {
			return nil, usagef("%v (give --url)", err)
		}
	}
	base, err := serverURL(f.url)
	if err != nil {
		return nil, err
	}
	f.url = base
	if f.token, err = serverToken(env, f.token, f.tokenFile); err != nil {
		return nil, err
	}
	if f.token == "" {
		return nil, usagef("give a token: STEWARD_TOKEN, --token-file or --token (an API key or bearer token of an admin or supervisor)")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(f.url, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w", f.url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("the server refused the token (401): check STEWARD_TOKEN, --token-file or --token")
		}
		if json.Unmarshal(out, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Code)
		}
		return nil, fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	return out, nil
}

func (f *apiFlags) print(env Env, raw []byte, human func() string) {
	if f.json || human == nil {
		env.Stdout.Write(raw)
		if len(raw) > 0 && raw[len(raw)-1] != '\n' {
			fmt.Fprintln(env.Stdout)
		}
		return
	}
	fmt.Fprint(env.Stdout, human())
}

// incidentLine is an {"incident": ...} answer as one line, as incident list
// shows incidents: id, phase, severity, title.
func incidentLine(raw []byte) string {
	var v struct {
		Incident struct{ ID, Title, Phase, Severity string } `json:"incident"`
	}
	_ = json.Unmarshal(raw, &v)
	return fmt.Sprintf("%s [%s, %s] %s\n", v.Incident.ID, v.Incident.Phase, v.Incident.Severity, v.Incident.Title)
}

type postureCommand struct{ env Env }

// postureSubcommands are the group's subcommands as typed, for -h and usage errors.
var postureSubcommands = []string{"posture show", "posture set --level N [--all | --categories a,b | --intents x,y] [--human] [--throttle SRC=RATE,...] --reason TEXT",
	"posture auto"}

var postureUsage = strings.Join(postureSubcommands, " | ")

func (c *postureCommand) subcommands() []string { return postureSubcommands }

func (c *postureCommand) Run(ctx context.Context, args []string) error {
	usage := postureUsage
	if len(args) == 0 {
		return usagef("%s", usage)
	}
	var api apiFlags
	fs := newFlagSet("posture "+args[0], c.env, usage)
	api.register(fs)
	level := fs.Int("level", 0, "set (required): 0 normal held by hand, 1 scoped, 2 rollback + VIP-only bot, 3 disaster recovery")
	all := fs.Bool("all", false, "level 1: every question")
	cats := fs.String("categories", "", "level 1: these categories (comma-separated)")
	intents := fs.String("intents", "", "level 1: these intents (comma-separated)")
	human := fs.Bool("human", false, "level 1: hand the scope to people (else the fallback flow)")
	throttle := fs.String("throttle", "", "limit sources: SRC=MSGS_PER_S,...")
	reason := fs.String("reason", "", "why (required to set)")
	rest, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	// A flag that does not apply is refused rather than ignored: an
	// operator who typed it meant something the command would not do.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	scope := []string{"all", "categories", "intents", "human"}
	if args[0] != "set" {
		for _, n := range append(scope, "level", "throttle", "reason") {
			if given[n] {
				return usagef("posture %s does not take --%s (it belongs to posture set)", args[0], n)
			}
		}
	} else {
		// Without --level a set would pin level 0 by hand, which turns
		// automatic degradation off: never by omission.
		if !given["level"] {
			return usagef("posture set needs --level (0 holds normal service by hand, 1 scoped, 2 rollback + VIP-only bot, 3 disaster recovery)")
		}
		if *level != 1 {
			for _, n := range scope {
				if given[n] {
					return usagef("--%s scopes level 1 only, not level %d", n, *level)
				}
			}
		}
	}
	human2 := func(raw []byte) func() string {
		return func() string {
			var p struct {
				Posture struct {
					Level  int    `json:"level"`
					Manual bool   `json:"manual"`
					Since  string `json:"since"`
				} `json:"posture"`
				Description string `json:"description"`
			}
			_ = json.Unmarshal(raw, &p)
			mode := "automatic"
			if p.Posture.Manual {
				mode = "set by hand"
			}
			return fmt.Sprintf("level %d (%s): %s\n", p.Posture.Level, mode, p.Description)
		}
	}
	var raw []byte
	// describe fetches the posture's description after a change. The
	// change is made by then: if the description cannot be read (a
	// server restarting, a proxy's 502) the command still succeeds, with
	// the change's own answer and a warning, or a script would retry a
	// change that was made.
	describe := func() {
		desc, derr := api.call(ctx, c.env, "GET", "/api/v1/posture", nil)
		if derr != nil {
			fmt.Fprintf(c.env.Stderr, "warning: the posture was changed, but its description cannot be read: %v\n", derr)
			return
		}
		raw = desc
	}
	switch args[0] {
	case "show":
		raw, err = api.call(ctx, c.env, "GET", "/api/v1/posture", nil)
	case "auto":
		raw, err = api.call(ctx, c.env, "POST", "/api/v1/posture/automatic", nil)
		if err == nil {
			// The answer holds the posture alone; the description, as for
			// set, comes with GET.
			describe()
		}
	case "set":
		body := map[string]any{"level": *level, "all": *all, "human": *human, "reason": *reason}
		if *cats != "" {
			body["categories"] = strings.Split(*cats, ",")
		}
		if *intents != "" {
			body["intents"] = strings.Split(*intents, ",")
		}
		if *throttle != "" {
			th := map[string]float64{}
			for _, kv := range strings.Split(*throttle, ",") {
				k, v, ok := strings.Cut(kv, "=")
				r, perr := strconv.ParseFloat(v, 64)
				if !ok || perr != nil {
					return usagef("--throttle takes SRC=RATE pairs, e.g. partner-api=5")
				}
				th[k] = r
			}
			body["throttle"] = th
		}
		raw, err = api.call(ctx, c.env, "PUT", "/api/v1/posture", body)
		if err == nil {
			// The posture is set; what it set off and could not do is said on stderr.
			var set struct {
				Problems []struct {
					Message string `json:"message"`
				} `json:"problems"`
			}
			if json.Unmarshal(raw, &set) == nil {
				for _, p := range set.Problems {
					fmt.Fprintf(c.env.Stderr, "warning: %s\n", p.Message)
				}
			}
			if *level == 0 {
				fmt.Fprintln(c.env.Stderr, "note: normal service is held by hand: Steward will not degrade by itself until 'steward posture auto'")
			}
			describe()
		}
	default:
		return usagef("unknown posture command %q: %s", args[0], usage)
	}
	if err != nil {
		return err
	}
	api.print(c.env, raw, human2(raw))
	return nil
}

type incidentCommand struct{ env Env }

// incidentSubcommands are the group's subcommands as typed, for -h and usage errors.
var incidentSubcommands = []string{"incident list", "incident show ID", "incident declare --title T [--title-zh T] [--severity info|warning|critical]",
	"incident update ID [--phase P] [--note N]", "incident resolve ID [--note N]", "incident postmortem ID"}

var incidentUsage = strings.Join(incidentSubcommands, " | ")

func (c *incidentCommand) subcommands() []string { return incidentSubcommands }

func (c *incidentCommand) Run(ctx context.Context, args []string) error {
	usage := incidentUsage
	if len(args) == 0 {
		return usagef("%s", usage)
	}
	var api apiFlags
	fs := newFlagSet("incident "+args[0], c.env, usage)
	api.register(fs)
	title := fs.String("title", "", "title (declare)")
	titleZH := fs.String("title-zh", "", "Chinese title (declare)")
	severity := fs.String("severity", "warning", "info, warning or critical (declare)")
	phase := fs.String("phase", "", "investigating, identified, monitoring or resolved (update)")
	note := fs.String("note", "", "a note for the timeline")
	rest, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	// A flag the subcommand does not use is refused, as posture does: it
	// was silently dropped (declare --note lost the note, and said nothing).
	takes := map[string][]string{"declare": {"title", "title-zh", "severity"}, "update": {"phase", "note"}, "resolve": {"note"}}
	var refused error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "title", "title-zh", "severity", "phase", "note":
			if refused == nil && !slices.Contains(takes[args[0]], f.Name) {
				refused = usagef("incident %s does not take --%s: %s", args[0], f.Name, usage)
			}
		}
	})
	if refused != nil {
		return refused
	}
	id := ""
	switch args[0] {
	case "show", "update", "resolve", "postmortem":
		if len(rest) != 1 {
			return usagef("incident %s needs the incident's id", args[0])
		}
		// An id is one path segment: "../posture" must not name another endpoint.
		id = url.PathEscape(rest[0])
	default:
		if len(rest) > 0 {
			return usagef("unexpected argument %q", rest[0])
		}
	}
	var raw []byte
	var human func() string
	switch args[0] {
	case "list":
		raw, err = api.call(ctx, c.env, "GET", "/api/v1/incidents", nil)
		human = func() string {
			var l struct {
				Incidents []struct {
					ID, Title, Phase, Severity string
					StartedAt                  string `json:"started_at"`
				} `json:"incidents"`
			}
			_ = json.Unmarshal(raw, &l)
			var b strings.Builder
			for _, i := range l.Incidents {
				fmt.Fprintf(&b, "%-22s %-14s %-9s %s  %s\n", i.ID, i.Phase, i.Severity, i.StartedAt, i.Title)
			}
			if len(l.Incidents) == 0 {
				return "no incidents\n"
			}
			return b.String()
		}
	case "show":
		raw, err = api.call(ctx, c.env, "GET", "/api/v1/incidents/"+id, nil)
		human = func() string {
			var v struct {
				Incident struct{ ID, Title, Phase, Severity string } `json:"incident"`
				Timeline []struct {
					At, Kind, Text string
				} `json:"timeline"`
			}
			_ = json.Unmarshal(raw, &v)
			var b strings.Builder
			fmt.Fprintf(&b, "%s [%s, %s] %s\n", v.Incident.ID, v.Incident.Phase, v.Incident.Severity, v.Incident.Title)
			for _, e := range v.Timeline {
				fmt.Fprintf(&b, "  %s %-15s %s\n", e.At, e.Kind, e.Text)
			}
			return b.String()
		}
	case "declare":
		raw, err = api.call(ctx, c.env, "POST", "/api/v1/incidents", map[string]any{"title": *title, "title_zh": *titleZH,
			"severity": *severity})
		human = func() string { return incidentLine(raw) }
	case "update":
		raw, err = api.call(ctx, c.env, "POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"phase": *phase, "note": *note})
		human = func() string { return incidentLine(raw) }
	case "resolve":
		raw, err = api.call(ctx, c.env, "POST", "/api/v1/incidents/"+id+"/resolve", map[string]any{"note": *note})
		human = func() string { return incidentLine(raw) }
	case "postmortem":
		raw, err = api.call(ctx, c.env, "GET", "/api/v1/incidents/"+id+"/postmortem", nil)
		human = func() string {
			var v struct{ Markdown string }
			_ = json.Unmarshal(raw, &v)
			return v.Markdown
		}
	default:
		return usagef("unknown incident command %q: %s", args[0], usage)
	}
	if err != nil {
		return err
	}
	api.print(c.env, raw, human)
	return nil
}
