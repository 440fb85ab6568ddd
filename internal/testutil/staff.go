package testutil

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Staff is a signed-in console user talking to the API with the bearer
// token the login returned.
type Staff struct {
	T     testing.TB
	Base  string
	Token string
	ID    string
	Email string
	Role  string
}

// Login signs in over the API and fails the test if that does not work.
func Login(t testing.TB, base, email, password string) *Staff {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, resp.StatusCode, b)
	}
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID, Email, Role string
		} `json:"user"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &Staff{T: t, Base: base, Token: out.Token, ID: out.User.ID, Email: out.User.Email, Role: out.User.Role}
}

// Do sends a request as this user (no token for a nil Staff's caller: use
// Anonymous) and returns the status and body.
func (s *Staff) Do(method, path string, body any) (int, []byte) {
	s.T.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.T.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.Base+path, r)
	if err != nil {
		s.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Must sends a request and fails the test unless the status is want; it
// decodes the answer into out when out is not nil.
func (s *Staff) Must(want int, method, path string, body, out any) {
	s.T.Helper()
	status, b := s.Do(method, path, body)
	if status != want {
		s.T.Fatalf("%s %s as %s: %d %s, want %d", method, path, s.Email, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.T.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// AddUser creates a user through the API (s must be an admin) and signs
// them in.
func (s *Staff) AddUser(email, role string, extra map[string]any) *Staff {
	s.T.Helper()
	body := map[string]any{"email": email, "role": role, "password": "correct horse battery", "name": email}
	for k, v := range extra {
		body[k] = v
	}
	s.Must(http.StatusCreated, "POST", "/api/v1/users", body, nil)
	return Login(s.T, s.Base, email, "correct horse battery")
}
