package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/steward-cs/steward/internal/errcode"
)

func TestRolesGrantWhatTheDocsSay(t *testing.T) {
	cases := []struct {
		role Role
		p    Permission
		want bool
	}{
		{RoleAdmin, UsersManage, true},
		{RoleSupervisor, UsersManage, false},
		{RoleSupervisor, DeskSupervise, true},
		{RoleAgent, DeskWork, true},
		{RoleAgent, DeskSupervise, false},
		{RoleAgent, DeskReadAll, false},
		{RoleAuditor, DeskReadAll, true},
		{RoleAuditor, DeskWork, false},
		{RoleAdmin, IdentityVouch, true},
		{RoleSupervisor, IdentityVouch, false},
		{RoleAgent, IdentityVouch, false},
		{RoleAuditor, IdentityVouch, false},
		{RoleAuditor, TicketsWork, false},
		{RoleAdmin, DebugProfile, true},
		{RoleSupervisor, DebugProfile, false},
		{RoleAgent, DebugProfile, false},
		{RoleAuditor, DebugProfile, false},
		{Role("boss"), DeskRead, false},
	}
	for _, tc := range cases {
		if got := tc.role.Can(tc.p); got != tc.want {
			t.Errorf("%s can %s = %v", tc.role, tc.p, got)
		}
	}
	if (&User{Role: RoleAdmin, Disabled: true}).Can(DeskRead) {
		t.Error("a disabled admin can still read")
	}
}

func TestPasswordRules(t *testing.T) {
	s := NewService(nil, Options{BcryptCost: bcrypt.MinCost})
	const email, name = "Li.Lei@example.com", "Li Lei"
	for _, tc := range []struct {
		pw   string
		want string // a part of the refusal; "" for accepted
	}{
		{"t4k!e9qz2", "at least 10 characters"}, // 9 characters
		{"t4k!e9qz2w", ""},                      // 10
		{"密码要足够长才可以用的", ""},                     // 11 runes, 33 bytes
		{"短密码也不行", "至少需要 10 个字符"},
		{string(make([]byte, 73)), "at most 72 bytes"}, // bcrypt would silently drop the rest
		{"\xff\xfe long enough", "not valid UTF-8"},
		{"aaaaaaaaaaaa", "one character repeated"},
		{"            ", "one character repeated"},
		{"哈哈哈哈哈哈哈哈哈哈", "同一个字符的重复"},
		{"aaaaaaaaaab", ""},
		{"li.lei@example.com", "email address or name"},
		{"LI.LEI@EXAMPLE.COM", "email address or name"},
		{"li.lei1234", "email address or name"},
		{"Li Lei 2024", "email address or name"},
		{"lilei", "at least 10"},
		{"1234567890", "most common passwords"},
		{"Password123", "most common passwords"},
		{"woaini1314", "密码过于常见"},
		{"QWERTYUIOP", "most common passwords"},
		{"correct horse battery", ""},
		{"li.lei生日快乐", "email address or name"}, // four characters added, 12 bytes
	} {
		err := CheckPassword(tc.pw, email, name)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckPassword(%q): %v, want accepted", tc.pw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(errcode.Message(err), tc.want) || errcode.Code(err) != errcode.Invalid {
			t.Errorf("CheckPassword(%q): %v, want an invalid error saying %q", tc.pw, err, tc.want)
		}
	}
	// Every refusal says it in both languages.
	for _, err := range []error{errPasswordShort, errPasswordLong, errPasswordUTF8, errPasswordRepeated, errPasswordPersonal, errPasswordCommon} {
		msg := errcode.Message(err)
		if !strings.ContainsFunc(msg, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) || !strings.Contains(msg, "password") {
			t.Errorf("%q is not in English and Chinese", msg)
		}
	}
	// The hash is checked against the same policy.
	if _, err := s.hash("1234567890", email, name); err == nil {
		t.Error("hash accepted a common password")
	}
	for p := range commonPasswords {
		if p != fold(p) || len([]rune(p)) < MinPassword {
			t.Errorf("common password %q is not folded or is shorter than the minimum", p)
		}
	}
}

