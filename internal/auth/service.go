package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/token"
)

// Limits on account fields.
const (
	MinPassword  = 10 // characters
	MaxPassword  = 72 // bytes: bcrypt ignores anything beyond
	maxEmail     = 254
	maxName      = 100
	maxListItems = 50
	maxItemLen   = 64
	maxChatsCap  = 50
	// APIKeyPrefix starts every API key, so that a leaked one is recognisable
	// and so that bearer tokens and keys are told apart without a lookup.
	APIKeyPrefix = "stk_"
)

// Options configure a Service.
type Options struct {
	SessionTTL time.Duration // default 24h
	// BcryptCost defaults to bcrypt.DefaultCost.
	BcryptCost int
	// Failures within FailureWindow lock an email's logins for FailureWindow.
	MaxFailures   int           // default 5
	FailureWindow time.Duration // default 15m
	Logger        *slog.Logger
	Now           func() time.Time
	// Audit records sign-ins, sign-outs and every change to accounts and
	// API keys (optional).
	Audit *audit.Log
}

// Actor is who changes accounts, for the audit trail.
type Actor struct {
	ID   string // a user id, "cli:<name>" or "system"
	Name string
}

// ActorOf is the actor of a signed-in user.
func ActorOf(u *User) Actor { return Actor{ID: u.ID, Name: u.DisplayName()} }

// System is Steward itself, e.g. creating the demo accounts.
var System = Actor{ID: "system", Name: "Steward"}

// Service signs people in and manages accounts.
type Service struct {
	store  Store
	opts   Options
	logger *slog.Logger
	dummy  []byte // a hash to compare against when the email is unknown, so timing tells nothing

	mu       sync.Mutex
	failures map[string][]time.Time
	// checking counts the password checks under way by email: they count
	// against the lock as failures until they end, or parallel guesses
	// would all pass the lock while bcrypt ran.
	checking map[string]int

	// roles serialises the changes that could leave no enabled admin
	// (on one node: the store's single writer orders the rest).
	roles sync.Mutex
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 24 * time.Hour
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.DefaultCost
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("not a password anyone has"), opts.BcryptCost)
	return &Service{store: store, opts: opts, logger: opts.Logger.With("component", "auth"), dummy: dummy,
		failures: map[string][]time.Time{}, checking: map[string]int{}}
}

// NewUser is what an account is created with.
type NewUser struct {
	Email     string
	Name      string
	Role      Role
	Password  string
	Skills    []string
	Languages []string
	MaxChats  int // 0 means the default, 5
}

// AddUser creates an account after validating every field.
func (s *Service) AddUser(ctx context.Context, a Actor, nu NewUser) (*User, error) {
	email, err := validEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(nu.Role)); err != nil {
		return nil, err
	}
	if err := validText("name", nu.Name, maxName); err != nil {
		return nil, err
	}
	if err := validList("skills", nu.Skills); err != nil {
		return nil, err
	}
	if err := validList("languages", nu.Languages); err != nil {
		return nil, err
	}
	for _, l := range nu.Languages {
		if l != "zh-CN" && l != "en" {
			return nil, errcode.Errorf(errcode.Invalid, "languages may contain \"zh-CN\" and \"en\", not %q", l)
		}
	}
	if nu.MaxChats == 0 {
		nu.MaxChats = 5
	}
	if nu.MaxChats < 1 || nu.MaxChats > maxChatsCap {
		return nil, errcode.Errorf(errcode.Invalid, "max chats must be from 1 to %d", maxChatsCap)
	}
	hash, err := s.hash(nu.Password, email, nu.Name)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	u := &User{ID: token.ID("u", 10), Email: email, Name: strings.TrimSpace(nu.Name), Role: nu.Role, PasswordHash: hash,
		Skills: nonNil(nu.Skills), Languages: nonNil(nu.Languages), MaxChats: nu.MaxChats, Presence: Offline,
		CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.record(ctx, a, "user.create", "user:"+u.ID, map[string]any{"email": u.Email, "role": string(u.Role)})
	return u, nil
}

