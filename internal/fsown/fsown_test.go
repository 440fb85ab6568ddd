//go:build unix

package fsown_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/steward-cs/steward/internal/fsown"
)

const nobody = 65534

func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// Run as root, a file written to replace another gets the replaced file's
// owner, or its directory's when there is none.
func TestLikeKeepsTheOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(old, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(old, nobody, 0); err != nil {
		t.Fatal(err)
	}
	written := filepath.Join(dir, ".keys-tmp")
	if err := os.WriteFile(written, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fsown.Like(written, old); err != nil {
		t.Fatal(err)
	}
	if uid, gid := owner(t, written); uid != nobody || gid != 0 {
		t.Fatalf("owner %d:%d, want the replaced file's %d:0", uid, gid, nobody)
	}
	fresh := filepath.Join(dir, "steward.db.tmp")
	if err := os.WriteFile(fresh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fsown.Like(fresh, filepath.Join(dir, "steward.db")); err != nil {
		t.Fatal(err)
	}
	if uid, gid := owner(t, fresh); uid != nobody || gid != nobody {
		t.Fatalf("owner %d:%d, want the directory's %d:%d", uid, gid, nobody, nobody)
	}
}
