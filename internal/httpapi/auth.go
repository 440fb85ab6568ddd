package httpapi

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
)

// SessionCookie is the console's session cookie.
const SessionCookie = "steward_session"

// CSRFHeader carries the session's CSRF token on state-changing requests
// made with the session cookie.
const CSRFHeader = "X-CSRF-Token"

// staffHandler is a handler for signed-in users.
type staffHandler func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error

// staff authenticates a request (bearer token or API key first, then the
// session cookie) and, for cookie sessions, checks the CSRF token on
// anything but GET and HEAD.
func (s *Server) staff(h staffHandler) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.principal(r)
		if err != nil {
			return err
		}
		if p.Cookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
				return errcode.Localized(errcode.Forbidden, "missing or wrong %s header: send the csrf_token from /api/v1/auth/me",
					"缺少或错误的 %s 请求头：请使用 /api/v1/auth/me 返回的 csrf_token（如已在其他标签页重新登录，请刷新本页）", CSRFHeader)
			}
		}
		return h(w, r, p)
	})
}

var errNotSignedIn = errcode.Errorf(errcode.Unauthorized, "sign in first: POST /api/v1/auth/login, or send Authorization: Bearer <token or API key>")

func (s *Server) principal(r *http.Request) (*auth.Principal, error) {
	if s.auth == nil {
		return nil, errNotSignedIn
	}
	if tok := bearer(r); tok != "" {
		return s.auth.FromBearer(r.Context(), tok)
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return s.auth.FromCookie(r.Context(), c.Value)
	}
	return nil, errNotSignedIn
}

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      auth.Role `json:"role"`
	Skills    []string  `json:"skills"`
	Languages []string  `json:"languages"`
	MaxChats  int       `json:"max_chats"`
}