// SetPassword replaces a user's password and ends the user's sessions:
// whoever signed in with the old password (or took a session from it) must
// sign in with the new one. API keys are credentials of their own and stay.
func (s *Service) SetPassword(ctx context.Context, a Actor, u *User, password string) error {
	hash, err := s.hash(password, u.Email, u.Name)
	if err != nil {
		return err
	}
	now := s.opts.Now().UTC()
	// Only the password, on the stored user: u may be a copy read before
	// another node disabled the account or changed its role.
	fresh, err := s.store.ModifyUser(ctx, u.ID, func(x *User) (bool, error) {
		x.PasswordHash, x.UpdatedAt = hash, now
		return false, nil
	})
	if err != nil {
		return err
	}
	*u = *fresh
	// Recorded once stored: the password is changed even when ending the
	// sessions fails below, and the audit log must say so.
	s.record(ctx, a, "user.password", "user:"+u.ID, nil)
	if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
		return fmt.Errorf("the password of %s is changed, but its sessions could not be ended: %w", u.Email, err)
	}
	return nil
}

// SetDisabled disables (or re-enables) the account with the given email.
// A disabled account's sessions and API keys stop working at once. The
// last enabled admin cannot be disabled: nobody could manage accounts.
func (s *Service) SetDisabled(ctx context.Context, a Actor, email string, disabled bool) (*User, error) {
	s.roles.Lock()
	defer s.roles.Unlock()
	found, err := s.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	var was bool
	u, err := s.modify(ctx, found.ID, "disable", func(u *User) (bool, error) {
		loses := disabled && u.Role == RoleAdmin && !u.Disabled
		was = u.Disabled
		u.Disabled, u.UpdatedAt = disabled, now
		if disabled {
			u.Presence = Offline
		}
		return loses, nil
	})
	if err != nil {
		return nil, err
	}
	// Recorded once stored, before the sessions end: the account is
	// disabled even when that fails, and the audit log must say so.
	if was != disabled {
		action := "user.enable"
		if disabled {
			action = "user.disable"
		}
		s.record(ctx, a, action, "user:"+u.ID, map[string]any{"email": u.Email})
	}
	if disabled {
		// Ended, not only refused while disabled: enabling the account
		// again (a stolen laptop, the account back the next day) must not
		// bring its old sessions back to life.
		if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("%s is disabled (its sessions no longer work), but they could not be ended: %w", u.Email, err)
		}
	}
	return u, nil
}

// errUnchanged stops a change that would change nothing.
var errUnchanged = errors.New("unchanged")

// errLastAdmin refuses to leave Steward without an enabled admin.
func errLastAdmin(verb string) error {
	return errcode.Localized(errcode.Conflict, "cannot %[1]s the last enabled admin: make another user admin first",
		"不能%[2]s唯一的管理员：请先指定另一位管理员", verb, map[string]string{"demote": "降级", "disable": "停用"}[verb])
}

// modify changes the stored user with id as change says, reading and
// writing it in one transaction that every node's changes take turns in
// (s.roles serialises them only within this process): a change made from a
// copy read earlier wrote back what another node had changed meanwhile (a
// role change re-enabled an account just disabled). When change takes an
// enabled admin away (it returns true), the store refuses it if no enabled
// admin would remain.
func (s *Service) modify(ctx context.Context, id, verb string, change func(u *User) (loses bool, err error)) (*User, error) {
	u, err := s.store.ModifyUser(ctx, id, change)
	if errors.Is(err, ErrNoAdminLeft) {
		return nil, errLastAdmin(verb)
	}
	return u, err
}

