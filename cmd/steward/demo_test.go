package main_test

import (
	"bufio"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/testutil"
)

// demoLogins starts `steward serve --demo` on dataDir and returns the
// console logins it printed (email → password), then stops it.
func demoLogins(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	bin, err := testutil.BuildSteward()
	if err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	cmd := exec.Command(bin, "serve", "--demo", "--data-dir", dataDir, "--addr", addr)
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	logins := map[string]string{}
	deadline := time.Now().Add(60 * time.Second)
	for len(logins) < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && strings.HasSuffix(f[1], "@demo.steward") {
				logins[f[1]] = f[2]
			}
		}
	}
	if len(logins) != 3 || !strings.Contains(out.String(), "/console") {
		t.Fatalf("serve --demo printed %d logins:\n%s", len(logins), out.String())
	}
	for email, password := range logins {
		body := `{"email":"` + email + `","password":"` + password + `"}`
		var status int
		for time.Now().Before(deadline) {
			resp, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				status = resp.StatusCode
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if status != http.StatusOK {
			t.Fatalf("printed login %s does not work: %d", email, status)
		}
	}
	return logins
}

// The demo prints working console logins, and new passwords at every
// start: no password is ever fixed in the code or the docs.
func TestDemoPrintsWorkingConsoleLogins(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	dir := t.TempDir()
	first := demoLogins(t, dir)
	second := demoLogins(t, dir)
	for email, pw := range first {
		if second[email] == pw {
			t.Errorf("%s kept its password across restarts", email)
		}
	}
}

// A real desk's database (accounts, none of them the demo's) is never
// turned into a demo by --demo: that would add an admin whose password is
// printed to the terminal and its logs. The server refuses to start and
// says why, and the database gets no demo account.
func TestDemoRefusesARealDesksDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	bin, err := testutil.BuildSteward()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	add := exec.Command(bin, "user", "add", "--data-dir", dir, "--email", "boss@shop.example", "--role", "admin", "--password-stdin")
	add.Stdin = strings.NewReader("a-long-enough-password-for-the-policy-42\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	serve := exec.Command(bin, "serve", "--demo", "--data-dir", dir, "--addr", testutil.FreeAddr(t))
	done := make(chan struct{})
	var out []byte
	go func() { out, err = serve.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		serve.Process.Kill()
		<-done
		t.Fatalf("serve --demo on a real desk's database kept running:\n%s", out)
	}
	if err == nil || !strings.Contains(string(out), "would add demo accounts") || strings.Contains(string(out), "@demo.steward ") {
		t.Fatalf("serve --demo on a real desk's database: %v\n%s", err, out)
	}
	list, err := exec.Command(bin, "user", "list", "--data-dir", dir).CombinedOutput()
	if err != nil || strings.Contains(string(list), "demo.steward") || !strings.Contains(string(list), "boss@shop.example") {
		t.Fatalf("accounts after the refusal (%v):\n%s", err, list)
	}
	// Nor the demo's knowledge base, which the next start would serve.
	kb, err := exec.Command(bin, "kb", "export", "--format", "json", "--data-dir", dir).Output()
	if err != nil || strings.Contains(string(kb), "shipping-fee") {
		t.Fatalf("the knowledge base after the refusal (%v):\n%.500s", err, kb)
	}
}
