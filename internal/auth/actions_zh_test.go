package auth

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/errcode"
)

// Every action a role can be refused is said in Chinese too: a Chinese
// console showed "您的角色无权执行此操作（reply to customers）". The actions
// are found in the code: need(…, "action"), ErrNotPermitted("action"), the
// crisis API's permWhat, and the knowledge base's entry actions.
func TestEveryRefusedActionHasChinese(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`need\([a-zA-Z.]+, auth\.[A-Za-z]+, "([^"]+)"\)`),
		regexp.MustCompile(`ErrNotPermitted\("([^"]+)"\)`),
		regexp.MustCompile(`auth\.[A-Za-z]+: +"([^"]+)",`), // permWhat
	}
	found := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				found[m[1]] = true
			}
		}
		if strings.Contains(string(b), `action+" entries"`) {
			for _, a := range []string{"submit", "approve", "reject", "retire"} {
				found[a+" entries"] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 30 {
		t.Fatalf("found %d refused actions in the code, want the 40 or so there are: the patterns no longer match", len(found))
	}
	for action := range found {
		if actionsZH[action] == "" {
			t.Errorf("no Chinese for the refused action %q (actionsZH)", action)
		}
	}
	e, ok := ErrNotPermitted("reply to customers").(*errcode.Error)
	if !ok || e.Code != errcode.Forbidden || e.Message != "your role may not reply to customers" || e.MessageZH != "您的角色无权回复客户" {
		t.Errorf("ErrNotPermitted: %+v", e)
	}
}
