package guard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/fsown"
)

// Sealed is a text encrypted under one key of a Keyring: AES-256-GCM, the
// nonce first. KeyID names the key, so rotation can find what to re-seal.
type Sealed struct {
	KeyID string `json:"key_id"`
	Data  []byte `json:"data"`
}

// Key is one AES-256 key.
type Key struct {
	ID      string    `json:"id"`
	Secret  []byte    `json:"key"` // 32 bytes; base64 in JSON
	Created time.Time `json:"created,omitempty"`
}

// ErrUnknownKey is returned for a record sealed under a key the ring lacks.
var ErrUnknownKey = errors.New("sealed under a key this keyring does not have")

// Keyring holds the keys that may open records and the one that seals new
// ones. It is safe for concurrent use.
type Keyring struct {
	mu     sync.RWMutex
	aeads  map[string]cipher.AEAD
	keys   []Key
	active string
	path   string // the key file it was read from, if any: Reload reads it again
}

// NewKeyring returns a ring of keys with active sealing.
func NewKeyring(keys []Key, active string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for _, key := range keys {
		if err := k.add(key); err != nil {
			return nil, err
		}
	}
	if _, ok := k.aeads[active]; !ok {
		return nil, fmt.Errorf("active key %q is not in the keyring", active)
	}
	k.active = active
	return k, nil
}

func (k *Keyring) add(key Key) error {
	if key.ID == "" || strings.ContainsAny(key.ID, ":, \t\n") {
		return fmt.Errorf("key id %q: want a non-empty id without spaces, commas or colons", key.ID)
	}
	if len(key.Secret) != 32 {
		return fmt.Errorf("key %s: want 32 bytes (AES-256), got %d", key.ID, len(key.Secret))
	}
	if _, dup := k.aeads[key.ID]; dup {
		return fmt.Errorf("key %s appears twice", key.ID)
	}
	block, err := aes.NewCipher(key.Secret)
	if err != nil {
		return fmt.Errorf("key %s: %w", key.ID, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("key %s: %w", key.ID, err)
	}
	k.aeads[key.ID] = aead
	k.keys = append(k.keys, key)
	return nil
}

// Active is the id of the key new records are sealed with.
func (k *Keyring) Active() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active
}

// IDs lists the ring's key ids, oldest first.
func (k *Keyring) IDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return ids
}

