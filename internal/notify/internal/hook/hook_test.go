package hook

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/notify"
)

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x", "https://oapi.dingtalk.com/robot/REDACTED?access_token=REDACTED&sign=REDACTED&timestamp=REDACTED"},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d", "https://open.feishu.cn/open-apis/REDACTED"},
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/services/REDACTED"},
		{"https://example.com/", "https://example.com"},
		{"https://user:pw@example.com/hook", "https://example.com/hook"},
		{"::not a url", "(invalid URL)"},
		// A first segment that is not a plain word may be the secret.
		{"https://ntfy.sh/s3cr3t-topic", "https://ntfy.sh/REDACTED"},
		{"https://hooks.example.com/Ab9xKq2/notify", "https://hooks.example.com/REDACTED"},
		{"https://hooks.example.com/averyveryverylongsecrettopic", "https://hooks.example.com/REDACTED"},
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", DefaultRetryAfter},
		{"12", 12 * time.Second},
		{"0", DefaultRetryAfter},
		{"-3", DefaultRetryAfter},
		{"soon", DefaultRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), DefaultRetryAfter},
		// Pauses past what a Duration holds overflowed into a negative or
		// tiny one ("18446744074" came out as 290 ms), and the outbox
		// retried the receiver within seconds: they are a year now, which
		// the outbox cuts to the notice's last day.
		{"10000000000", maxRetryAfter},
		{"18446744074", maxRetryAfter},
		{"99999999999999999999999", maxRetryAfter},
		{"-99999999999999999999999", DefaultRetryAfter},
		{"31536000", 365 * 24 * time.Hour},
	} {
		if got := RetryAfter(c.in, now, DefaultRetryAfter); got != c.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestStatusError(t *testing.T) {
	for _, c := range []struct {
		status    int
		permanent bool
		pause     bool
	}{
		{301, true, false}, {400, true, false}, {401, true, false}, {403, true, false}, {404, true, false},
		{410, true, false}, {422, true, false}, {408, false, false}, {429, false, true}, {500, false, false},
		{502, false, false}, {503, false, false},
	} {
		err := StatusError("x", &Reply{Status: c.status, Header: http.Header{}, Body: []byte("nope")})
		_, pause := notify.RetryAfter(err)
		if notify.IsPermanent(err) != c.permanent || pause != c.pause || !strings.Contains(err.Error(), "nope") {
			t.Errorf("%d: %v (permanent %v, pause %v)", c.status, err, notify.IsPermanent(err), pause)
		}
	}
}

func TestSnippetCutsOnARune(t *testing.T) {
	s := Snippet([]byte(strings.Repeat("告", 300)))
	if !strings.HasSuffix(s, `…"`) || strings.ContainsRune(s, '\uFFFD') || len(s) > 210 {
		t.Fatalf("snippet = %s", s)
	}
}
