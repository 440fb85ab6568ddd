// Package email sends notices by SMTP (net/smtp) as plain-text UTF-8 mail
// holding the Chinese and the English text.
//
// It dials with the caller's context and bounds the whole conversation by
// the context's deadline; it upgrades with STARTTLS when the server offers
// it (start_tls: auto), insists on it (always) or never does (never), and
// speaks implicit TLS on port 465. A 5xx reply is permanent, a 4xx one may
// be retried. A recipient the server refuses does not keep the notice from
// the others: it goes to those accepted, and a retry after a temporary
// refusal goes only to the recipients that have not had it.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/notify"
)

// Defaults for unset settings.
const (
	DefaultPort          = 587
	DefaultSubjectPrefix = "[Steward]"
	// smtpsPort speaks TLS from the first byte instead of STARTTLS.
	smtpsPort = 465
	// sessionTimeout bounds a conversation whose ctx has no deadline.
	sessionTimeout = time.Minute
	dialTimeout    = 10 * time.Second
)

// STARTTLS modes.
const (
	StartTLSAuto   = "auto"
	StartTLSAlways = "always"
	StartTLSNever  = "never"
)

// Config is an email channel's settings.
type Config struct {
	Host string `yaml:"host"`
	// Port is the submission port; 587 when unset, 465 for implicit TLS.
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// From is the sender, e.g. "Steward <alerts@example.com>".
	From string   `yaml:"from"`
	To   []string `yaml:"to"`
	// StartTLS is auto (the default: upgrade when offered), always or never.
	StartTLS string `yaml:"start_tls"`
	// SubjectPrefix starts every subject; "[Steward]" when unset.
	SubjectPrefix string `yaml:"subject_prefix"`
}

// Validate reports the first problem, naming its setting.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Host) == "" {
		return errors.New("host is required")
	}
	if strings.ContainsAny(c.Host, " /:\r\n") {
		return errors.New("host must be a host name or IP address, without a port (set port)")
	}
	if c.Port < 0 || c.Port > 65535 {
		return errors.New("port must be from 1 to 65535 (0 for 587)")
	}
	if c.Password != "" && c.Username == "" {
		return errors.New("password is set but username is empty")
	}
	if strings.TrimSpace(c.From) == "" {
		return errors.New("from is required")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("from is not an email address: %v", err)
	}
	if len(c.To) == 0 {
		return errors.New("to needs at least one address")
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("to[%d] is not an email address: %v", i, err)
		}
	}
	switch c.StartTLS {
	case "", StartTLSAuto, StartTLSAlways, StartTLSNever:
	default:
		return fmt.Errorf("start_tls must be auto, always or never, not %q", c.StartTLS)
	}
	return nil
}

// Channel sends notices to a fixed list of recipients through one SMTP
// server.
type Channel struct {
	cfg  Config
	from *mail.Address
	to   []*mail.Address

	mu sync.Mutex
	// had holds, by notice id, the recipients that accepted a notice some
	// of whose recipients were refused for now, so that its retry goes to
	// the others only. Lost on restart: a retry then mails everyone again,
	// with the same Message-ID.
	had map[string]map[string]bool
}

// maxHad bounds the notices Channel.had remembers.
const maxHad = 256

var _ notify.Channel = (*Channel)(nil)

// New validates cfg, fills in the defaults and makes the channel.
func New(cfg Config) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.StartTLS == "" {
		cfg.StartTLS = StartTLSAuto
	}
	if cfg.SubjectPrefix == "" {
		cfg.SubjectPrefix = DefaultSubjectPrefix
	}
	c := &Channel{cfg: cfg}
	c.from, _ = mail.ParseAddress(cfg.From)
	for _, to := range cfg.To {
		a, _ := mail.ParseAddress(to)
		c.to = append(c.to, a)
	}
	return c, nil
}

// Send mails n to every recipient in one transaction. Recipients the
// server refuses do not stop it reaching the others; the error then names
// them, and is permanent if every refusal was.
func (c *Channel) Send(ctx context.Context, n notify.Notice) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	var rcpts []*mail.Address
	c.mu.Lock()
	for _, a := range c.to {
		if !c.had[n.ID][a.Address] {
			rcpts = append(rcpts, a)
		}
	}
	c.mu.Unlock()
	accepted, err := c.deliver(ctx, c.Message(n, time.Now()), rcpts)
	err = c.classify(ctx, err)
	c.note(n.ID, accepted, err)
	return err
}

// classify words a failed delivery and marks it permanent when no retry
// can fix it.
func (c *Channel) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	ctxErr := ctx.Err()
	if d, ok := ctx.Deadline(); ctxErr == nil && ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
		// The connection's deadline, which is ctx's, fired before ctx's own timer.
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	err = fmt.Errorf("email via %s: %w", net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port)), err)
	var r *refusals
	if errors.As(err, &r) {
		if r.permanent() {
			return notify.Permanent(err)
		}
		return err
	}
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return notify.Permanent(err)
	}
	return err
}

// setupError is a problem with the server's offer or the settings that
// no retry will fix.
type setupError struct{ msg string }

func (e *setupError) Error() string { return e.msg }

// note remembers who accepted notice id when others are still to be
// tried again, and forgets the notice once it is done.
func (c *Channel) note(id string, accepted []string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil || notify.IsPermanent(err) {
		delete(c.had, id)
		return
	}
	if len(accepted) == 0 {
		return
	}
	if c.had == nil || len(c.had) >= maxHad {
		c.had = map[string]map[string]bool{}
	}
	if c.had[id] == nil {
		c.had[id] = map[string]bool{}
	}
	for _, a := range accepted {
		c.had[id][a] = true
	}
}

