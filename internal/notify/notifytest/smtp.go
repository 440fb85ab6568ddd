package notifytest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Email is a message the SMTP fake accepted, parsed.
type Email struct {
	// From and To are the envelope's MAIL FROM and RCPT TO addresses.
	From string
	To   []string
	// User is the name the client authenticated as, if it did.
	User   string
	Header mail.Header
	// Subject is the Subject header, RFC 2047 decoded.
	Subject string
	// Body is the body, its Content-Transfer-Encoding undone.
	Body string
	Raw  []byte
}

// SMTP is a small SMTP server on 127.0.0.1 speaking what net/smtp needs:
// EHLO/HELO, AUTH PLAIN (offered and required when made with a username),
// MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET, NOOP and QUIT. It
// serves each connection on its own goroutine, parses each message with
// net/mail, and can be told to refuse recipients (451 or 550), to greet
// with 421 (down), to answer MAIL FROM with 451 (rate limited), or to
// never greet (hang).
type SMTP struct {
	ln             net.Listener
	user, password string
	wg             sync.WaitGroup

	mu          sync.Mutex
	conns       map[net.Conn]bool
	closed      bool
	down        bool
	hang        bool
	rateLimited bool
	reject      int
	rejectAddr  map[string]int // by address, over reject
	msgs        []Email
	sessions    int
}

var _ Fake = (*SMTP)(nil)

// NewSMTP starts a server; with a username it offers AUTH PLAIN and
// requires it before MAIL FROM.
func NewSMTP(username, password string) *SMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("notifytest: listen: %v", err))
	}
	s := &SMTP{ln: ln, user: username, password: password, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s
}

// Host is the address the server listens on, 127.0.0.1.
func (s *SMTP) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the port the server listens on.
func (s *SMTP) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// SetReject makes RCPT TO answer code (451 to defer, 550 to refuse); 0
// accepts again.
func (s *SMTP) SetReject(code int) { s.mu.Lock(); s.reject = code; s.mu.Unlock() }

// SetRejectAddress makes RCPT TO of addr alone answer code (451, 550); 0
// accepts it again.
func (s *SMTP) SetRejectAddress(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectAddr == nil {
		s.rejectAddr = map[string]int{}
	}
	if code == 0 {
		delete(s.rejectAddr, addr)
		return
	}
	s.rejectAddr[addr] = code
}

// SetDown makes the server greet with 421 and hang up.
func (s *SMTP) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetHang makes the server accept connections and never greet.
func (s *SMTP) SetHang(hang bool) { s.mu.Lock(); s.hang = hang; s.mu.Unlock() }

// SetRateLimited makes MAIL FROM answer 451 4.7.1; SMTP has no
// Retry-After, so retryAfter is ignored.
func (s *SMTP) SetRateLimited(on bool, retryAfter string) {
	s.mu.Lock()
	s.rateLimited = on
	s.mu.Unlock()
}

// Messages returns the messages accepted, oldest first.
func (s *SMTP) Messages() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Email(nil), s.msgs...)
}

// Count is how many messages the server accepted.
func (s *SMTP) Count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.msgs) }

// Sessions is how many connections the server took.
func (s *SMTP) Sessions() int { s.mu.Lock(); defer s.mu.Unlock(); return s.sessions }

// Close stops accepting, closes open connections and waits for their
// goroutines.
func (s *SMTP) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

func (s *SMTP) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = true
		s.sessions++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
				conn.Close()
			}()
			s.serve(conn)
		}()
	}
}

// session is one SMTP conversation's state.
type session struct {
	from  string
	to    []string
	user  string
	hello bool
}