// SetRole gives the user with id a new role. Demoting the last enabled
// admin is refused.
func (s *Service) SetRole(ctx context.Context, a Actor, id string, role Role) (*User, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	s.roles.Lock()
	defer s.roles.Unlock()
	now := s.opts.Now().UTC()
	var from Role
	u, err := s.modify(ctx, id, "demote", func(u *User) (bool, error) {
		if from = u.Role; u.Role == role {
			return false, errUnchanged
		}
		loses := u.Role == RoleAdmin && !u.Disabled
		u.Role, u.UpdatedAt = role, now
		if !role.Can(DeskWork) {
			u.Presence = Offline // no longer takes conversations
		}
		return loses, nil
	})
	if errors.Is(err, errUnchanged) {
		return s.store.User(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	s.record(ctx, a, "user.role", "user:"+u.ID, map[string]any{"email": u.Email, "from": string(from), "to": string(role)})
	return u, nil
}

// UserByEmail returns the account with the given email.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
}

// record appends an entry to the audit trail, if there is one. A failure is
// logged by the audit log; the change it describes stands.
func (s *Service) record(ctx context.Context, a Actor, action, object string, detail map[string]any) {
	if s.opts.Audit == nil {
		return
	}
	_ = s.opts.Audit.Record(ctx, audit.Entry{Actor: a.ID, ActorName: a.Name, Action: action, Object: object, Detail: detail})
}

func (s *Service) hash(password, email, name string) (string, error) {
	if err := CheckPassword(password, email, name); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Login is a new console session: the cookie token, a bearer token for API
// use, and the CSRF token. The tokens are shown once and stored hashed.
type Login struct {
	User      *User
	Token     string
	Bearer    string
	CSRF      string
	ExpiresAt time.Time
}

// ErrBadLogin is the one answer to a wrong email, a wrong password and a
// disabled account alike.
var ErrBadLogin = errcode.Localized(errcode.Unauthorized, "wrong email or password", "邮箱或密码不正确")

// Login checks a password and opens a session.
func (s *Service) Login(ctx context.Context, email, password string) (*Login, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || password == "" {
		return nil, errcode.Localized(errcode.Invalid, "email and password are required", "请填写邮箱和密码")
	}
	if len(email) > maxEmail || len(password) > 1024 {
		return nil, ErrBadLogin
	}
	now := s.opts.Now()
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && errcode.Code(err) != errcode.NotFound {
		return nil, err
	}
	// A known account's failures are counted in the store, where every
	// node (and this one after a restart) sees them; an unknown email's
	// only here, since no password can open it anyway.
	shared, sharedLast := 0, time.Time{}
	if u != nil {
		if shared, sharedLast, err = s.store.LoginFailures(ctx, u.ID, now.Add(-s.opts.FailureWindow)); err != nil {
			return nil, err
		}
	}
	if ok, wait := s.begin(email, now, shared, sharedLast); !ok {
		e := errcode.Localized(errcode.RateLimited, "too many failed logins for this account; try again in %d minutes",
			"这个账号登录失败次数过多，请 %d 分钟后再试", int(math.Ceil(wait.Minutes())))
		e.RetryAfter = wait
		return nil, e
	}
	hash := s.dummy
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil || u.Disabled {
		locked := s.end(email, true, now)
		if u != nil {
			// The store's count decides for every node; this node's table
			// still holds the lock if the store cannot be written now.
			if lockedAll, err := s.store.AddLoginFailure(ctx, u.ID, now, now.Add(-s.opts.FailureWindow), s.opts.MaxFailures); err != nil {
				s.logger.Error("count a failed login in the store", "user", u.ID, "error", err)
			} else {
				locked = lockedAll
			}
		}
		s.logger.Info("login failed", "user", userID(u))
		s.recordFailure(ctx, email, u, locked)
		return nil, ErrBadLogin
	}
	s.end(email, false, now)
	s.clearFailures(email)
	if err := s.store.ClearLoginFailures(ctx, u.ID); err != nil {
		s.logger.Warn("clear the failed logins of an account", "user", u.ID, "error", err)
	}
	l := &Login{User: u, Token: token.New(), Bearer: token.New(), CSRF: token.New(), ExpiresAt: now.Add(s.opts.SessionTTL).UTC()}
	sess := &Session{TokenHash: token.Hash(l.Token), BearerHash: token.Hash(l.Bearer), UserID: u.ID, CSRF: l.CSRF,
		CreatedAt: now.UTC(), ExpiresAt: l.ExpiresAt}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	// A password change or a disable ends the account's sessions after it
	// is stored (SetPassword, SetDisabled). One that ran while the password
	// was checked here missed the session stored just now, which outlived
	// it: the old password's session went on working. So the account is
	// read again now that the session is stored: changed, the session ends
	// here; unchanged, a change still to come ends it too.
	if cur, err := s.store.User(ctx, u.ID); err != nil || cur.Disabled || cur.PasswordHash != u.PasswordHash {
		if derr := s.store.DeleteSession(ctx, sess.TokenHash); derr != nil {
			s.logger.Error("end a session whose account changed during the login", "user", u.ID, "error", derr)
		}
		if err != nil {
			return nil, err
		}
		s.logger.Info("login failed: the account changed during it", "user", u.ID)
		return nil, ErrBadLogin
	}
	if err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		s.logger.Warn("delete expired sessions", "error", err)
	}
	s.logger.Info("login", "user", u.ID)
	s.record(ctx, ActorOf(u), "auth.login", "user:"+u.ID, nil)
	return l, nil
}

// recordFailure audits a failed sign-in: which account (or which unknown
// address) and why, never the password. A string that is not an email
// address is not kept: it may be a password typed in the wrong field.
// Attempts refused by the lock are not recorded one by one (they cost an
// attacker nothing); the failure that locks the account says so.
func (s *Service) recordFailure(ctx context.Context, email string, u *User, locked bool) {
	detail := map[string]any{"reason": "unknown_email"}
	object := "user:unknown"
	switch {
	case u != nil && u.Disabled:
		detail["reason"], object = "disabled", "user:"+u.ID
	case u != nil:
		detail["reason"], object = "wrong_password", "user:"+u.ID
	}
	if _, err := validEmail(email); err == nil {
		detail["email"] = email
	} else {
		detail["email"] = "(not an email address)"
	}
	if locked {
		detail["locked"] = true
	}
	s.record(ctx, Actor{ID: "anonymous"}, "auth.login.failed", object, detail)
}

func userID(u *User) string {
	if u == nil {
		return ""
	}
	return u.ID
}

// Logout ends the session a principal signed in with, whichever of its
// two tokens it used. API keys have no session: revoke them instead.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	if p.session == nil {
		return nil
	}
	if err := s.store.DeleteSession(ctx, p.session); err != nil {
		return err
	}
	s.record(ctx, ActorOf(p.User), "auth.logout", "user:"+p.User.ID, nil)
	return nil
}

