package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// Two admins disabling each other at the same moment, each through its own
// node (its own connection pool and writer on the shared database), must
// not both succeed: one enabled admin always remains.
func TestLastAdminSurvivesConcurrentChanges(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			opts := b.Options(t)
			nodes := []*store.DB{testutil.OpenStore(t, opts)}
			if opts.DatabaseURL != "" {
				nodes = append(nodes, testutil.OpenStore(t, opts)) // a second node; SQLite has one
			} else {
				nodes = append(nodes, nodes[0])
			}
			now := time.Now().UTC().Truncate(time.Millisecond)
			admins := make([]*auth.User, 2)
			for i, id := range []string{"a1", "a2"} {
				admins[i] = &auth.User{ID: id, Email: id + "@example.com", Role: auth.RoleAdmin, CreatedAt: now, UpdatedAt: now}
				if err := nodes[0].CreateUser(ctx, admins[i]); err != nil {
					t.Fatal(err)
				}
			}

			// Alone, the last admin cannot go; a non-admin change passes.
			if _, err := nodes[0].ModifyUser(ctx, "a1", func(u *auth.User) (bool, error) {
				u.Disabled = true
				return true, nil
			}); err != nil {
				t.Fatalf("disable one of two admins: %v", err)
			}
			_, err := nodes[1].ModifyUser(ctx, "a2", func(u *auth.User) (bool, error) {
				u.Role = auth.RoleAgent
				return true, nil
			})
			if !errors.Is(err, auth.ErrNoAdminLeft) {
				t.Fatalf("demote the last admin: %v, want ErrNoAdminLeft", err)
			}
			if u, err := nodes[0].User(ctx, "a2"); err != nil || u.Role != auth.RoleAdmin {
				t.Fatalf("after the refusal a2 is %+v (%v), want still admin", u, err)
			}

			for round := range 30 {
				for _, u := range admins {
					if _, err := nodes[0].ModifyUser(ctx, u.ID, func(x *auth.User) (bool, error) {
						x.Disabled = false
						return false, nil
					}); err != nil {
						t.Fatal(err)
					}
				}
				var start, done sync.WaitGroup
				start.Add(1)
				errs := make([]error, 2)
				for i := range 2 {
					done.Go(func() {
						start.Wait()
						_, errs[i] = nodes[i].ModifyUser(ctx, admins[i].ID, func(x *auth.User) (bool, error) {
							x.Disabled = true
							return true, nil
						})
					})
				}
				start.Done()
				done.Wait()
				users, err := nodes[0].Users(ctx)
				if err != nil {
					t.Fatal(err)
				}
				enabled := 0
				for _, u := range users {
					if u.Role == auth.RoleAdmin && !u.Disabled {
						enabled++
					}
				}
				refused := 0
				for _, err := range errs {
					if errors.Is(err, auth.ErrNoAdminLeft) {
						refused++
					} else if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				if enabled != 1 || refused != 1 {
					t.Fatalf("round %d: %d enabled admins and %d refusals (errors %v), want 1 and 1", round, enabled, refused, errs)
				}
			}
		})
	}
}

// A console's beat records the time alone: it must not write back a status
// read before the agent changed it (Desk.Touch racing PUT /presence).
func TestPresenceBeatKeepsTheStatus(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := testutil.OpenStore(t, b.Options(t))
			now := time.Now().UTC().Truncate(time.Millisecond)
			u := &auth.User{ID: "ag1", Email: "ag1@example.com", Role: auth.RoleAgent, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := db.SetPresence(ctx, u.ID, auth.Away, now); err != nil {
				t.Fatal(err)
			}
			beat := now.Add(30 * time.Second)
			if err := db.SetPresence(ctx, u.ID, "", beat); err != nil {
				t.Fatal(err)
			}
			got, err := db.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Presence != auth.Away || !got.PresenceAt.Equal(beat) {
				t.Fatalf("after a beat: %s at %v, want away at %v", got.Presence, got.PresenceAt, beat)
			}
			if err := db.SetPresence(ctx, "nobody", "", beat); err == nil {
				t.Fatal("a beat of an unknown user succeeded")
			}
		})
	}
}

// The lock-out after five failed sign-ins holds for the account, not for
// one node: guesses spread over two nodes, or a restart between them, used
// to get five a node (and a fresh five after each restart). It still ends
// after its window, and a successful sign-in forgets the failures.
func TestLoginLockOutHoldsOnEveryNode(t *testing.T) {
	testutil.ForEachBackendOnTwoNodes(t, func(t *testing.T, nodes [2]*store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		service := func(db *store.DB) *auth.Service {
			return auth.NewService(db, auth.Options{BcryptCost: bcrypt.MinCost, Now: clock})
		}
		a, b := service(nodes[0]), service(nodes[1])
		if _, err := a.AddUser(ctx, auth.System, auth.NewUser{Email: "li@example.com", Role: auth.RoleAgent,
			Password: "the right passphrase"}); err != nil {
			t.Fatal(err)
		}
		login := func(s *auth.Service, password string) error {
			_, err := s.Login(ctx, "li@example.com", password)
			return err
		}
		for i, s := range []*auth.Service{a, b, a, b, a} {
			if err := login(s, "guess"); errcode.Code(err) != errcode.Unauthorized {
				t.Fatalf("guess %d: %v, want a wrong-password answer", i+1, err)
			}
		}
		for name, s := range map[string]*auth.Service{"node 1": a, "node 2": b, "node 1 restarted": service(nodes[0])} {
			err := login(s, "the right passphrase")
			if e, ok := errors.AsType[*errcode.Error](err); !ok || e.Code != errcode.RateLimited || e.RetryAfter != 15*time.Minute {
				t.Fatalf("%s after five failures over two nodes: %v, want the account locked for 15 minutes", name, err)
			}
		}
		now = now.Add(16 * time.Minute)
		if err := login(b, "the right passphrase"); err != nil {
			t.Fatalf("after the lock's window: %v", err)
		}
		// The sign-in forgot the failures: four more do not lock.
		for range 4 {
			if err := login(a, "guess"); errcode.Code(err) != errcode.Unauthorized {
				t.Fatal(err)
			}
		}
		if err := login(b, "the right passphrase"); err != nil {
			t.Fatalf("four failures after a sign-in locked the account: %v", err)
		}
		if n, last, err := nodes[0].LoginFailures(ctx, "", now.Add(-time.Hour)); err != nil || n != 0 || !last.IsZero() {
			t.Fatalf("failures of no account: %d %v", n, err)
		}
	})
}