// Missing lists, sorted, the key ids that records are sealed under
// (counts: records by key id) and the ring does not hold: those records
// cannot be opened until their key is back.
func (k *Keyring) Missing(counts map[string]int64) []string {
	have := map[string]bool{}
	for _, id := range k.IDs() {
		have[id] = true
	}
	var missing []string
	for id, n := range counts {
		if n > 0 && !have[id] {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	return missing
}

// Seal encrypts plain under the active key. aad binds the record to where
// it is stored (a message id): a sealed text moved elsewhere will not open.
func (k *Keyring) Seal(plain, aad []byte) (Sealed, error) {
	k.mu.RLock()
	id, aead := k.active, k.aeads[k.active]
	k.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, fmt.Errorf("seal: %w", err)
	}
	return Sealed{KeyID: id, Data: aead.Seal(nonce, nonce, plain, aad)}, nil
}

// Open decrypts s. A key the ring lacks sends it back to its key file once
// (`steward keys rotate` may have added one while the server runs).
func (k *Keyring) Open(s Sealed, aad []byte) ([]byte, error) {
	k.mu.RLock()
	aead, ok := k.aeads[s.KeyID]
	k.mu.RUnlock()
	if !ok && k.path != "" {
		if _, err := k.Reload(); err == nil {
			k.mu.RLock()
			aead, ok = k.aeads[s.KeyID]
			k.mu.RUnlock()
		}
	}
	if !ok {
		return nil, fmt.Errorf("open: key %q: %w", s.KeyID, ErrUnknownKey)
	}
	if len(s.Data) < aead.NonceSize() {
		return nil, errors.New("open: sealed data is too short")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, s.Data[:n], s.Data[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("open with key %s: %w", s.KeyID, err)
	}
	return plain, nil
}

// Reload reads the ring's key file again, taking up new keys and a new
// active key; keys are never dropped from a running ring. It reports
// whether anything changed.
func (k *Keyring) Reload() (bool, error) {
	if k.path == "" {
		return false, nil
	}
	kf, err := ReadKeyFile(k.path)
	if err != nil {
		return false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	changed := false
	for _, key := range kf.Keys {
		if _, ok := k.aeads[key.ID]; ok {
			continue
		}
		if err := k.add(key); err != nil {
			return changed, err
		}
		changed = true
	}
	if kf.Active != k.active {
		k.active, changed = kf.Active, true
	}
	return changed, nil
}

// NewKey returns a fresh random key with a dated id.
func NewKey(now time.Time) Key {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the platform's randomness is gone: nothing is safe
	}
	var tag [3]byte
	_, _ = rand.Read(tag[:])
	return Key{ID: fmt.Sprintf("k%s-%x", now.UTC().Format("20060102"), tag), Secret: secret, Created: now.UTC()}
}

// KeyFile is a keyring kept in a file (JSON, mode 0600):
//
//	{"active": "k20261122-a1b2c3", "keys": [{"id": "...", "key": "<base64 of 32 bytes>", "created": "..."}]}
type KeyFile struct {
	Active string `json:"active"`
	Keys   []Key  `json:"keys"`
}

// ReadKeyFile reads a key file.
func ReadKeyFile(path string) (*KeyFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	var kf KeyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if _, err := kf.Keyring(); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return &kf, nil
}

// UpdateKeyFile reads the key file at path, lets change alter it and, if
// change reports a change, writes it back, all under an exclusive lock of
// the file path+".lock". Two changes at once (two `keys rotate`, a rotate
// and an import, a server creating the file) each read the file before
// the other wrote it, and the second write lost the first's key, and with
// it every record sealed under that key. kf is nil when the file does not
// exist.
func UpdateKeyFile(path string, change func(kf *KeyFile) (*KeyFile, bool, error)) (*KeyFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock key file: %w", err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock key file: %w", err)
	}
	defer lock.Close() // closing releases the lock
	if err := lockFile(lock); err != nil {
		return nil, fmt.Errorf("lock key file %s: %w", path, err)
	}
	kf, err := ReadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kf, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	kf, changed, err := change(kf)
	if err != nil || !changed {
		return kf, err
	}
	return kf, kf.Write(path)
}

// Keyring builds the ring the file describes.
func (kf *KeyFile) Keyring() (*Keyring, error) { return NewKeyring(kf.Keys, kf.Active) }

// Write stores the file atomically with mode 0600.
func (kf *KeyFile) Write(path string) error {
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	// Run as root (sudo steward keys rotate), the new file was root's, and
	// the server could no longer read its keys.
	if err := fsown.Like(tmp.Name(), path); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	// The rename is durable only once the directory is: `keys rotate`
	// seals records under the new key right after, and a power cut that
	// lost the rename would leave them under a key nobody has.
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write key file: sync its directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write key file: sync its directory: %w", err)
	}
	return nil
}

// Rotate adds a new key and makes it active.
func (kf *KeyFile) Rotate(now time.Time) Key {
	key := NewKey(now)
	for slices.ContainsFunc(kf.Keys, func(k Key) bool { return k.ID == key.ID }) {
		key = NewKey(now)
	}
	kf.Keys = append(kf.Keys, key)
	kf.Active = key.ID
	return key
}

// Merge adds the keys of other that kf lacks, keeping kf's active key (or
// taking other's when kf has none), and returns the ids added. A key id
// both hold with different secrets is an error, and nothing is added.
func (kf *KeyFile) Merge(other *KeyFile) (added []string, err error) {
	have := make(map[string][]byte, len(kf.Keys))
	for _, k := range kf.Keys {
		have[k.ID] = k.Secret
	}
	var add []Key
	for _, k := range other.Keys {
		secret, ok := have[k.ID]
		switch {
		case !ok:
			add = append(add, k)
			have[k.ID] = k.Secret
		case subtle.ConstantTimeCompare(secret, k.Secret) != 1:
			return nil, fmt.Errorf("both files hold a key %s, with different secrets: not merged", k.ID)
		}
	}
	for _, k := range add {
		kf.Keys = append(kf.Keys, k)
		added = append(added, k.ID)
	}
	if kf.Active == "" {
		kf.Active = other.Active
	}
	return added, nil
}