// EndCookieSession ends the session a cookie token opened, if any. A login
// calls it with the cookie the browser came with, so that a session token
// known before the login (planted, or left from someone else's session on
// a shared computer) is dead afterwards: every login gets new tokens.
func (s *Service) EndCookieSession(ctx context.Context, tok string) error {
	if tok == "" || len(tok) > 200 {
		return nil
	}
	return s.store.DeleteSession(ctx, token.Hash(tok))
}

// Principal is who a request acts for and how it proved it.
type Principal struct {
	User *User
	// CSRF is the session's CSRF token when the request came with the
	// session cookie; such requests must echo it to change anything.
	CSRF   string
	Cookie bool

	session []byte  // the session's key (its cookie token's hash); nil for API keys
	key     *APIKey // the API key the request came with, if any
}

// Actor is whom the audit trail names for what the principal does: the
// user, and the API key when the request came with one. An admin may make
// keys for another user's account, so the user alone would not say who
// held the key.
func (p *Principal) Actor() Actor {
	a := ActorOf(p.User)
	if p.key != nil {
		a.Name = fmt.Sprintf("%s (API key %q, %s)", a.Name, p.key.Name, p.key.ID)
	}
	return a
}

// Session reports whether the principal signed in with a session (the
// console), not an API key.
func (p *Principal) Session() bool { return p.session != nil }

var errNoSession = errcode.Localized(errcode.Unauthorized, "not signed in, or the session has expired: sign in again", "未登录或登录已过期，请重新登录")

// FromCookie authenticates a session cookie's token.
func (s *Service) FromCookie(ctx context.Context, tok string) (*Principal, error) {
	sess, u, err := s.session(ctx, tok, false)
	if err != nil {
		return nil, err
	}
	return &Principal{User: u, CSRF: sess.CSRF, Cookie: true, session: sess.TokenHash}, nil
}

// FromBearer authenticates a bearer token: an API key or a login's bearer token.
func (s *Service) FromBearer(ctx context.Context, tok string) (*Principal, error) {
	if strings.HasPrefix(tok, APIKeyPrefix) {
		key, u, err := s.store.APIKeyUser(ctx, token.Hash(tok))
		if errcode.Code(err) == errcode.NotFound {
			return nil, errcode.Errorf(errcode.Unauthorized, "unknown or revoked API key")
		}
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, errcode.Errorf(errcode.Unauthorized, "the API key's account is disabled")
		}
		return &Principal{User: u, key: key}, nil
	}
	sess, u, err := s.session(ctx, tok, true)
	if err != nil {
		return nil, err
	}
	return &Principal{User: u, session: sess.TokenHash}, nil
}

