package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// Fingerprint is a SHA-256 of the effective configuration with its secrets
// removed (passwords, tokens, signing secrets, header values, and the paths
// and queries of URLs, which carry webhook keys), and one per top-level
// section, so that a change can be recorded, and the section it touched
// named, without recording a secret. A change of a secret alone therefore
// does not change the fingerprint.
func (c Config) Fingerprint() (sum string, sections map[string]string) {
	c.Database = c.Redacted()
	// The node's own name is not configuration shared by the cluster: with
	// it, every node of several recorded a "change" at each start.
	c.Node = ""
	var tree map[string]any
	if b, err := yaml.Marshal(c); err == nil {
		_ = yaml.Unmarshal(b, &tree)
	}
	tree = scrub("", tree).(map[string]any)
	sections = make(map[string]string, len(tree))
	for k, v := range tree {
		sections[k] = digest(v)
	}
	return digest(tree), sections
}

func digest(v any) string {
	b, _ := json.Marshal(v) // map keys are sorted: canonical
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// secretKeys are the parts of setting names whose values are secrets.
var secretKeys = []string{"secret", "password", "passwd", "token", "key", "credential", "authorization", "headers", "cookie"}

// scrub copies v with secret values replaced by "(secret)" and URLs cut
// to their scheme and host.
func scrub(key string, v any) any {
	lk := strings.ToLower(key)
	_, isBool := v.(bool) // secure_cookies: true is a setting to audit, not a secret
	// llm.max_tokens counts a model's tokens: a setting, not a secret.
	if !isBool && lk != "max_tokens" {
		for _, s := range secretKeys {
			if strings.Contains(lk, s) && v != nil && v != "" {
				return "(secret)"
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = scrub(k, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = scrub(key, e)
		}
		return out
	case string:
		if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
		return v
	}
	return v
}
