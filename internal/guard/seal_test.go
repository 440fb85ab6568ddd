package guard

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	k1, k2 := NewKey(time.Now()), NewKey(time.Now())
	ring, err := NewKeyring([]Key{k1, k2}, k2.ID)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ring.Seal([]byte("13812345678"), []byte("c1/m1"))
	if err != nil || s.KeyID != k2.ID || bytes.Contains(s.Data, []byte("13812345678")) {
		t.Fatalf("seal: %+v %v", s, err)
	}
	if p, err := ring.Open(s, []byte("c1/m1")); err != nil || string(p) != "13812345678" {
		t.Fatalf("open: %q %v", p, err)
	}
	if _, err := ring.Open(s, []byte("c2/m1")); err == nil {
		t.Fatal("a record moved to another conversation opened")
	}
	s.Data[len(s.Data)-1] ^= 1
	if _, err := ring.Open(s, []byte("c1/m1")); err == nil {
		t.Fatal("a tampered record opened")
	}
	only1, _ := NewKeyring([]Key{k1}, k1.ID)
	if _, err := only1.Open(Sealed{KeyID: k2.ID, Data: s.Data}, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := NewKeyring([]Key{{ID: "short", Secret: []byte("x")}}, "short"); err == nil {
		t.Fatal("a 1-byte key was accepted")
	}
	if _, err := NewKeyring([]Key{k1}, "missing"); err == nil {
		t.Fatal("an active key outside the ring was accepted")
	}
}

func TestParseKeysAndKeyFile(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	kf, err := ParseKeys("new:" + secret + ", old:" + secret)
	if err != nil || kf.Active != "new" || len(kf.Keys) != 2 {
		t.Fatalf("ParseKeys: %+v %v", kf, err)
	}
	for _, bad := range []string{"", "nocolon", "k:not-base64!", "k:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	ring, created, err := LoadKeyring("", path, true, time.Now())
	if err != nil || !created {
		t.Fatalf("LoadKeyring: %v %v", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	again, created, err := LoadKeyring("", path, true, time.Now())
	if err != nil || created || again.Active() != ring.Active() {
		t.Fatalf("second load made a new key: %v %v", created, err)
	}
	if _, _, err := LoadKeyring("", filepath.Join(t.TempDir(), "none.json"), false, time.Now()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file without create: %v", err)
	}
}

func TestLogHandlerMasks(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log = log.With("customer", "a@b.co")
	log.Debug("call 13812345678", "text", "卡号6222021234567890128", "err", errors.New("id 11010519491231002X"),
		slog.Group("g", "email", "zhang@example.com"), "n", 42, "any", []string{"13912345678"})
	got := out.String()
	for _, secret := range []string{"13812345678", "6222021234567890128", "11010519491231002X", "zhang@example.com", "a@b.co", "13912345678"} {
		if strings.Contains(got, secret) {
			t.Errorf("log carries %s: %s", secret, got)
		}
	}
	if !strings.Contains(got, "138****5678") || !strings.Contains(got, `"n":42`) {
		t.Errorf("log lost its content: %s", got)
	}
	if _, double := LogHandler(LogHandler(slog.NewTextHandler(&out, nil))).(maskingHandler).next.(maskingHandler); double {
		t.Fatal("double wrap")
	}
}

// Changes of the key file are serialised: two `keys rotate` at once each
// read the file before the other wrote it, and the second write lost the
// first's new key, and with it every record sealed under that key.
func TestConcurrentKeyFileChangesKeepEveryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, _, err := LoadKeyring("", path, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	const n = 8
	added := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := UpdateKeyFile(path, func(kf *KeyFile) (*KeyFile, bool, error) {
				id := kf.Rotate(time.Now()).ID
				time.Sleep(5 * time.Millisecond) // the window a rotation's read and write leave
				added <- id
				return kf, true, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(added)
	kf, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := kf.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, id := range ring.IDs() {
		have[id] = true
	}
	for id := range added {
		if !have[id] {
			t.Errorf("key %s was lost: the file holds %v", id, ring.IDs())
		}
	}
	if len(have) != n+1 {
		t.Fatalf("%d keys, want %d", len(have), n+1)
	}
	// A missing file is handed to the change as nil, and nothing is
	// written unless the change says so.
	none := filepath.Join(t.TempDir(), "none.json")
	if _, err := UpdateKeyFile(none, func(kf *KeyFile) (*KeyFile, bool, error) {
		if kf != nil {
			t.Errorf("a missing file read as %+v", kf)
		}
		return kf, false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the missing file after an unchanged update: %v", err)
	}
}

// A key written without its id is the secret alone: the error names its
// place in the list, never its text (it printed the first 8 characters,
// 48 of the key's 256 bits, to the log).
func TestAKeyWithoutItsIDIsNotEchoed(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	_, err := ParseKeys("ok:" + secret + "," + secret)
	if err == nil {
		t.Fatal("a key without an id was accepted")
	}
	if strings.Contains(err.Error(), secret[:4]) || !strings.Contains(err.Error(), "key 2") {
		t.Fatalf("error %q: want the key's place (2) and none of its text", err)
	}
}
