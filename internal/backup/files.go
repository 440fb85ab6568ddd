package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// hashFile returns the SHA-256 and size of the file at path.
func hashFile(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxReader{ctx, f}, make([]byte, 1<<20))
	if err != nil {
		return "", n, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// copyHashed copies src to dst (created, not overwritten), syncs dst, and
// returns the SHA-256 and size of what it read: one pass checks the
// payload and restores it. A failure on dst's side (a scratch directory
// that is missing, read-only or full) is a *writeError: it says nothing of
// the payload.
func copyHashed(ctx context.Context, dst, src string) (string, int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, &writeError{fmt.Errorf("create %s: %w", dst, err)}
	}
	h := sha256.New()
	w := &errWriter{w: out}
	n, err := io.CopyBuffer(io.MultiWriter(w, h), ctxReader{ctx, in}, make([]byte, 1<<20))
	if w.err != nil {
		err = &writeError{fmt.Errorf("write %s: %w", dst, w.err)}
	}
	if err == nil {
		if serr := out.Sync(); serr != nil {
			err = &writeError{fmt.Errorf("sync %s: %w", dst, serr)}
		}
	}
	if cerr := out.Close(); err == nil && cerr != nil {
		err = &writeError{fmt.Errorf("close %s: %w", dst, cerr)}
	}
	if err != nil {
		os.Remove(dst)
		if _, ok := errors.AsType[*writeError](err); ok {
			return "", n, err
		}
		return "", n, fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeError is a failure to write a copy, not to read what is copied.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// errWriter remembers its writer's first error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// writeFileSynced writes data to path and syncs it.
func writeFileSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic replaces path with data: a synced temporary file renamed
// over it, then the directory synced, so a crash leaves the old file or the
// new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := writeFileSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes the directory's entries (a rename, a new file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