// ParseKeys reads keys written as "id:base64[,id:base64...]" (the form of
// the STEWARD_PII_KEYS variable); the first is the active one.
func ParseKeys(s string) (*KeyFile, error) {
	var kf KeyFile
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			// Named by its place, never by its text: without the id, the
			// text is the secret itself.
			return nil, fmt.Errorf("key %d of the list: want id:base64", i+1)
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %s: not base64: %w", id, err)
		}
		kf.Keys = append(kf.Keys, Key{ID: id, Secret: secret})
		if kf.Active == "" {
			kf.Active = id
		}
	}
	if len(kf.Keys) == 0 {
		return nil, errors.New("no keys given")
	}
	if _, err := kf.Keyring(); err != nil {
		return nil, err
	}
	return &kf, nil
}

// Protected is a text made safe to store: the masked form, the kinds of
// personal data found, and the original sealed (nil when nothing was found).
type Protected struct {
	Text   string
	Kinds  []Kind
	Sealed *Sealed
}

// KindNames are the kinds found, as the strings stored with a message.
func (p Protected) KindNames() []string {
	if len(p.Kinds) == 0 {
		return nil
	}
	out := make([]string, len(p.Kinds))
	for i, k := range p.Kinds {
		out[i] = string(k)
	}
	return out
}

// Protector masks personal data and seals the originals.
type Protector struct {
	ring *Keyring
}

// NewProtector returns a protector sealing with ring (nil: originals are
// masked and not kept).
func NewProtector(ring *Keyring) *Protector { return &Protector{ring: ring} }

// Keyring is the protector's keyring (nil when originals are not kept).
func (p *Protector) Keyring() *Keyring {
	if p == nil {
		return nil
	}
	return p.ring
}

// Protect masks text; aad names where the sealed original will be stored.
// A sealing failure still returns the masked text, and the error: the
// caller stores the masked text and loses only the original.
func (p *Protector) Protect(text, aad string) (Protected, error) {
	masked, spans := Mask(text)
	if len(spans) == 0 {
		return Protected{Text: text}, nil
	}
	out := Protected{Text: masked}
	for _, s := range spans {
		if !slices.Contains(out.Kinds, s.Kind) {
			out.Kinds = append(out.Kinds, s.Kind)
		}
	}
	if p == nil || p.ring == nil {
		return out, nil
	}
	sealed, err := p.ring.Seal([]byte(text), []byte(aad))
	if err != nil {
		return out, err
	}
	out.Sealed = &sealed
	return out, nil
}

// LoadKeyring returns the keyring from keys (the STEWARD_PII_KEYS form)
// if given, else from the key file at path, which is created with a fresh
// key when it does not exist and create is set. created reports that.
func LoadKeyring(keys, path string, create bool, now time.Time) (ring *Keyring, created bool, err error) {
	if strings.TrimSpace(keys) != "" {
		kf, err := ParseKeys(keys)
		if err != nil {
			return nil, false, fmt.Errorf("STEWARD_PII_KEYS: %w", err)
		}
		ring, err := kf.Keyring()
		return ring, false, err
	}
	kf, err := ReadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		// Made under the file's lock: a `keys import` at the same moment
		// (a database restored without its key file) would otherwise be
		// overwritten by the new file.
		kf, err = UpdateKeyFile(path, func(kf *KeyFile) (*KeyFile, bool, error) {
			if kf != nil {
				return kf, false, nil // made meanwhile
			}
			kf = &KeyFile{}
			kf.Rotate(now)
			created = true
			return kf, true, nil
		})
	}
	if err != nil {
		return nil, false, err
	}
	if ring, err = kf.Keyring(); err != nil {
		return nil, false, err
	}
	ring.path = path
	return ring, created, nil
}