// refusals are the recipients the server refused; the message went to
// the others.
type refusals struct {
	accepted []string
	errs     []error
}

func (r *refusals) Error() string {
	msg := errors.Join(r.errs...).Error()
	msg = strings.ReplaceAll(msg, "\n", "; ")
	if len(r.accepted) > 0 {
		return msg + " (sent to " + strings.Join(r.accepted, ", ") + ")"
	}
	return msg
}

// permanent reports whether every refusal was a 5xx.
func (r *refusals) permanent() bool {
	for _, err := range r.errs {
		var tp *textproto.Error
		if !errors.As(err, &tp) || tp.Code < 500 {
			return false
		}
	}
	return true
}

// deliver sends msg to rcpts in one transaction and returns who accepted
// it: all of them, or with a *refusals error some of them.
func (c *Channel) deliver(ctx context.Context, msg []byte, rcpts []*mail.Address) (accepted []string, err error) {
	if len(rcpts) == 0 {
		return nil, nil // every recipient had it already
	}
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(sessionTimeout)
	}
	conn.SetDeadline(deadline)
	// A cancelled ctx unblocks whatever read or write is under way.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := &tls.Config{ServerName: c.cfg.Host, MinVersion: tls.VersionTLS12}
	encrypted := false
	if c.cfg.Port == smtpsPort {
		conn = tls.Client(conn, tlsConfig)
		encrypted = true
	}
	cl, err := smtp.NewClient(conn, c.cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	defer cl.Close()
	if !encrypted && c.cfg.StartTLS != StartTLSNever {
		offered, _ := cl.Extension("STARTTLS")
		switch {
		case offered:
			if err := cl.StartTLS(tlsConfig); err != nil {
				return nil, fmt.Errorf("STARTTLS: %w", err)
			}
		case c.cfg.StartTLS == StartTLSAlways:
			return nil, notify.Permanent(&setupError{"the server does not offer STARTTLS (start_tls: always)"})
		}
	}
	if c.cfg.Username != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return nil, notify.Permanent(&setupError{"the server does not offer AUTH but a username is set"})
		}
		if err := cl.Auth(smtp.PlainAuth("", c.cfg.Username, c.cfg.Password, c.cfg.Host)); err != nil {
			var tp *textproto.Error
			var ne net.Error
			if !errors.As(err, &tp) && !errors.As(err, &ne) {
				// net/smtp refused, e.g. to send a password in the clear.
				return nil, notify.Permanent(fmt.Errorf("AUTH: %w", err))
			}
			return nil, fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := cl.Mail(c.from.Address); err != nil {
		return nil, fmt.Errorf("MAIL FROM: %w", err)
	}
	refused := &refusals{}
	for _, to := range rcpts {
		if err := cl.Rcpt(to.Address); err != nil {
			var tp *textproto.Error
			if !errors.As(err, &tp) {
				return nil, fmt.Errorf("RCPT TO <%s>: %w", to.Address, err) // the connection failed
			}
			refused.errs = append(refused.errs, fmt.Errorf("RCPT TO <%s>: %w", to.Address, err))
			continue
		}
		refused.accepted = append(refused.accepted, to.Address)
	}
	if len(refused.accepted) == 0 {
		return nil, refused
	}
	w, err := cl.Data()
	if err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	cl.Quit()
	if len(refused.errs) > 0 {
		return refused.accepted, refused
	}
	return refused.accepted, nil
}

// Message renders n as an RFC 5322 message dated now. Its Message-ID is
// derived from n.ID, so every retry of a notice carries the same one and
// receivers can drop duplicates.
func (c *Channel) Message(n notify.Notice, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", c.from.String())
	to := make([]string, len(c.to))
	for i, a := range c.to {
		to[i] = a.String()
	}
	header("To", strings.Join(to, ", "))
	header("Subject", encodeHeader(c.Subject(n)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(n, c.from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	header("Auto-Submitted", "auto-generated")
	if id := safeID(n.ID); id != "" {
		header("X-Steward-Delivery", id)
	}
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(notify.PlainText(n), "\n", "\r\n")))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// Subject is the prefix, then level, status and titles on one line.
func (c *Channel) Subject(n notify.Notice) string {
	return strings.TrimSpace(c.cfg.SubjectPrefix + " " + notify.Headline(n))
}

// encodeHeader encodes a UTF-8 value as RFC 2047 words (B encoding),
// folding between words.
func encodeHeader(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(mime.BEncoding.Encode("UTF-8", s), "?= =?", "?=\r\n =?")
}

// messageID is <id@domain of the sender>, with the notice id itself when
// it is safe in a header and its hash when not.
func messageID(n notify.Notice, from string) string {
	local := safeID(n.ID)
	if local == "" {
		seed := n.ID
		if seed == "" {
			seed = n.Title + "\x00" + n.At.UTC().Format(time.RFC3339Nano)
		}
		sum := sha256.Sum256([]byte(seed))
		local = hex.EncodeToString(sum[:16])
	}
	domain := "steward.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return "<steward." + local + "@" + domain + ">"
}

// safeID returns id when it is 1 to 64 characters of letters, digits,
// '.', '-' and '_', else "".
func safeID(id string) string {
	if id == "" || len(id) > 64 {
		return ""
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return ""
		}
	}
	return id
}