func TestFailedLoginsLockOnlyThatEmailAndExpire(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := NewService(nil, Options{BcryptCost: bcrypt.MinCost, Now: func() time.Time { return now }})
	for range 5 {
		s.fail("a@x.co", now)
	}
	if !s.locked("a@x.co", now) || s.locked("b@x.co", now) {
		t.Fatal("five failures should lock a@x.co and only it")
	}
	if s.locked("a@x.co", now.Add(16*time.Minute)) {
		t.Fatal("the lock outlived its window")
	}
	// The table stays bounded under a spray of made-up emails.
	for i := range maxTracked + 100 {
		s.fail(string(rune('a'+i%26))+time.Duration(i).String()+"@x.co", now)
	}
	if n := len(s.failures); n > maxTracked {
		t.Fatalf("failure table grew to %d", n)
	}
}

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]string{" Li.Lei@Example.COM ": "li.lei@example.com", "a@b.co": "a@b.co"} {
		if got, err := validEmail(in); err != nil || got != want {
			t.Errorf("validEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "no-at", "Name <a@b.co>", "a@b.co, c@d.co"} {
		if _, err := validEmail(bad); err == nil {
			t.Errorf("validEmail(%q) accepted", bad)
		}
	}
}

// noUsers is a store without accounts: every email is unknown, and its
// wrong passwords are checked against the dummy hash as a real one's.
type noUsers struct{ Store }

func (noUsers) UserByEmail(context.Context, string) (*User, error) {
	return nil, errcode.Errorf(errcode.NotFound, "no such user")
}

// Guesses sent in parallel count against the lock while they are checked:
// at most MaxFailures passwords of one account are ever compared within
// the window. They used to pass the lock all together while bcrypt ran.
func TestParallelGuessesMeetTheLock(t *testing.T) {
	s := NewService(noUsers{}, Options{BcryptCost: 12})
	var wg sync.WaitGroup
	var checked, refused atomic.Int32
	for range 24 {
		wg.Go(func() {
			_, err := s.Login(context.Background(), "victim@x.co", "not the password")
			switch errcode.Code(err) {
			case errcode.Unauthorized:
				checked.Add(1)
			case errcode.RateLimited:
				refused.Add(1)
			default:
				t.Errorf("a guess answered %v", err)
			}
		})
	}
	wg.Wait()
	if checked.Load() != 5 || refused.Load() != 19 {
		t.Fatalf("%d guesses checked, %d refused; want 5 checked (MaxFailures) and the rest refused", checked.Load(), refused.Load())
	}
}

// The lock lasts the window from the failure that set it, as the refusal
// says, not from the oldest of the failures; and filling the failure table
// with made-up emails does not lift it.
func TestLockLastsItsWindowAndSurvivesASpray(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := NewService(nil, Options{BcryptCost: bcrypt.MinCost, Now: func() time.Time { return now }})
	for _, m := range []int{0, 1, 2, 3, 14} {
		s.fail("a@x.co", now.Add(time.Duration(m)*time.Minute))
	}
	locked := now.Add(14 * time.Minute)
	if !s.locked("a@x.co", locked.Add(14*time.Minute)) {
		t.Fatal("the lock set at minute 14 lifted before its 15 minutes were over")
	}
	if s.locked("a@x.co", locked.Add(16*time.Minute)) {
		t.Fatal("the lock outlived its window")
	}
	s.fail("b@x.co", now)
	for range 4 {
		s.fail("b@x.co", now)
	}
	for i := range maxTracked + 100 {
		s.fail(fmt.Sprintf("spray%d@x.co", i), now)
	}
	if !s.locked("b@x.co", now) {
		t.Fatal("a spray of made-up emails lifted b@x.co's lock")
	}
}
