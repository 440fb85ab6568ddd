package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// Operators drive a running server's posture and incidents from the
// command line.
func TestPostureAndIncidentCommands(t *testing.T) {
	srv := testutil.Start(t, func(c *config.Config) { c.Incident.RecoverAfter = time.Second })
	admin := testutil.Login(t, srv.URL, srv.Demo[0].Email, srv.Demo[0].Password)
	env := map[string]string{"STEWARD_URL": srv.URL, "STEWARD_TOKEN": admin.Token}

	if code, _, errs := run(t, "", map[string]string{"STEWARD_URL": srv.URL}, "posture", "show"); code != 2 ||
		!strings.Contains(errs, "--token") {
		t.Fatalf("without a token: %d %s", code, errs)
	}
	// The token from a file (out of ps and shell history); a wrong one is
	// said to be the token's fault; a URL without its scheme is refused in
	// words before anything is sent.
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(admin.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "", map[string]string{"STEWARD_URL": srv.URL, "STEWARD_TOKEN_FILE": tokenFile}, "posture", "show"); code != 0 ||
		!strings.Contains(out, "level 0") {
		t.Fatalf("with STEWARD_TOKEN_FILE: %d %q %s", code, out, errs)
	}
	if code, _, errs := run(t, "", map[string]string{"STEWARD_URL": srv.URL}, "posture", "show", "--token-file", tokenFile); code != 0 {
		t.Fatalf("with --token-file: %d %s", code, errs)
	}
	if code, _, errs := run(t, "", map[string]string{"STEWARD_URL": srv.URL, "STEWARD_TOKEN": "stk_wrong"}, "posture", "show"); code != 1 ||
		!strings.Contains(errs, "refused the token (401)") {
		t.Fatalf("with a wrong token: %d %s", code, errs)
	}
	if code, out, errs := run(t, "", env, "incident", "show", "../posture"); code != 1 || strings.Contains(out, "[") {
		t.Fatalf("incident show ../posture: %d %q %s, want a not-found error", code, out, errs)
	}
	if code, out, _ := run(t, "", env, "incident", "list"); code != 0 || out != "no incidents\n" {
		t.Fatalf("incident list with none: %d %q", code, out)
	}
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	// Without --url or STEWARD_URL the server's own configuration says
	// where it listens: the config file's addr (a wildcard host is reached
	// on loopback), or STEWARD_ADDR as the server's environment sets it.
	_, port, _ := strings.Cut(hostPort, ":")
	cfgFile := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(cfgFile, []byte("addr: \"0.0.0.0:"+port+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "", map[string]string{"STEWARD_TOKEN": admin.Token}, "posture", "show", "--config", cfgFile); code != 0 ||
		!strings.Contains(out, "level 0") {
		t.Fatalf("with --config: %d %q %s", code, out, errs)
	}
	if code, out, errs := run(t, "", map[string]string{"STEWARD_TOKEN": admin.Token, "STEWARD_ADDR": hostPort}, "incident", "list"); code != 0 ||
		out != "no incidents\n" {
		t.Fatalf("with STEWARD_ADDR: %d %q %s", code, out, errs)
	}
	if code, _, errs := run(t, "", map[string]string{"STEWARD_TOKEN": admin.Token}, "posture", "show", "--config", filepath.Join(t.TempDir(), "none.yaml")); code != 2 ||
		!strings.Contains(errs, "none.yaml") {
		t.Fatalf("with a missing --config: %d %s", code, errs)
	}
	if code, _, errs := run(t, "", map[string]string{"STEWARD_TOKEN": admin.Token}, "posture", "show", "--url", hostPort); code != 2 ||
		!strings.Contains(errs, "--url must be http://HOST:PORT") {
		t.Fatalf("--url without a scheme: %d %s", code, errs)
	}
	if code, _, errs := run(t, "", env, "posture", "set", "--level", "1", "--reason", "x"); code != 1 ||
		!strings.Contains(errs, "scope") {
		t.Fatalf("level 1 without a scope: %d %s", code, errs)
	}
	// Flags that would do nothing, or the wrong thing, are refused before
	// anything is sent: without --level a set would hold level 0 by hand.
	for _, args := range [][]string{
		{"posture", "set", "--all", "--human", "--reason", "send everything to people"},
		{"posture", "set", "--level", "2", "--all", "--reason", "x"},
		{"posture", "show", "--level", "2"},
		{"posture", "auto", "--reason", "x"},
		// The incident commands' flags belong to one subcommand each: declare
		// --note used to drop the note and succeed.
		{"incident", "declare", "--title", "t", "--note", "failover started"},
		{"incident", "update", "inc-1", "--severity", "critical"},
		{"incident", "resolve", "inc-1", "--phase", "monitoring"},
		{"incident", "list", "--title", "x"},
	} {
		if code, out, errs := run(t, "", env, args...); code != 2 || out != "" || !strings.Contains(errs, "--") {
			t.Errorf("%v: %d %q %s, want a usage error", args, code, out, errs)
		}
	}
	if _, out, _ := run(t, "", env, "posture", "show", "--json"); !strings.Contains(out, `"level":0`) || strings.Contains(out, `"manual":true`) {
		t.Fatalf("a refused command changed the posture: %s", out)
	}
	if _, out, _ := run(t, "", env, "incident", "list"); out != "no incidents\n" {
		t.Fatalf("a refused declare declared: %q", out)
	}
	code, out, errs := run(t, "", env, "posture", "set", "--level", "1", "--categories", "refunds", "--human",
		"--reason", "refund gateway down")
	if code != 0 || !strings.Contains(out, "level 1 (set by hand): level 1: refunds handed to humans") {
		t.Fatalf("posture set: %d %q %s", code, out, errs)
	}
	if strings.Contains(errs, "warning") {
		t.Errorf("level 1 warned: %s", errs)
	}
	// Level 2 cannot roll the demo's one release back: set, with a warning.
	code, out, errs = run(t, "", env, "posture", "set", "--level", "2", "--reason", "answers are wrong")
	if code != 0 || !strings.Contains(out, "level 2") || !strings.Contains(errs, "warning: could not roll back the knowledge base") {
		t.Fatalf("level 2: %d %q %s", code, out, errs)
	}
	code, out, errs = run(t, "", env, "posture", "set", "--level", "1", "--categories", "refunds", "--human",
		"--reason", "refund gateway down")
	if code != 0 {
		t.Fatalf("back to level 1: %d %q %s", code, out, errs)
	}
	code, out, _ = run(t, "", env, "incident", "list")
	if code != 0 || !strings.Contains(out, "identified") || !regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:`).MatchString(out) {
		t.Fatalf("incident list: %d %q, want the phase and the start", code, out)
	}
	id := strings.Fields(out)[0]
	// A change prints the incident as list does, not the API's raw JSON (--json gives that).
	if code, out, errs := run(t, "", env, "incident", "update", id, "--note", "gateway vendor paged"); code != 0 ||
		!strings.HasPrefix(out, id+" [") || strings.Contains(out, "{") {
		t.Fatalf("update: %d %q %s", code, out, errs)
	}
	code, out, _ = run(t, "", env, "incident", "show", id)
	if code != 0 || !strings.Contains(out, "gateway vendor paged") {
		t.Fatalf("show: %q", out)
	}
	// The answer to auto describes the posture, as set's does (it printed
	// "level N (automatic): " and nothing after).
	if code, out, errs := run(t, "", env, "posture", "auto"); code != 0 || strings.HasSuffix(strings.TrimSpace(out), ":") {
		t.Fatalf("auto: %d %q %s", code, out, errs)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, out, _ = run(t, "", env, "posture", "show", "--json")
		var p struct {
			Posture struct{ Level int } `json:"posture"`
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("posture show --json: %v %q", err, out)
		}
		if p.Posture.Level == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still degraded: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, out, _ = run(t, "", env, "incident", "show", id)
		if code == 0 && strings.Contains(out, "[resolved,") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the incident did not resolve with the posture: %q", out)
		}
	}
	code, out, _ = run(t, "", env, "incident", "postmortem", id)
	if code != 0 || !strings.Contains(out, "# Postmortem") || !strings.Contains(out, "gateway vendor paged") {
		t.Fatalf("postmortem: %q", out)
	}
	if code, _, errs := run(t, "", env, "incident", "resolve", "inc-nope"); code != 1 || !strings.Contains(errs, "not_found") {
		t.Fatalf("resolving an unknown incident: %d %s", code, errs)
	}
}
