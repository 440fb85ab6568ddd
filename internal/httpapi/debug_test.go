package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/testutil"
)

// An admin reads the server's profiles through the API (the authorization
// matrix refuses everyone else): a heap profile as text, a one-second CPU
// profile in pprof's gzipped format, each recorded in the audit trail.
func TestAdminTakesProfiles(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	const pprof = "/api/v1/admin/debug/pprof/"

	status, body := admin.Do("GET", pprof+"heap?debug=1", nil)
	if status != http.StatusOK || !strings.HasPrefix(string(body), "heap profile:") {
		t.Fatalf("heap: %d %.200q", status, body)
	}

	status, body = admin.Do("GET", pprof+"profile?seconds=1", nil)
	if status != http.StatusOK || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Fatalf("CPU profile: %d, %d bytes starting %.20q (want a gzipped profile)", status, len(body), body)
	}

	status, body = admin.Do("GET", pprof, nil)
	if status != http.StatusOK || !strings.Contains(string(body), "href='goroutine?debug=1'") {
		t.Fatalf("index: %d %.300q", status, body)
	}

	// A name the runtime has no profile for is the API's JSON 404, not
	// pprof's plain-text one.
	admin.Must(http.StatusNotFound, "GET", pprof+"nothing", nil, nil)
	admin.Must(http.StatusMethodNotAllowed, "DELETE", pprof+"heap", nil, nil)
	// pprof's own errors are the API's too: JSON, and a second CPU
	// profile while one runs is a conflict (pprof says 500).
	jsonError := func(what string, status int, body []byte, want int, code string) {
		t.Helper()
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if status != want || json.Unmarshal(body, &e) != nil || e.Error.Code != code {
			t.Errorf("%s: %d %.200q, want %d and a JSON error %q", what, status, body, want, code)
		}
	}
	status, body = admin.Do("GET", pprof+"heap?seconds=abc", nil)
	jsonError("a bad seconds", status, body, http.StatusBadRequest, "invalid")
	first := make(chan int, 1)
	go func() {
		status, _ := admin.Do("GET", pprof+"profile?seconds=2", nil)
		first <- status
	}()
	time.Sleep(500 * time.Millisecond)
	status, body = admin.Do("GET", pprof+"profile?seconds=1", nil)
	jsonError("a CPU profile while one runs", status, body, http.StatusConflict, "conflict")
	if s := <-first; s != http.StatusOK {
		t.Errorf("the first CPU profile: %d", s)
	}

	if !hasEntry(trail(admin, "debug."), admin.ID, "debug.profile", "pprof:profile", map[string]any{"query": "seconds=1"}) ||
		!hasEntry(trail(admin, "debug."), admin.ID, "debug.profile", "pprof:heap", nil) {
		t.Errorf("profiles not in the audit trail: %+v", trail(admin, "debug."))
	}
}

// The block and mutex profiles sample only while one is asked for over a
// window (?seconds=N): during it the runtime's sampling is on and the
// profile holds the contention of that window; afterwards it is off again.
func TestContentionProfilesSampleTheirWindow(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	const pprof = "/api/v1/admin/debug/pprof/"
	if f := runtime.SetMutexProfileFraction(-1); f != 0 {
		t.Fatalf("mutex sampling is on (fraction %d) before anyone asked for it", f)
	}
	for _, name := range []string{"mutex", "block"} {
		stop := make(chan struct{})
		during := make(chan int, 1)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(300 * time.Millisecond)
			during <- runtime.SetMutexProfileFraction(-1)
			contendForTheProfile(stop)
		}()
		status, body := admin.Do("GET", pprof+name+"?seconds=2", nil)
		close(stop)
		wg.Wait()
		if status != http.StatusOK {
			t.Fatalf("%s: %d %.200q", name, status, body)
		}
		if f := <-during; f == 0 {
			t.Errorf("%s: mutex sampling was off during the window", name)
		}
		if f := runtime.SetMutexProfileFraction(-1); f != 0 {
			t.Errorf("%s: mutex sampling still on (fraction %d) after the window", name, f)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: not a gzipped profile: %v (%.100q)", name, err, body)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		// The profile's string table names the functions of its samples.
		if !bytes.Contains(raw, []byte("contendForTheProfile")) {
			t.Errorf("%s profile of the window does not hold the contention made during it (%d bytes)", name, len(raw))
		}
	}
}

// contendForTheProfile makes goroutines wait for one mutex until stop is
// closed.
func contendForTheProfile(stop <-chan struct{}) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				time.Sleep(100 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// A profile is a GET that does something (audited in the admin's name,
// running up to a minute): with the session cookie alone any site the
// admin visits could start one, so a cookie session needs the CSRF token
// for it. The bearer token or API key of docs/deploy.md works as before.
func TestProfilesNeedMoreThanTheSessionCookie(t *testing.T) {
	run := testutil.Start(t, nil)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"email": run.Demo[0].Email, "password": run.Demo[0].Password})
	resp, err := hc.Post(run.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	get := func(path, csrf string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", run.URL+path, nil)
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const heap = "/api/v1/admin/debug/pprof/heap?debug=1"
	if s := get(heap, ""); s != http.StatusForbidden {
		t.Errorf("a heap profile with the session cookie alone (a link followed from another site): %d, want 403", s)
	}
	if s := get("/api/v1/admin/debug/pprof/", ""); s != http.StatusOK {
		t.Errorf("the index (links only) with the session cookie: %d, want 200", s)
	}
	req, _ := http.NewRequest("GET", run.URL+"/api/v1/auth/me", nil)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if me.CSRF == "" {
		t.Fatal("no csrf_token from /api/v1/auth/me")
	}
	if s := get(heap, me.CSRF); s != http.StatusOK {
		t.Errorf("a heap profile with the cookie and the CSRF token: %d, want 200", s)
	}
}
