package auth_test

import (
	"context"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// beforeSession is a real store that runs hook just before a login's
// session is stored: what an admin did while the password was checked.
type beforeSession struct {
	auth.Store
	hook func()
}

func (b *beforeSession) CreateSession(ctx context.Context, s *auth.Session) error {
	if h := b.hook; h != nil {
		b.hook = nil
		h()
	}
	return b.Store.CreateSession(ctx, s)
}

// A password change or a disable that comes while a login checks the
// password ends that login's session too: stored after the change had
// ended the account's sessions, it went on working (with the old, perhaps
// stolen, password; or again once the account was enabled).
func TestALoginDuringAPasswordChangeOrDisableGetsNoSession(t *testing.T) {
	ctx := context.Background()
	for _, change := range []string{"password", "disable"} {
		t.Run(change, func(t *testing.T) {
			st := &beforeSession{Store: testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})}
			svc := auth.NewService(st, auth.Options{BcryptCost: bcrypt.MinCost})
			u, err := svc.AddUser(ctx, auth.System, auth.NewUser{Email: "a@example.com", Role: auth.RoleAgent, Password: "old secret pass"})
			if err != nil {
				t.Fatal(err)
			}
			st.hook = func() {
				switch change {
				case "password":
					fresh, err := svc.User(ctx, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					if err := svc.SetPassword(ctx, auth.System, fresh, "brand new pass 2026"); err != nil {
						t.Fatal(err)
					}
				case "disable":
					if _, err := svc.SetDisabled(ctx, auth.System, "a@example.com", true); err != nil {
						t.Fatal(err)
					}
				}
			}
			l, err := svc.Login(ctx, "a@example.com", "old secret pass")
			if change == "disable" {
				if _, err := svc.SetDisabled(ctx, auth.System, "a@example.com", false); err != nil {
					t.Fatal(err)
				}
			}
			if err == nil {
				if _, err := svc.FromCookie(ctx, l.Token); err == nil {
					t.Fatalf("the login's session works after the %s change", change)
				}
			}
		})
	}
}
