package feishu

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/internal/hook"
)

func TestTemplate(t *testing.T) {
	for _, c := range []struct {
		level, status, want string
	}{
		{notify.LevelInfo, notify.StatusFiring, "blue"},
		{notify.LevelWarning, notify.StatusFiring, "orange"},
		{notify.LevelCritical, notify.StatusFiring, "red"},
		{notify.LevelCritical, notify.StatusResolved, "green"},
	} {
		if got := Template(notify.Notice{Level: c.level, Status: c.status}); got != c.want {
			t.Errorf("%s/%s: %s, want %s", c.level, c.status, got, c.want)
		}
	}
}

func TestReplyForms(t *testing.T) {
	for _, c := range []struct {
		body      string
		ok        bool
		permanent bool
	}{
		{`{"code":0,"msg":"success","data":{}}`, true, false},
		{`{"Extra":null,"StatusCode":0,"StatusMessage":"success"}`, true, false},
		{`{"code":19024,"msg":"Key Words Not Found"}`, false, true},
		{`{"code":9499,"msg":"Bad Request"}`, false, true},
		{`{"code":11232,"msg":"frequency limited"}`, false, false},
		{`{"code":500,"msg":"internal"}`, false, false},
	} {
		var rep reply
		if err := json.Unmarshal([]byte(c.body), &rep); err != nil {
			t.Fatal(err)
		}
		code, msg := rep.code()
		err := replyError(*code, msg, &hook.Reply{Status: 200, Header: http.Header{}})
		if (err == nil) != c.ok || notify.IsPermanent(err) != c.permanent {
			t.Errorf("%s: %v", c.body, err)
		}
	}
}
