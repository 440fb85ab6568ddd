package config

import (
	"strings"
	"testing"
)

func TestFingerprintLeavesSecretsOut(t *testing.T) {
	base := Default()
	base.Database = "postgres://steward:db-Pa55word@db.internal:5432/steward"
	base.Notify.Channels = []Channel{
		{Name: "ops", Type: "dingtalk", Settings: map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=AT-123", "secret": "SEC-abc"}},
		{Name: "hook", Type: "webhook", Settings: map[string]any{"url": "https://hooks.example.com/T0/B0/XYZ", "headers": map[string]any{"Authorization": "Bearer HDR-1"}}},
		{Name: "mail", Type: "email", Settings: map[string]any{"host": "smtp.example.com", "password": "MAIL-pw"}},
	}
	sum, sections := base.Fingerprint()
	if len(sum) != 64 || sections["notify"] == "" || sections["desk"] == "" {
		t.Fatalf("fingerprint %q %v", sum, sections)
	}
	// The same settings give the same fingerprint; a secret alone does not
	// change it (it is not in it)...
	same := base
	same.Notify.Channels = append([]Channel(nil), base.Notify.Channels...)
	same.Notify.Channels[0].Settings = map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=OTHER", "secret": "OTHER"}
	same.Database = "postgres://steward:another@db.internal:5432/steward"
	if got, _ := same.Fingerprint(); got != sum {
		t.Error("a secret changed the fingerprint: it is in it")
	}
	// ...and what is not a secret does, in its own section only.
	changed := base
	changed.Desk.ManualAssign = true
	got, gotSections := changed.Fingerprint()
	if got == sum || gotSections["desk"] == sections["desk"] || gotSections["notify"] != sections["notify"] {
		t.Errorf("a desk change: %v vs %v", gotSections, sections)
	}
	// Turning Secure cookies off is a change to audit (a bool is no secret);
	// a node's own name is not (every node of a cluster has its own).
	cookies := base
	cookies.SecureCookies = !base.SecureCookies
	if got, _ := cookies.Fingerprint(); got == sum {
		t.Error("secure_cookies left the fingerprint unchanged")
	}
	node := base
	node.Node = "node-2"
	if got, _ := node.Fingerprint(); got != sum {
		t.Error("the node's name changed the fingerprint: each node's start was recorded as a config change")
	}
	// Nothing secret is left in what is hashed.
	scrubbed := scrub("", map[string]any{"database": base.Redacted(), "notify": map[string]any{"channels": []any{
		base.Notify.Channels[0].Settings, base.Notify.Channels[1].Settings, base.Notify.Channels[2].Settings}}})
	text := digestInput(scrubbed)
	for _, secret := range []string{"db-Pa55word", "AT-123", "SEC-abc", "XYZ", "HDR-1", "MAIL-pw"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q survived scrubbing: %s", secret, text)
		}
	}
}

func digestInput(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				b.WriteString(k + "=")
				walk(e)
				b.WriteString(";")
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		default:
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " ")))
		}
	}
	walk(v)
	return b.String()
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
