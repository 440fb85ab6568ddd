package httpapi

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/errcode"
)

// Whatever a client sends, the decoders answer with a value or a client
// error (invalid or too large) that says what was wrong: never a panic,
// never an internal error. Seeds are in testdata/fuzz/FuzzDecodeBody.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"text":"hi"}`, `{"locale":"zh-CN","customer":{"name":"x","vip":true}}`, `{"text":1}`,
		`{"text":"a"}{"text":"b"}`, `{"unknown":1}`, "\xff", ``, ` `, `[1,2]`, `{"contact":"138","message":"m"}`,
		`{"score":5,"tags":["slow"],"comment":"\u0000"}`, `{"email":"a@b.co","password":"x"}`, `{"ref":"m1"}`,
		`{"text":"` + string(bytes.Repeat([]byte("长"), 5000)) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{&postMessageRequest{}, &createRequest{}, &offlineRequest{}, &ratingRequest{}, &loginRequest{},
			&revealRequest{}, &entryRequest{}, &textRequest{}}
		for _, v := range targets {
			for _, optional := range []bool{false, true} {
				r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
				err := decodeBody(r, v, 1<<12, optional)
				if err == nil {
					continue
				}
				switch code := errcode.Code(err); code {
				case errcode.Invalid, errcode.TooLarge:
					if errcode.Message(err) == "" || errcode.MessageZH(err) == "" {
						t.Fatalf("%T: %q: an error without a message in both languages: %v", v, body, err)
					}
					if msg := errcode.Message(err); strings.Contains(msg, "httpapi.") {
						t.Fatalf("%T: %q: the error names a Go type: %s", v, body, msg)
					}
				default:
					t.Fatalf("%T: %q answered with %s: %v", v, body, code, err)
				}
			}
		}
	})
}
