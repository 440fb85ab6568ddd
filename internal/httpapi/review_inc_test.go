package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// The incidents console shows an error's message_zh on a Chinese page, and
// its forms let through what these routes refuse: the posture form takes
// any number of comma-separated categories, the silence form any number of
// matcher lines. The refusals have only an English text, so a zh-CN
// operator is told "at most 100 categories, intents and throttled sources"
// or "matchers: give 1 to 20" in English.
func TestConsoleReachableCrisisRefusalsSpeakChinese(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	cats := make([]string, 101)
	for i := range cats {
		cats[i] = fmt.Sprintf("c%d", i)
	}
	matchers := make([]string, 21)
	for i := range matchers {
		matchers[i] = fmt.Sprintf(`l%d="v"`, i)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"101 categories from the posture form", "PUT", "/api/v1/posture",
			map[string]any{"level": 1, "categories": cats, "human": true, "reason": "refunds fail"}},
		{"21 matcher lines from the silence form", "POST", "/api/v1/silences",
			map[string]any{"matchers": matchers, "comment": "known", "duration": "1h"}},
	} {
		status, body := admin.Do(tc.method, tc.path, tc.body)
		var e struct {
			Error struct {
				Message   string `json:"message"`
				MessageZH string `json:"message_zh"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tc.name, status, body)
			continue
		}
		if e.Error.MessageZH == "" {
			t.Errorf("%s: refused with %q and no message_zh: a Chinese console shows it in English", tc.name, e.Error.Message)
		}
	}
}
