package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// sessionsStuck is a real store whose sessions cannot be ended: the
// database refusing that one statement (locked, full, gone away).
type sessionsStuck struct{ auth.Store }

func (sessionsStuck) DeleteUserSessions(context.Context, string) error {
	return errors.New("database is locked")
}

// A disable or a password change that is stored is audited even when
// ending the account's sessions fails afterwards: the change stands (the
// account is disabled, the password is new), so the log must hold it.
// Both were recorded only after the sessions had ended, and the failure
// returned first.
func TestAStoredAccountChangeIsAuditedWhenItsSessionsCannotEnd(t *testing.T) {
	ctx := context.Background()
	for _, change := range []string{"user.disable", "user.password"} {
		t.Run(change, func(t *testing.T) {
			db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
			log := audit.New(db, nil)
			svc := auth.NewService(sessionsStuck{db}, auth.Options{BcryptCost: bcrypt.MinCost, Audit: log})
			u, err := svc.AddUser(ctx, auth.System, auth.NewUser{Email: "a@example.com", Role: auth.RoleAgent, Password: "old secret pass"})
			if err != nil {
				t.Fatal(err)
			}
			switch change {
			case "user.disable":
				_, err = svc.SetDisabled(ctx, auth.System, "a@example.com", true)
			case "user.password":
				err = svc.SetPassword(ctx, auth.System, u, "brand new pass 2026")
			}
			if err == nil {
				t.Fatal("the change reported success although the sessions could not be ended")
			}
			entries, err := log.Entries(ctx, audit.Query{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range entries {
				if e.Action == change && e.Object == "user:"+u.ID {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s audit record for the stored change; entries: %+v", change, entries)
			}
		})
	}
}
