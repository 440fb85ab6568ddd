package errcode_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/steward-cs/steward/internal/errcode"
)

// A localized error carries both messages through wrapping; the Chinese
// format may take the arguments in another order, or others besides.
func TestLocalized(t *testing.T) {
	err := fmt.Errorf("leave message: %w", errcode.Localized(errcode.Invalid, "%[1]s exceeds %[3]d characters", "%[2]s超过 %[3]d 个字",
		"contact", "联系方式", 200))
	if errcode.Code(err) != errcode.Invalid || errcode.Message(err) != "contact exceeds 200 characters" ||
		errcode.MessageZH(err) != "联系方式超过 200 个字" {
		t.Fatalf("code %q, message %q, zh %q", errcode.Code(err), errcode.Message(err), errcode.MessageZH(err))
	}
	if zh := errcode.MessageZH(errcode.Errorf(errcode.Conflict, "no Chinese")); zh != "" {
		t.Errorf("an English-only error has the Chinese message %q", zh)
	}
	if zh := errcode.MessageZH(errors.New("internal")); zh != "" {
		t.Errorf("an internal error has the Chinese message %q", zh)
	}
}
