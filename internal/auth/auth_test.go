package auth

import (
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
		{RoleAuditor, TicketsWork, false},
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
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"123456789", false},              // 9 characters
		{"1234567890", true},              // 10
		{"密码要足够长才可以用的", true},             // 11 runes, 33 bytes
		{string(make([]byte, 73)), false}, // bcrypt would silently drop the rest
		{"\xff\xfe long enough", false},   // not UTF-8
	} {
		_, err := s.hash(tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("hash(%q): %v, want ok=%v", tc.pw, err, tc.ok)
		}
		if err != nil && errcode.Code(err) != errcode.Invalid {
			t.Errorf("hash(%q): code %s", tc.pw, errcode.Code(err))
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