func (s *Service) session(ctx context.Context, tok string, bearer bool) (*Session, *User, error) {
	if tok == "" || len(tok) > 200 {
		return nil, nil, errNoSession
	}
	sess, u, err := s.store.SessionUser(ctx, token.Hash(tok), bearer)
	if errcode.Code(err) == errcode.NotFound {
		return nil, nil, errNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.opts.Now().Before(sess.ExpiresAt) || u.Disabled {
		return nil, nil, errNoSession
	}
	return sess, u, nil
}

// CreateAPIKey makes a key that acts as the user with userID. The key is
// returned once; only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, a Actor, name, userID string) (string, *APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, errcode.Errorf(errcode.Invalid, "name is required")
	}
	if err := validText("name", name, maxName); err != nil {
		return "", nil, err
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	key := APIKeyPrefix + token.New()
	k := &APIKey{ID: token.ID("k", 8), KeyHash: token.Hash(key), Prefix: key[:len(APIKeyPrefix)+6], Name: name, UserID: u.ID,
		CreatedAt: s.opts.Now().UTC()}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	s.record(ctx, a, "apikey.create", "apikey:"+k.ID, map[string]any{"name": k.Name, "user_id": k.UserID, "prefix": k.Prefix})
	return key, k, nil
}

// begin reserves a password check of email, or reports false when the
// account is locked, with how long the lock lasts: its recent failures and
// the checks under way reach MaxFailures. shared is the account's recent
// failures on every node, as the store counts them (this node's own are
// among them), and sharedLast the last of them.
func (s *Service) begin(email string, now time.Time, shared int, sharedLast time.Time) (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	local := s.recentLocked(email, now)
	if max(len(local), shared)+s.checking[email] < s.opts.MaxFailures {
		s.checking[email]++
		return true, 0
	}
	// The lock lasts the window from the failure that set it, the last
	// (every failure of a lock is moved to its moment). Held only by checks
	// still under way, it lasts as long as they do: a second or so.
	last := sharedLast
	if n := len(local); n > 0 && local[n-1].After(last) {
		last = local[n-1]
	}
	wait := last.Add(s.opts.FailureWindow).Sub(now)
	if wait < time.Second {
		wait = time.Second
	}
	return false, wait
}

// end ends a check begun by begin; failed counts it as a failure, and the
// result says whether that locked the email.
func (s *Service) end(email string, failed bool, now time.Time) bool {
	s.mu.Lock()
	if s.checking[email]--; s.checking[email] <= 0 {
		delete(s.checking, email)
	}
	s.mu.Unlock()
	if !failed {
		return false
	}
	return s.fail(email, now)
}

// locked reports whether email has had too many failures recently.
func (s *Service) locked(email string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recentLocked(email, now)) >= s.opts.MaxFailures
}

func (s *Service) recentLocked(email string, now time.Time) []time.Time {
	fs := s.failures[email]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) > s.opts.FailureWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(s.failures, email)
	} else {
		s.failures[email] = fs
	}
	return fs
}

// maxTracked bounds the failure table, so a spray of made-up emails cannot
// grow it without limit.
const maxTracked = 10000

// fail counts a failed login and reports whether it locked the email.
func (s *Service) fail(email string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.failures[email]; !ok && len(s.failures) >= maxTracked {
		// Room for a new email: an unlocked entry goes first, so a spray
		// of made-up emails cannot lift another account's lock.
		victim := ""
		for k, fs := range s.failures {
			if victim == "" {
				victim = k
			}
			if len(fs) < s.opts.MaxFailures {
				victim = k
				break
			}
		}
		delete(s.failures, victim)
	}
	fs := append(s.recentLocked(email, now), now)
	locked := len(fs) == s.opts.MaxFailures
	if locked {
		// The lock lasts the window from now, as the refusal says: the
		// failures that made it all count from the moment it began.
		for i := range fs {
			fs[i] = now
		}
	}
	s.failures[email] = fs
	return locked
}

func (s *Service) clearFailures(email string) {
	s.mu.Lock()
	delete(s.failures, email)
	s.mu.Unlock()
}

func validEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", errcode.Errorf(errcode.Invalid, "email is required")
	}
	if len(s) > maxEmail {
		return "", errcode.Errorf(errcode.Invalid, "email exceeds %d characters", maxEmail)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", errcode.Errorf(errcode.Invalid, "email %q is not an address like name@example.com", s)
	}
	return s, nil
}

