package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// VaultRecord is one sealed original: the text before masking.
type VaultRecord struct {
	Ref            string // a message id, "note:<id>" or "ticket:<id>:<field>"
	ConversationID string
	Kinds          []string
	Sealed         Sealed
	CreatedAt      time.Time
}

// AAD is what a record's ciphertext is bound to: its conversation and ref.
func AAD(conversationID, ref string) string { return conversationID + "/" + ref }

// ErrErased is returned for an original the retention period has erased
// (or one never kept).
var ErrErased = errors.New("the original is no longer kept")

// VaultStore keeps sealed originals.
type VaultStore interface {
	PutVault(ctx context.Context, recs ...VaultRecord) error
	VaultRecord(ctx context.Context, ref string) (*VaultRecord, error) // ErrErased when absent
	// VaultBatch returns up to limit records not sealed with keyID, refs
	// after afterRef in order.
	VaultBatch(ctx context.Context, notKeyID, afterRef string, limit int) ([]VaultRecord, error)
	// ResealVault replaces a record's sealed text if it is still under oldKeyID.
	ResealVault(ctx context.Context, ref, oldKeyID string, s Sealed) error
	// EraseVault deletes records created before cutoff.
	EraseVault(ctx context.Context, cutoff time.Time) (int64, error)
	VaultKeyCounts(ctx context.Context) (map[string]int64, error)
}

// Vault reveals, rotates and erases sealed originals.
type Vault struct {
	store     VaultStore
	ring      *Keyring
	retention time.Duration
	logger    *slog.Logger

	mu         sync.Mutex
	lastActive string    // the active key at the last Refresh
	sweepUntil time.Time // Refresh re-seals until then after the active key changed
}

// resealFor is how long after a rotation Refresh keeps re-sealing: writes
// sealed just before this node saw the new key can land later (a turn in
// flight, a spooled write replayed minutes after).
const resealFor = 10 * time.Minute

// NewVault returns a vault over store; originals older than retention are
// erased by Erase (0 keeps them forever, unless ring is nil: a server
// configured to keep no originals has no keyring, and Erase then deletes
// every original left from before).
func NewVault(store VaultStore, ring *Keyring, retention time.Duration, logger *slog.Logger) *Vault {
	if logger == nil {
		logger = slog.Default()
	}
	v := &Vault{store: store, ring: ring, retention: retention, logger: logger.With("component", "vault")}
	if ring != nil {
		v.lastActive = ring.Active()
	}
	return v
}

// Reveal returns the original text of ref in conversation conversationID.
func (v *Vault) Reveal(ctx context.Context, conversationID, ref string) (string, *VaultRecord, error) {
	rec, err := v.store.VaultRecord(ctx, ref)
	if err != nil {
		return "", nil, err
	}
	if rec.ConversationID != conversationID {
		return "", nil, ErrErased // not this conversation's: say nothing more
	}
	if v.ring == nil {
		return "", nil, ErrErased // no originals are kept (retention 0): what is left will be erased
	}
	if v.retention > 0 && rec.CreatedAt.Before(time.Now().Add(-v.retention)) {
		// Past retention it is erased, whether or not the hourly sweep
		// (Erase) has come by yet, or has been failing.
		return "", nil, ErrErased
	}
	plain, err := v.ring.Open(rec.Sealed, []byte(AAD(rec.ConversationID, rec.Ref)))
	if err != nil {
		return "", nil, fmt.Errorf("reveal %s: %w", ref, err)
	}
	return string(plain), rec, nil
}

// RotateReport says what Rotate did.
type RotateReport struct {
	Active   string           `json:"active"`
	Resealed int              `json:"resealed"`
	Failed   int              `json:"failed"`
	ByKey    map[string]int64 `json:"by_key"` // records per key after the rotation
}