func toUserJSON(u *auth.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.DisplayName(), Role: u.Role, Skills: nonNilStrings(u.Skills),
		Languages: nonNilStrings(u.Languages), MaxChats: u.MaxChats}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	User      userJSON  `json:"user"`
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	// Per address, against password spraying; internal/auth locks out
	// guessing at one account.
	if err := s.limits.allowLogin(s.limits.clientKey(r)); err != nil {
		return err
	}
	// A page on another site cannot sign the browser in: a form posting
	// text/plain that parses as JSON signed the victim's console into the
	// attacker's account (login CSRF), and their replies and notes went
	// under it. Browsers say where a request comes from; other clients
	// send no Sec-Fetch-Site. Browsers that do not send it (Safari before
	// 16.4; every browser on plain HTTP, where Fetch Metadata is not sent)
	// still send Origin with a POST: it must be this host. allowed_origins
	// name the shops that embed the widget, not places to sign in from. A
	// same-site request comes from another host of the same site
	// (shop.example.com for help.example.com): another origin, refused too.
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || (site == "" || site == "same-site") && !sameOrigin(r) {
		return errcode.Localized(errcode.Forbidden, "sign in from Steward's own console, not from another site",
			"请在 Steward 自己的控制台登录，不能从其他网站登录")
	}
	var req loginRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	l, err := s.auth.Login(r.Context(), req.Email, req.Password)
	if err != nil {
		return err
	}
	// Rotation: whatever session the browser came with ends here, so a
	// token known before the login (planted by someone, or left over on a
	// shared computer) is never the signed-in session.
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.auth.EndCookieSession(r.Context(), c.Value); err != nil {
			s.logger.Warn("end the previous session at login", "error", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: l.Token, Path: "/", Expires: l.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies || r.TLS != nil})
	writeJSON(w, http.StatusOK, loginResponse{User: toUserJSON(l.User), Token: l.Bearer, CSRFToken: l.CSRF, ExpiresAt: l.ExpiresAt})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := s.auth.Logout(r.Context(), p); err != nil {
		return err
	}
	// An agent who signs out is not there: left online, routing went on
	// giving them conversations for the two minutes their presence took
	// to lapse, and the desk counted as staffed (no offline form).
	if p.Session() && p.User.Can(auth.DeskWork) && p.User.Presence != auth.Offline {
		if _, err := s.desk.SetPresence(r.Context(), p.User, auth.Offline); err != nil {
			s.logger.Warn("sign-out: set the agent offline", "user", p.User.ID, "error", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secureCookies || r.TLS != nil})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	out := map[string]any{"user": toUserJSON(p.User), "permissions": p.User.Role.Permissions()}
	if p.Cookie {
		out["csrf_token"] = p.CSRF
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type apiKeyJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Key       string    `json:"key,omitempty"`
	Prefix    string    `json:"prefix"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage API keys")
	}
	keys, err := s.auth.APIKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, UserID: k.UserID, CreatedAt: k.CreatedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": out})
	return nil
}

type createAPIKeyRequest struct {
	Name   string `json:"name"`
	UserID string `json:"user_id"`
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage API keys")
	}
	var req createAPIKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.UserID == "" {
		req.UserID = p.User.ID
	}
	key, k, err := s.auth.CreateAPIKey(r.Context(), p.Actor(), req.Name, req.UserID)
	if errcode.Code(err) == errcode.NotFound {
		return errcode.Localized(errcode.Invalid, "no user with id %q", "没有 id 为 %q 的用户", req.UserID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiKeyJSON{ID: k.ID, Name: k.Name, Key: key, Prefix: k.Prefix, UserID: k.UserID,
		CreatedAt: k.CreatedAt})
	return nil
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage API keys")
	}
	if err := s.auth.DeleteAPIKey(r.Context(), p.Actor(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage users")
	}
	users, err := s.auth.Users(r.Context())
	if err != nil {
		return err
	}
	type listed struct {
		userJSON
		Disabled bool `json:"disabled"`
	}
	out := make([]listed, len(users))
	for i := range users {
		out[i] = listed{userJSON: toUserJSON(&users[i]), Disabled: users[i].Disabled}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

type createUserRequest struct {
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Password  string   `json:"password"`
	Skills    []string `json:"skills"`
	Languages []string `json:"languages"`
	MaxChats  int      `json:"max_chats"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage users")
	}
	var req createUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return err
	}
	u, err := s.auth.AddUser(r.Context(), p.Actor(), auth.NewUser{Email: req.Email, Name: req.Name, Role: role, Password: req.Password,
		Skills: req.Skills, Languages: req.Languages, MaxChats: req.MaxChats})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": toUserJSON(u)})
	return nil
}

type disableRequest struct {
	Disabled *bool `json:"disabled"`
}

func (s *Server) setUserDisabled(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage users")
	}
	var req disableRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Disabled == nil {
		return errcode.Localized(errcode.Invalid, "disabled (true or false) is required", "必须给出 disabled（true 或 false）")
	}
	target, err := s.auth.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if target.ID == p.User.ID && *req.Disabled {
		return errcode.Errorf(errcode.Conflict, "you cannot disable your own account")
	}
	u, err := s.auth.SetDisabled(r.Context(), p.Actor(), target.Email, *req.Disabled)
	if err != nil {
		return err
	}
	s.desk.Kick() // a disabled agent's conversations wait for someone else
	writeJSON(w, http.StatusOK, map[string]any{"user": toUserJSON(u), "disabled": u.Disabled})
	return nil
}

type roleRequest struct {
	Role string `json:"role"`
}

// setUserRole changes a user's role. The last enabled admin cannot be
// demoted, not even by themselves.
func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.UsersManage) {
		return auth.ErrNotPermitted("manage users")
	}
	var req roleRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return err
	}
	u, err := s.auth.SetRole(r.Context(), p.Actor(), r.PathValue("id"), role)
	if err != nil {
		return err
	}
	s.desk.Kick() // who counts as an online agent changes with roles
	writeJSON(w, http.StatusOK, map[string]any{"user": toUserJSON(u)})
	return nil
}

// sameOrigin reports whether a request's Origin, if it has one, is this
// host. A request without Origin is not from a page on another site:
// browsers send Origin with every cross-origin POST. "null" (a sandboxed
// frame, a file) is from nowhere we know.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}