func (s *SMTP) serve(conn net.Conn) {
	s.mu.Lock()
	down, hang := s.down, s.hang
	s.mu.Unlock()
	if hang {
		io.Copy(io.Discard, conn) // until the client or Close hangs up
		return
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	reply := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	if down {
		reply("421 4.3.2 steward-fake Service not available, closing transmission channel")
		return
	}
	reply("220 steward-fake ESMTP ready")
	var ss session
	for {
		line, err := readLine(r)
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss = session{user: ss.user, hello: true}
			lines := []string{"250-steward-fake greets " + arg, "250-8BITMIME", "250-PIPELINING"}
			if s.user != "" {
				lines = append(lines, "250-AUTH PLAIN")
			}
			reply(append(lines, "250 SIZE 10485760")...)
		case "HELO":
			ss = session{user: ss.user, hello: true}
			reply("250 steward-fake")
		case "AUTH":
			ss.user = s.auth(r, reply, arg, ss)
		case "MAIL":
			s.mu.Lock()
			limited := s.rateLimited
			s.mu.Unlock()
			addr, ok := pathArg(arg, "FROM:")
			switch {
			case !ss.hello:
				reply("503 5.5.1 EHLO/HELO first")
			case s.user != "" && ss.user == "":
				reply("530 5.7.0 Authentication required")
			case !ok:
				reply("501 5.5.4 Syntax: MAIL FROM:<address>")
			case limited:
				reply("451 4.7.1 Too many messages, slow down")
			default:
				ss.from, ss.to = addr, nil
				reply("250 2.1.0 OK")
			}
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			s.mu.Lock()
			reject := s.reject
			if code, ok := s.rejectAddr[addr]; ok {
				reject = code
			}
			s.mu.Unlock()
			switch {
			case ss.from == "":
				reply("503 5.5.1 MAIL first")
			case !ok || addr == "":
				reply("501 5.5.4 Syntax: RCPT TO:<address>")
			case reject >= 500:
				reply(strconv.Itoa(reject) + " 5.1.1 <" + addr + ">: Recipient address rejected: User unknown")
			case reject >= 400:
				reply(strconv.Itoa(reject) + " 4.7.1 <" + addr + ">: Recipient address rejected: Greylisted, try again later")
			default:
				ss.to = append(ss.to, addr)
				reply("250 2.1.5 OK")
			}
		case "DATA":
			if len(ss.to) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			reply("354 End data with <CR><LF>.<CR><LF>")
			raw, err := readData(r)
			if err != nil {
				return
			}
			email, err := parseEmail(raw)
			if err != nil {
				reply("554 5.6.0 Message is not RFC 5322: " + oneLineErr(err))
			} else {
				email.From, email.To, email.User = ss.from, ss.to, ss.user
				s.mu.Lock()
				s.msgs = append(s.msgs, email)
				s.mu.Unlock()
				reply("250 2.0.0 OK queued")
			}
			ss.from, ss.to = "", nil
		case "RSET":
			ss.from, ss.to = "", nil
			reply("250 2.0.0 OK")
		case "NOOP":
			reply("250 2.0.0 OK")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Command not recognized")
		}
	}
}

// auth handles AUTH PLAIN, with or without an initial response, and
// returns the user authenticated ("" if none).
func (s *SMTP) auth(r *bufio.Reader, reply func(...string), arg string, ss session) string {
	mech, initial, _ := strings.Cut(arg, " ")
	switch {
	case s.user == "" || !strings.EqualFold(mech, "PLAIN"):
		reply("504 5.5.4 Unrecognized authentication type")
		return ss.user
	case ss.user != "":
		reply("503 5.5.1 Already authenticated")
		return ss.user
	}
	if initial == "" {
		reply("334 ")
		line, err := readLine(r)
		if err != nil {
			return ""
		}
		initial = line
	}
	dec, err := base64.StdEncoding.DecodeString(initial)
	parts := strings.Split(string(dec), "\x00")
	if err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.password {
		reply("535 5.7.8 Authentication credentials invalid")
		return ""
	}
	reply("235 2.7.0 Authentication successful")
	return parts[1]
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readData reads a DATA section up to the lone ".", undoing dot-stuffing.
func readData(r *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == ".\r\n" || line == ".\n" {
			return b.Bytes(), nil
		}
		if strings.HasPrefix(line, ".") {
			line = line[1:]
		}
		b.WriteString(line)
		if b.Len() > 10<<20 {
			return nil, fmt.Errorf("message too large")
		}
	}
}

// pathArg returns the address in "FROM:<a@b> PARAMS" after prefix.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func parseEmail(raw []byte) (Email, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Email{}, err
	}
	for _, h := range []string{"From", "To", "Date", "Message-Id"} {
		if m.Header.Get(h) == "" {
			return Email{}, fmt.Errorf("no %s header", h)
		}
	}
	if _, err := m.Header.Date(); err != nil {
		return Email{}, err
	}
	if _, err := m.Header.AddressList("To"); err != nil {
		return Email{}, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Email{}, fmt.Errorf("subject: %w", err)
	}
	var body io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, m.Body) // ignores line breaks
	case "quoted-printable":
		body = quotedprintable.NewReader(m.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Email{}, fmt.Errorf("body: %w", err)
	}
	return Email{Header: m.Header, Subject: subject, Body: strings.ReplaceAll(string(text), "\r\n", "\n"), Raw: raw}, nil
}

func oneLineErr(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
