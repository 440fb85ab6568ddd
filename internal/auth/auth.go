// Package auth owns the people who work in Steward: users and their roles,
// password hashing, console sessions, API keys for integrations, and what
// each role may do. Object-level rules (whose conversation is whose) live
// with the objects, in the domain packages, on top of these permissions.
package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
)

// Role is what a user is for.
type Role string

// The roles.
const (
	RoleAdmin      Role = "admin"      // everything
	RoleSupervisor Role = "supervisor" // the whole desk
	RoleAgent      Role = "agent"      // the queue and their own conversations
	RoleAuditor    Role = "auditor"    // reads everything, changes nothing
)

// ErrNoAdminLeft is ModifyUser's refusal of a change that leaves no enabled admin.
var ErrNoAdminLeft = errors.New("no enabled admin would remain")

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAgent, RoleAuditor}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", errcode.Errorf(errcode.Invalid, "role must be admin, supervisor, agent or auditor, not %q", s)
}

// Permission is a kind of action. Routes and domain functions check them.
type Permission string

// The permissions.
const (
	DeskRead      Permission = "desk.read"      // see the queue, open a transcript (subject to object rules)
	DeskWork      Permission = "desk.work"      // claim, reply, note, close; have a presence
	DeskSupervise Permission = "desk.supervise" // any conversation, reassign, see the team
	DeskReadAll   Permission = "desk.read_all"  // read every conversation, assigned to anyone
	CannedManage  Permission = "canned.manage"  // edit canned replies
	TicketsWork   Permission = "tickets.work"   // resolve offline-message tickets
	UsersManage   Permission = "users.manage"   // users and API keys
	KBRead        Permission = "kb.read"        // entries, history, releases, corrections, unanswered questions
	KBPropose     Permission = "kb.propose"     // write drafts, submit them, flag answers
	KBReview      Permission = "kb.review"      // approve, reject, retire; golden questions; handle corrections
	KBPublish     Permission = "kb.publish"     // publish, activate and roll back releases
	KBOverride    Permission = "kb.override"    // publish past a refusing quality gate, with a reason
	AuditRead     Permission = "audit.read"     // read the audit trail
	// IncidentRead: alerts, incidents, the posture; IncidentManage: set the
	// posture by hand, declare and resolve incidents, silences, notices;
	// FaultsInject: the drills' fault injection (when the server allows it).
	IncidentRead   Permission = "incident.read"
	IncidentManage Permission = "incident.manage"
	FaultsInject   Permission = "faults.inject"
	// PIIReveal shows the original of masked personal data in a
	// conversation the user handles; every reveal is audited.
	PIIReveal Permission = "pii.reveal"
	// DebugProfile reads the running process's profiles (pprof): goroutine
	// stacks, heap and CPU samples, its command line. Admins only: they show
	// the code's inner workings and cost CPU while a profile runs.
	DebugProfile Permission = "debug.profile"
	// IdentityVouch: a conversation started with this user's credential as
	// its bearer may name its customer and traffic source without an
	// identity token (a partner gateway, the drills). Admins only: they hold
	// the identity secret, and could sign the token anyway.
	IdentityVouch Permission = "identity.vouch"
)

var grants = map[Role]map[Permission]bool{
	RoleAdmin: {DeskRead: true, DeskWork: true, DeskSupervise: true, DeskReadAll: true, CannedManage: true,
		TicketsWork: true, UsersManage: true, KBRead: true, KBPropose: true, KBReview: true, KBPublish: true,
		KBOverride: true, AuditRead: true, IncidentRead: true, IncidentManage: true, FaultsInject: true, PIIReveal: true,
		DebugProfile: true, IdentityVouch: true},
	RoleSupervisor: {DeskRead: true, DeskWork: true, DeskSupervise: true, DeskReadAll: true, CannedManage: true,
		TicketsWork: true, KBRead: true, KBPropose: true, KBReview: true, KBPublish: true, IncidentRead: true, IncidentManage: true,
		PIIReveal: true},
	RoleAgent: {DeskRead: true, DeskWork: true, TicketsWork: true, KBRead: true, KBPropose: true, IncidentRead: true,
		PIIReveal: true},
	RoleAuditor: {DeskRead: true, DeskReadAll: true, KBRead: true, AuditRead: true, IncidentRead: true},
}

