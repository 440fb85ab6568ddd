package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// Originals are sealed under the active key, revealed only through their
// own conversation, re-sealed by a rotation (the old key may then go) and
// erased after the retention period, on both engines.
func TestVaultSealRevealRotateErase(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "keys.json")
		ring, created, err := guard.LoadKeyring("", path, true, time.Now())
		if err != nil || !created {
			t.Fatalf("create key file: created=%v %v", created, err)
		}
		first := ring.Active()
		vault := guard.NewVault(db, ring, 24*time.Hour, nil)
		old := time.Now().Add(-48 * time.Hour)
		p, err := vault.Keep(ctx, "c1", "note:n1", "电话 13812345678", old)
		if err != nil || p.Text != "电话 138****5678" || p.Sealed == nil || p.Sealed.KeyID != first {
			t.Fatalf("keep: %+v %v", p, err)
		}
		if _, err := vault.Keep(ctx, "c1", "note:n2", "card 4111 1111 1111 1111", time.Now()); err != nil {
			t.Fatal(err)
		}
		if p, err := vault.Keep(ctx, "c1", "note:n3", "nothing personal here", time.Now()); err != nil || p.Sealed != nil {
			t.Fatalf("a text without personal data was sealed: %+v %v", p, err)
		}
		// n1 is past the 24 h retention: refused before the sweep erases it
		// (docs/security.md), and revealed by a vault that keeps originals
		// for ever.
		if _, _, err := vault.Reveal(ctx, "c1", "note:n1"); !errors.Is(err, guard.ErrErased) {
			t.Fatalf("reveal past retention, before the sweep: %v, want ErrErased", err)
		}
		text, rec, err := guard.NewVault(db, ring, 0, nil).Reveal(ctx, "c1", "note:n1")
		if err != nil || text != "电话 13812345678" || len(rec.Kinds) != 1 || rec.Kinds[0] != "cn_mobile" {
			t.Fatalf("reveal: %q %+v %v", text, rec, err)
		}
		if _, _, err := vault.Reveal(ctx, "c2", "note:n1"); !errors.Is(err, guard.ErrErased) {
			t.Fatalf("revealed through another conversation: %v", err)
		}
		if _, _, err := vault.Reveal(ctx, "c1", "note:n3"); !errors.Is(err, guard.ErrErased) {
			t.Fatalf("reveal of an unsealed ref: %v", err)
		}

		// Rotate: a new key in the file, every record re-sealed under it.
		kf, err := guard.ReadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		second := kf.Rotate(time.Now()).ID
		if err := kf.Write(path); err != nil {
			t.Fatal(err)
		}
		ring2, err := kf.Keyring()
		if err != nil {
			t.Fatal(err)
		}
		rep, err := guard.NewVault(db, ring2, 0, nil).Rotate(ctx)
		if err != nil || rep.Resealed != 2 || rep.Failed != 0 || rep.ByKey[second] != 2 || rep.ByKey[first] != 0 {
			t.Fatalf("rotate: %+v %v", rep, err)
		}
		// The running ring learns the new key from the file on first need.
		if text, _, err := vault.Reveal(ctx, "c1", "note:n2"); err != nil || text != "card 4111 1111 1111 1111" {
			t.Fatalf("reveal after rotation: %q %v", text, err)
		}
		// With the old key gone, everything still opens.
		kf.Keys = kf.Keys[1:]
		ring3, err := kf.Keyring()
		if err != nil {
			t.Fatal(err)
		}
		if text, _, err := guard.NewVault(db, ring3, 0, nil).Reveal(ctx, "c1", "note:n1"); err != nil || text != "电话 13812345678" {
			t.Fatalf("reveal without the old key: %q %v", text, err)
		}

		// Retention: the 48-hour-old original goes, the fresh one stays.
		n, err := vault.Erase(ctx, time.Now())
		if err != nil || n != 1 {
			t.Fatalf("erase: %d %v", n, err)
		}
		if _, _, err := vault.Reveal(ctx, "c1", "note:n1"); !errors.Is(err, guard.ErrErased) {
			t.Fatalf("an erased original was revealed: %v", err)
		}
		if _, _, err := vault.Reveal(ctx, "c1", "note:n2"); err != nil {
			t.Fatalf("a fresh original was erased: %v", err)
		}

		// Retention set to 0 (keep none): the server has no keyring, a
		// reveal says no original is kept (it was a 500), and what was
		// kept before goes at the next erase (it used to stay for good).
		none := guard.NewVault(db, nil, 0, nil)
		if _, _, err := none.Reveal(ctx, "c1", "note:n2"); !errors.Is(err, guard.ErrErased) {
			t.Fatalf("a reveal with retention 0: %v, want ErrErased", err)
		}
		if n, err := none.Erase(ctx, time.Now()); err != nil || n != 1 {
			t.Fatalf("erase with retention 0: %d %v, want the 1 original left", n, err)
		}
		if text, _, err := vault.Reveal(ctx, "c1", "note:n2"); !errors.Is(err, guard.ErrErased) {
			t.Fatalf("an original outlived retention 0: %q %v", text, err)
		}
	})
}

// A running server seals under the old key until it reads the key file
// again; what it sealed meanwhile is re-sealed when it takes up the new
// active key, so no record is left behind under a key the rotation meant
// to retire.
func TestServerResealsWhatItSealedDuringARotation(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "keys.json")
		ring, _, err := guard.LoadKeyring("", path, true, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		first := ring.Active()
		server := guard.NewVault(db, ring, 0, nil)
		if _, err := server.Keep(ctx, "c1", "note:before", "电话 13812345678", time.Now()); err != nil {
			t.Fatal(err)
		}
		original, err := guard.ReadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		oldRing, err := original.Keyring() // another node that has not read the file again yet
		if err != nil {
			t.Fatal(err)
		}
		// `steward keys rotate`: a new key in the file, what exists re-sealed.
		kf, err := guard.ReadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		second := kf.Rotate(time.Now()).ID
		if err := kf.Write(path); err != nil {
			t.Fatal(err)
		}
		cliRing, err := kf.Keyring()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := guard.NewVault(db, cliRing, 0, nil).Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		// The server has not read the file yet: it still seals under the old key.
		p, err := server.Keep(ctx, "c1", "note:during", "card 4111 1111 1111 1111", time.Now())
		if err != nil || p.Sealed == nil || p.Sealed.KeyID != first {
			t.Fatalf("keep during the rotation: %+v %v", p, err)
		}
		if err := server.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		counts, err := db.VaultKeyCounts(ctx)
		if err != nil || counts[first] != 0 || counts[second] != 2 {
			t.Fatalf("after the server took up the new key: %v %v, want both under %s", counts, err, second)
		}
		if text, _, err := server.Reveal(ctx, "c1", "note:during"); err != nil || text != "card 4111 1111 1111 1111" {
			t.Fatalf("reveal: %q %v", text, err)
		}
		// A write sealed under the old key that lands later (a turn in flight
		// on another node, a spooled write replayed) is re-sealed at the next
		// Refresh: one pass right after the change left it behind.
		if _, err := guard.NewVault(db, oldRing, 0, nil).Keep(ctx, "c1", "note:late", "电话 13900001111", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := server.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if counts, err := db.VaultKeyCounts(ctx); err != nil || counts[first] != 0 || counts[second] != 3 {
			t.Fatalf("after a late write under the old key: %v %v", counts, err)
		}
	})
}
