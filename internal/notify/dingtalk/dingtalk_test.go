package dingtalk

import (
	"net/url"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/notify"
)

func TestReplyError(t *testing.T) {
	for _, c := range []struct {
		code      int
		ok        bool
		permanent bool
		pause     time.Duration
	}{
		{0, true, false, 0},
		{CodeTooFast, false, false, RateLimitPause},
		{CodeSecurity, false, true, 0},
		{CodeTokenInvalid, false, true, 0},
		{400102, false, true, 0}, // robot stopped
		{CodeMissingParam, false, true, 0},
		{-1, false, false, 0}, // system busy
	} {
		code := c.code
		err := replyError(reply{ErrCode: &code, ErrMsg: "x"})
		pause, _ := notify.RetryAfter(err)
		if (err == nil) != c.ok || notify.IsPermanent(err) != c.permanent || pause != c.pause {
			t.Errorf("errcode %d: %v", c.code, err)
		}
	}
}

func TestSignedURLEscapesTheSign(t *testing.T) {
	// DingTalk's documented example: the sign is base64, then URL-escaped.
	u := signedURL("https://oapi.dingtalk.com/robot/send?access_token=tok", "SECtest", time.UnixMilli(1_577_262_236_757))
	want := "https://oapi.dingtalk.com/robot/send?access_token=tok&sign=" + url.QueryEscape(Sign("SECtest", "1577262236757")) + "&timestamp=1577262236757"
	if u != want {
		t.Fatalf("signedURL = %s\nwant %s", u, want)
	}
}
