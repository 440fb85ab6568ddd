package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// LockFile is the file in the data directory that a serving Steward keeps
// locked (flock) while it runs, with its process id in it: a second server
// on the same directory, or a restore under a running one, is refused
// instead of writing beside it. The kernel drops the lock when the process
// ends, however it ends.
const LockFile = "steward.lock"

// ErrDataDirBusy is returned by LockDataDir when another process holds the
// data directory.
var ErrDataDirBusy = errors.New("the data directory is in use")

// DirLock is a held lock on a data directory.
type DirLock struct{ f *os.File }

// LockDataDir takes dir's lock for this process, creating dir if needed.
// It fails at once, naming the holder's process id, when another process
// holds it.
func LockDataDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := flock(f); err != nil {
		defer f.Close()
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(string(bytes.TrimSpace(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf("a Steward server (pid %d)", pid)
			}
		}
		abs, aerr := filepath.Abs(dir)
		if aerr != nil {
			abs = dir
		}
		return nil, fmt.Errorf("%w: %s is using %s (it holds %s): stop it first, or give this one a data directory of its own",
			ErrDataDirBusy, holder, abs, LockFile)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f}, nil
}

// Release gives the lock up. The file stays: removing it could let two
// processes lock two different files of the same name.
func (l *DirLock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // closing the descriptor releases the flock
	l.f = nil
}