func validText(field, s string, maxRunes int) error {
	if !utf8.ValidString(s) {
		return errcode.Errorf(errcode.Invalid, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return errcode.Errorf(errcode.Invalid, "%s exceeds %d characters", field, maxRunes)
	}
	return nil
}

func validList(field string, items []string) error {
	if len(items) > maxListItems {
		return errcode.Errorf(errcode.Invalid, "%s has more than %d items", field, maxListItems)
	}
	for _, it := range items {
		if strings.TrimSpace(it) == "" {
			return errcode.Errorf(errcode.Invalid, "%s has an empty item", field)
		}
		if err := validText(field, it, maxItemLen); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RandomPassword returns a new random password that is easy to type:
// 16 lowercase letters and digits.
func RandomPassword() string { return token.ID("", 12)[:16] }

// ErrNotPermitted is the answer to a user without the permission. action
// is an English phrase ("reply to customers"); its Chinese is in
// actionsZH, and one without there gets a general Chinese text rather
// than English inside Chinese.
func ErrNotPermitted(action string) error {
	zh := "您的角色无权执行此操作"
	if a, ok := actionsZH[action]; ok {
		zh = "您的角色无权" + a
	}
	return &errcode.Error{Code: errcode.Forbidden, Message: "your role may not " + action, MessageZH: zh}
}

// actionsZH are the Chinese of the actions ErrNotPermitted is given
// (TestEveryRefusedActionHasChinese finds them in the code).
var actionsZH = map[string]string{
	"activate releases":                              "激活知识库版本",
	"close conversations":                            "结束会话",
	"edit canned replies":                            "编辑快捷回复",
	"export the knowledge base":                      "导出知识库",
	"flag answers":                                   "标记错误回答",
	"handle corrections":                             "处理纠错",
	"import into the knowledge base":                 "向知识库导入",
	"maintain golden questions":                      "维护标准问题集",
	"manage API keys":                                "管理 API 密钥",
	"manage users":                                   "管理用户",
	"override the quality gate":                      "越过质量门禁",
	"publish releases":                               "发布知识库版本",
	"read canned replies":                            "查看快捷回复",
	"read conversations":                             "查看会话",
	"read offline messages":                          "查看留言",
	"read the audit trail":                           "查看审计日志",
	"read the correction queue":                      "查看纠错队列",
	"read the knowledge base":                        "查看知识库",
	"read the quality report":                        "查看质量报告",
	"read the server's profiles":                     "查看服务器性能剖析",
	"read unanswered questions":                      "查看未解答问题",
	"reassign conversations":                         "转派会话",
	"reply to customers":                             "回复客户",
	"resolve offline messages":                       "处理留言",
	"reveal personal data":                           "查看个人信息原文",
	"roll back releases":                             "回滚知识库版本",
	"see every conversation":                         "查看所有会话",
	"see the queue":                                  "查看排队队列",
	"see the team":                                   "查看团队",
	"take conversations":                             "接入会话",
	"use the desk":                                   "使用客服工作台",
	"verify the audit trail":                         "校验审计日志",
	"write knowledge-base drafts":                    "编写知识库草稿",
	"write notes":                                    "写内部备注",
	"submit entries":                                 "提交条目审核",
	"approve entries":                                "批准条目",
	"reject entries":                                 "驳回条目",
	"retire entries":                                 "下线条目",
	"read alerts, incidents and the service posture": "查看告警、故障事件和服务状态",
	"manage incidents, the posture, silences and notices": "管理故障事件、服务状态、静默规则和公告",
	"inject faults": "注入故障",
}

// APIKeys lists the API keys (never the keys themselves).
func (s *Service) APIKeys(ctx context.Context) ([]APIKey, error) { return s.store.APIKeys(ctx) }

// DeleteAPIKey revokes an API key at once.
func (s *Service) DeleteAPIKey(ctx context.Context, a Actor, id string) error {
	if err := s.store.DeleteAPIKey(ctx, id); err != nil {
		return err
	}
	s.record(ctx, a, "apikey.delete", "apikey:"+id, nil)
	return nil
}

// Users lists every account.
func (s *Service) Users(ctx context.Context) ([]User, error) { return s.store.Users(ctx) }

// User returns the account with the given id.
func (s *Service) User(ctx context.Context, id string) (*User, error) { return s.store.User(ctx, id) }
