//go:build unix

package guard

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// `sudo steward keys rotate` rewrites the key file: it keeps the server
// user's ownership (it became root's, 0600, and the server could no longer
// read its keys).
func TestAKeyFileWrittenByRootKeepsItsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	path := filepath.Join(t.TempDir(), "pii-keys.json")
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	kf, err := ParseKeys("k1:" + secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := kf.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := kf.Write(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the rewritten key file is %d:%d %v, want 65534:65534 0600", st.Uid, st.Gid, fi.Mode().Perm())
	}
}
