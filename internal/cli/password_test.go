//go:build linux

package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/steward-cs/steward/internal/cli"
	"github.com/steward-cs/steward/internal/testutil"
)

// openPTY opens a pseudo-terminal: what the test types into master, the
// command reads from slave, and what the terminal would show (the echo)
// comes back out of master.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// On a terminal, user add asks for the password twice with the echo off:
// the password never shows on the screen.
func TestUserAddAsksForThePasswordWithoutEcho(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	var screen testutil.SyncBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	var stderr, stdout testutil.SyncBuffer
	dir := filepath.Join(t.TempDir(), "data")
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(context.Background(), []string{"user", "add", "--email", "tty@example.com", "--role", "agent",
			"--password-stdin", "--data-dir", dir}, cli.Env{Stdin: slave, Stdout: &stdout, Stderr: &stderr,
			Getenv: func(string) string { return "" }})
	}()
	// Types a line once the prompt is there and the terminal's echo is off.
	typeWhenSilent := func(prompt, line string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stderr.String(), prompt) && tio.Lflag&unix.ECHO == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q prompt with the echo off; stderr: %q", prompt, stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := master.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	const password = "Tty-Secret-Pass-99"
	typeWhenSilent("Password: ", password)
	typeWhenSilent("Again: ", password)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("user add on a terminal: exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("user add did not finish")
	}
	slave.Close()
	time.Sleep(100 * time.Millisecond)
	if strings.Contains(screen.String(), password) {
		t.Fatalf("the password was echoed to the terminal: %q", screen.String())
	}
	if code, out, _ := run(t, "", nil, "user", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, "tty@example.com") {
		t.Fatalf("the user was not added: %d %q", code, out)
	}
}