// Permissions lists what the role grants, sorted.
func (r Role) Permissions() []Permission {
	out := make([]Permission, 0, len(grants[r]))
	for p, ok := range grants[r] {
		if ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Can reports whether the role grants p.
func (r Role) Can(p Permission) bool { return grants[r][p] }

// Presence is whether an agent takes conversations.
type Presence string

// The presence states.
const (
	Online  Presence = "online"
	Away    Presence = "away"
	Offline Presence = "offline"
)

// ParsePresence returns the presence named s.
func ParsePresence(s string) (Presence, error) {
	switch p := Presence(s); p {
	case Online, Away, Offline:
		return p, nil
	}
	return "", errcode.Errorf(errcode.Invalid, "status must be \"online\", \"away\" or \"offline\", not %q", s)
}

// User is a person (or an integration's account) who works in Steward.
type User struct {
	ID           string
	Email        string
	Name         string
	Role         Role
	PasswordHash string
	Disabled     bool
	Skills       []string // categories this agent handles; empty means every one
	Languages    []string // conversation locales this agent handles; empty means every one
	MaxChats     int      // concurrent conversations the desk assigns to this agent
	Presence     Presence
	PresenceAt   time.Time // when the agent's client was last heard from
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Can reports whether the user may do p: an enabled account whose role grants it.
func (u *User) Can(p Permission) bool { return u != nil && !u.Disabled && u.Role.Can(p) }

// DisplayName is the name shown to customers and colleagues.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// Session is a signed-in console: a cookie token and a bearer token for the
// same login, both stored only as hashes, and the CSRF token the console
// sends back with every change.
type Session struct {
	TokenHash  []byte
	BearerHash []byte
	UserID     string
	CSRF       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// APIKey lets an integration act as a user. Only its hash is kept.
type APIKey struct {
	ID        string
	KeyHash   []byte
	Prefix    string // the first characters of the key, to recognise it in a list
	Name      string
	UserID    string
	CreatedAt time.Time
}

// Store keeps users, sessions and API keys. Lookups of something that does
// not exist fail with a not_found error.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	// ModifyUser reads the user with id and lets change modify it, then
	// saves it, in one transaction that every other node's ModifyUser
	// waits for: a change starts from what the last one wrote. When change
	// says keepAdmin and no enabled admin would remain, nothing changes and
	// the error is ErrNoAdminLeft. An error from change is returned, wrapped.
	ModifyUser(ctx context.Context, id string, change func(u *User) (keepAdmin bool, err error)) (*User, error)
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]User, error)
	SetPresence(ctx context.Context, userID string, p Presence, at time.Time) error

	CreateSession(ctx context.Context, s *Session) error
	// SessionUser finds the session whose cookie token (or, with bearer,
	// whose bearer token) hashes to hash, with its user.
	SessionUser(ctx context.Context, hash []byte, bearer bool) (*Session, *User, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteUserSessions ends every session of a user.
	DeleteUserSessions(ctx context.Context, userID string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error

	// The failed sign-ins of accounts, shared by every node, so that the
	// lock-out holds however the attempts are spread (and across a
	// restart). LoginFailures counts an account's failures after since, and
	// says when the last was.
	// AddLoginFailure forgets those up to since, adds one at at, and when
	// that makes max (not more) moves them all to at and reports true: the
	// lock lasts its window from the failure that set it.
	// ClearLoginFailures forgets them all (a successful sign-in).
	LoginFailures(ctx context.Context, userID string, since time.Time) (n int, last time.Time, err error)
	AddLoginFailure(ctx context.Context, userID string, at, since time.Time, max int) (locked bool, err error)
	ClearLoginFailures(ctx context.Context, userID string) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyUser(ctx context.Context, hash []byte) (*APIKey, *User, error)
	APIKeys(ctx context.Context) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, id string) error
}