// Rotate re-seals every record not under the ring's active key. It works
// in batches and may be run again after an interruption.
func (v *Vault) Rotate(ctx context.Context) (RotateReport, error) {
	rep := RotateReport{Active: v.ring.Active()}
	after := ""
	for {
		batch, err := v.store.VaultBatch(ctx, rep.Active, after, 500)
		if err != nil {
			return rep, fmt.Errorf("rotate: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		for _, rec := range batch {
			after = rec.Ref
			aad := []byte(AAD(rec.ConversationID, rec.Ref))
			plain, err := v.ring.Open(rec.Sealed, aad)
			if err != nil {
				rep.Failed++
				v.logger.Error("rotate: cannot open a sealed original", "ref", rec.Ref, "key", rec.Sealed.KeyID, "error", err)
				continue
			}
			s, err := v.ring.Seal(plain, aad)
			if err != nil {
				return rep, fmt.Errorf("rotate %s: %w", rec.Ref, err)
			}
			if err := v.store.ResealVault(ctx, rec.Ref, rec.Sealed.KeyID, s); err != nil {
				return rep, fmt.Errorf("rotate %s: %w", rec.Ref, err)
			}
			rep.Resealed++
		}
	}
	counts, err := v.store.VaultKeyCounts(ctx)
	if err != nil {
		return rep, fmt.Errorf("rotate: %w", err)
	}
	rep.ByKey = counts
	return rep, nil
}

// Erase deletes the originals older than the retention period.
func (v *Vault) Erase(ctx context.Context, now time.Time) (int64, error) {
	cutoff := now.Add(-v.retention)
	switch {
	case v.retention <= 0 && v.ring == nil:
		cutoff = now.Add(time.Second) // keep none: those sealed before retention was set to 0 go too
	case v.retention <= 0:
		return 0, nil
	}
	n, err := v.store.EraseVault(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("erase originals: %w", err)
	}
	if n > 0 {
		v.logger.Info("erased personal data past its retention", "records", n, "retention", v.retention.String())
	}
	return n, nil
}

// Run erases expired originals every interval until ctx ends, and takes
// up keys added to the key file (a rotation) every 30 seconds.
func (v *Vault) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	var erased time.Time
	for {
		if now := time.Now(); now.Sub(erased) >= interval {
			erased = now
			if _, err := v.Erase(ctx, now); err != nil && ctx.Err() == nil {
				v.logger.Warn("retention", "error", err)
			}
		}
		if err := v.Refresh(ctx); err != nil && ctx.Err() == nil {
			v.logger.Warn("take up the key file", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh takes up keys added to the key file. When the active key has
// changed (a rotation, seen here or by Open), it re-seals what is still under
// other keys, at every Refresh for resealFor: `steward keys rotate` re-seals
// what exists when it runs, but a server keeps sealing under the old key
// until it reads the file again, and those records would stay behind.
// Re-sealing is conditional on the record's key, so nodes doing it at once
// do not undo each other.
func (v *Vault) Refresh(ctx context.Context) error {
	if v == nil || v.ring == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if changed, err := v.ring.Reload(); err != nil {
		return fmt.Errorf("reload the key file: %w", err)
	} else if changed {
		v.logger.Info("key file reloaded", "active", v.ring.Active())
	}
	now := time.Now()
	if active := v.ring.Active(); active != v.lastActive {
		v.lastActive, v.sweepUntil = active, now.Add(resealFor)
	}
	if !now.Before(v.sweepUntil) {
		return nil
	}
	rep, err := v.Rotate(ctx)
	if err != nil {
		return err
	}
	if rep.Resealed > 0 || rep.Failed > 0 {
		v.logger.Info("re-sealed originals under the new active key", "active", rep.Active, "resealed", rep.Resealed, "failed", rep.Failed)
	}
	return nil
}

// KeepWhole is Keep for a field that is personal data whatever it holds
// (the offline form's contact). What the detector knows is masked in its
// usual form (138****5678); anything else is masked whole but its last
// four characters (all of it when short), and the original sealed either
// way. Keep left a landline, a QQ number or a WeChat id in the clear.
func (v *Vault) KeepWhole(ctx context.Context, conversationID, ref, text string, now time.Time) (Protected, error) {
	p, rec, err := v.SealWhole(conversationID, ref, text, now)
	if err != nil || rec == nil {
		return p, err
	}
	return p, v.put(ctx, *rec)
}

// SealWhole masks text as KeepWhole does and returns the record of its
// sealed original (nil when the vault keeps none) without storing it: the
// caller stores it with what it belongs to, in one write (a ticket), or
// journals both while the database is away.
func (v *Vault) SealWhole(conversationID, ref, text string, now time.Time) (Protected, *VaultRecord, error) {
	p := Protected{Text: maskWhole(text), Kinds: []Kind{KindContact}}
	if _, spans := Mask(text); len(spans) > 0 {
		// What is beside a mobile number is masked whole too: handing the
		// contact to Keep left "138****5678 wechat: zhang_san88".
		p.Text = maskContact(text, spans)
		for _, sp := range spans {
			if !slices.Contains(p.Kinds, sp.Kind) {
				p.Kinds = append(p.Kinds, sp.Kind)
			}
		}
	}
	if v == nil || v.ring == nil {
		return p, nil, nil
	}
	sealed, err := v.ring.Seal([]byte(text), []byte(AAD(conversationID, ref)))
	if err != nil {
		return p, nil, err
	}
	p.Sealed = &sealed
	return p, &VaultRecord{Ref: ref, ConversationID: conversationID, Kinds: p.KindNames(), Sealed: sealed, CreatedAt: now}, nil
}

func (v *Vault) put(ctx context.Context, rec VaultRecord) error {
	if err := v.store.PutVault(ctx, rec); err != nil {
		return fmt.Errorf("keep original of %s: %w", rec.Ref, err)
	}
	return nil
}

// maskContact shows the personal data found in s (spans) in its usual
// form and masks every other character but spaces.
func maskContact(s string, spans []Span) string {
	r, f := []rune(s), fold(s)
	spans = slices.SortedFunc(slices.Values(spans), func(a, b Span) int { return a.Start - b.Start })
	var b strings.Builder
	for i := 0; i < len(r); {
		if len(spans) > 0 && spans[0].Start <= i {
			if sp := spans[0]; sp.Start == i && sp.End > i {
				b.WriteString(display(sp.Kind, f[sp.Start:sp.End]))
				i = sp.End
			}
			spans = spans[1:]
			continue
		}
		if r[i] == ' ' {
			b.WriteRune(' ')
		} else {
			b.WriteRune('*')
		}
		i++
	}
	return b.String()
}

// maskWhole masks every character of s but spaces and its last four (none
// kept when s has fewer than eight): enough for an agent to tell two
// contacts apart, not to use one.
func maskWhole(s string) string {
	r := []rune(s)
	keep := 0
	if len(r) >= 8 {
		keep = 4
	}
	for i := range len(r) - keep {
		if r[i] != ' ' {
			r[i] = '*'
		}
	}
	return string(r)
}

// Keep masks text written outside a conversation turn (a note) and stores
// its sealed original under ref at once. A nil vault masks and keeps
// nothing.
func (v *Vault) Keep(ctx context.Context, conversationID, ref, text string, now time.Time) (Protected, error) {
	p, rec, err := v.Seal(conversationID, ref, text, now)
	if err != nil || rec == nil {
		return p, err
	}
	return p, v.put(ctx, *rec)
}

// Seal masks text as Keep does and returns the record of its sealed
// original (nil when there is nothing to keep) without storing it
// (SealWhole).
func (v *Vault) Seal(conversationID, ref, text string, now time.Time) (Protected, *VaultRecord, error) {
	var ring *Keyring
	if v != nil {
		ring = v.ring
	}
	p, err := NewProtector(ring).Protect(text, AAD(conversationID, ref))
	if err != nil || p.Sealed == nil {
		return p, nil, err
	}
	return p, &VaultRecord{Ref: ref, ConversationID: conversationID, Kinds: p.KindNames(), Sealed: *p.Sealed, CreatedAt: now}, nil
}
