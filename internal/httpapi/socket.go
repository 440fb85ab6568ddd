package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/errcode"
)

// Buffers of a WebSocket's connection. An idle socket holds them for as
// long as it is open, so they are sized for the frames that are most
// often sent (pings, pongs, acks, queue positions), not for the largest: a
// larger frame is read or written past them, with one more system call.
// net/http's, 4 KB each, were with the garbage collector's headroom a
// third of the 46 KB an idle socket cost.
const (
	socketReadBuffer  = 128
	socketWriteBuffer = 512
)

// maxQueuedFrames is how many client frames may wait for the socket's
// turn before the reader waits too.
const maxQueuedFrames = 8

// A liveStream is what a socket serves once it is open: a customer's
// conversation or a console's desk.
type liveStream interface {
	// turn sends what is pending: the events its subscriptions hold, the
	// client's frames read since the last turn (in order), and the
	// keepalive if it is due. An error ends the socket.
	turn(ctx context.Context, frames []clientFrame, keepalive bool) error
	// close gives up the stream's subscriptions.
	close()
}

// socket is a WebSocket after its handshake. While it is idle, the only
// goroutine it keeps is the one reading the client's frames: whatever it
// has to send is sent in turns, each on a goroutine started when there is
// something to send (an event, a client frame, the keepalive) that ends
// when there is nothing left. Turns run one at a time, so frames leave in
// the order of the events.
type socket struct {
	srv    *Server
	conn   *websocket.Conn
	ctx    context.Context
	name   string
	every  time.Duration // between keepalives
	stream liveStream    // set once opened

	mu        sync.Mutex
	room      sync.Cond // frames has room, or the socket ended
	busy      bool      // a turn runs (or the opening)
	again     bool      // woken since the current turn took what was pending
	ended     bool
	frames    []clientFrame
	due       bool  // the keepalive is due
	failed    error // the reader's: the next turn ends the socket with it
	keepalive *time.Timer
	turns     sync.WaitGroup
}

// wake says the socket has something to send; a turn follows.
func (sk *socket) wake() {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	sk.again = true
	if !sk.busy && !sk.ended {
		sk.busy = true
		sk.turns.Go(sk.run)
	}
}

// run takes turns until nothing is pending.
func (sk *socket) run() {
	defer sk.recoverPanic()
	for {
		frames, due, failed, ok := sk.next()
		if !ok {
			return
		}
		err := sk.stream.turn(sk.ctx, frames, due)
		switch {
		case err != nil:
			sk.end(err)
		case failed != nil:
			sk.end(failed)
		case due:
			sk.keepalive.Reset(sk.every)
		}
	}
}

// next takes what the next turn is to send, or reports that there is
// none (the socket is idle or ended) and that no turn runs any more.
func (sk *socket) next() (frames []clientFrame, due bool, failed error, ok bool) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if !sk.again || sk.ended {
		sk.busy = false
		return nil, false, nil, false
	}
	frames, due, failed = sk.frames, sk.due, sk.failed
	sk.frames, sk.due, sk.again = nil, false, false
	sk.room.Broadcast()
	return frames, due, failed, true
}

// post queues a client frame for the next turn, waiting while
// maxQueuedFrames wait already.
func (sk *socket) post(f clientFrame) {
	sk.mu.Lock()
	for len(sk.frames) >= maxQueuedFrames && !sk.ended {
		sk.room.Wait()
	}
	sk.frames = append(sk.frames, f)
	sk.mu.Unlock()
	sk.wake()
}

// fail ends the socket with the reader's err once the frames read before
// it have been answered.
func (sk *socket) fail(err error) {
	sk.mu.Lock()
	sk.failed = err
	sk.mu.Unlock()
	sk.wake()
}

// end closes the socket after err, once: the first error is the socket's.
// No turn starts after it.
func (sk *socket) end(err error) {
	sk.mu.Lock()
	if sk.ended {
		sk.mu.Unlock()
		return
	}
	sk.ended = true
	sk.room.Broadcast()
	sk.mu.Unlock()
	sk.srv.closeSocket(sk.ctx, sk.conn, sk.name, err)
}

// serveSocket upgrades r to a WebSocket, calls open to authenticate the
// client and send what it missed, and hands the socket to a goroutine of
// its own that serves open's stream until the client leaves, the stream
// fails or the server shuts down. The request's goroutine returns, and
// with it what net/http kept for the request. An error from open or the
// stream reaches the client as an error frame
// ({"type":"error","error":{"code","message"}}) before the socket closes.
// A client address holding its cap of WebSockets is refused before the
// upgrade (429); capKey, if not empty, is counted instead of the address
// (a signed-in person's consoles).
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions, name string,
	capKey string, keepalive time.Duration, open func(ctx context.Context, sk *socket) (liveStream, error)) error {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		return errcode.Localized(errcode.Invalid, "this endpoint is a WebSocket: send an Upgrade: websocket request",
			"这个接口是 WebSocket：请发送 Upgrade: websocket 请求")
	}
	if capKey == "" {
		capKey = s.limits.clientKey(r)
	}
	release, err := s.limits.openSocket(capKey)
	if err != nil {
		return err
	}
	// Counted before the upgrade, while the HTTP server still counts the
	// request: a shutdown that has drained the server waits for the
	// sockets with nothing left to add.
	s.sockets.Add(1)
	sb := &smallBuffers{ResponseWriter: w}
	conn, err := websocket.Accept(sb, r, opts)
	if err != nil {
		release()
		s.sockets.Done()
		return sb.refused()
	}
	conn.SetReadLimit(maxFrameBytes)
	// The socket outlives the request: its context keeps the request's
	// values, not its end.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	// Shutdown closes the socket. A context rather than a goroutine per
	// socket watches for it: 10,000 idle customers are 10,000 fewer stacks.
	stop := context.AfterFunc(s.closingCtx, func() {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		cancel()
	})
	sk := &socket{srv: s, conn: conn, ctx: ctx, name: name, every: keepalive, busy: true}
	sk.room.L = &sk.mu
	done := func() {
		// The turn that fail started ends the socket: none follows it.
		sk.turns.Wait()
		if sk.keepalive != nil {
			sk.keepalive.Stop()
		}
		if sk.stream != nil {
			sk.stream.close()
		}
		stop()
		cancel()
		release()
		s.sockets.Done()
	}
	st, err := open(ctx, sk)
	if err != nil {
		sk.end(err)
		done()
		return nil
	}
	go func() {
		defer done()
		defer sk.recoverPanic()
		sk.mu.Lock()
		sk.stream, sk.busy = st, false
		again := sk.again
		sk.keepalive = time.AfterFunc(keepalive, func() {
			sk.mu.Lock()
			sk.due = true
			sk.mu.Unlock()
			sk.wake()
		})
		sk.mu.Unlock()
		if again {
			// Events came during the opening.
			sk.wake()
		}
		sk.read()
	}()
	return nil
}

// read reads the client's frames and queues them for the stream's turns
// until the socket fails or closes. Frames over the connection's rate are
// answered and dropped here (see framePacer).
//
// A frame that is not a JSON object of the expected fields (a number for
// the text, a binary frame) is answered with an error frame and the
// socket stays open, as for any other bad message; wsjson.Read closed it
// with 1007 instead and the close was logged as an internal error.
func (sk *socket) read() {
	pacer := sk.srv.limits.newFramePacer()
	for {
		typ, data, err := sk.conn.Read(sk.ctx)
		if errors.Is(err, websocket.ErrMessageTooBig) {
			// The library has closed the socket (1009); this is the
			// client's mistake, not the server's to log as a failure.
			err = errcode.Errorf(errcode.TooLarge, "a frame exceeds %d bytes", maxFrameBytes)
		}
		if err != nil {
			sk.fail(err)
			return
		}
		var f clientFrame
		bad := badFrame(typ, data, &f)
		if ok, err := sk.srv.pace(sk.ctx, sk.conn, pacer, f); err != nil {
			sk.fail(err)
			return
		} else if !ok {
			continue
		}
		if bad != "" {
			if err := sk.srv.writeFrame(sk.ctx, sk.conn, errorFrame{Type: "error",
				Error: errorDetail{Code: errcode.Invalid, Message: bad}}); err != nil {
				sk.fail(err)
				return
			}
			continue
		}
		sk.post(f)
	}
}

// badFrame decodes a client frame into f and says what is wrong with it,
// "" when nothing is.
func badFrame(typ websocket.MessageType, data []byte, f *clientFrame) string {
	const want = `a frame is one JSON object, e.g. {"type":"message","text":"…"}`
	if typ != websocket.MessageText {
		return want + ", sent as text; this one was binary"
	}
	if !utf8.Valid(data) {
		return want + "; this one is not valid UTF-8" // json.Unmarshal would turn the bytes into U+FFFD
	}
	if err := json.Unmarshal(data, f); err != nil {
		*f = clientFrame{}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Sprintf("%s: field %q must be a %s, not a %s", want, te.Field, jsonType(te.Type), te.Value)
		}
		return want + "; this one is not valid JSON"
	}
	return ""
}

// recoverPanic logs a panic of the socket's reader or of a turn and closes the
// socket, as the recoverer does for a request.
func (sk *socket) recoverPanic() {
	if v := recover(); v != nil {
		sk.srv.logger.Error("panic in "+sk.name, "panic", v, "stack", string(debug.Stack()))
		sk.mu.Lock()
		sk.ended = true
		sk.room.Broadcast()
		sk.mu.Unlock()
		sk.conn.CloseNow()
	}
}

// closeSocket closes conn after err: an error frame first unless the
// client closed or went away.
func (s *Server) closeSocket(ctx context.Context, conn *websocket.Conn, name string, err error) {
	switch {
	case err == nil, errors.Is(err, context.Canceled), websocket.CloseStatus(err) != -1:
		conn.Close(websocket.StatusNormalClosure, "")
	case goneAway(err):
		// A phone that lost its signal or a closed tab: not an error.
		s.logger.Debug(name+": the client went away", "error", err)
		conn.CloseNow()
	default:
		code := errcode.Code(err)
		if code == errcode.Internal {
			s.logger.Error(name+" failed", "error", err)
		}
		s.writeFrame(ctx, conn, errorFrame{Type: "error", Error: *errorDetailOf(err)})
		conn.Close(websocket.StatusPolicyViolation, code)
	}
}

// goneAway reports whether err says the client dropped the connection
// without a closing handshake.
func goneAway(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// errorFrame is the last frame of a stream that failed.
type errorFrame struct {
	Type  string      `json:"type"`
	Error errorDetail `json:"error"`
}

// writeFrame sends one JSON frame, giving up after writeTimeout.
func (s *Server) writeFrame(ctx context.Context, conn *websocket.Conn, f any) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return wsjson.Write(wctx, conn, f)
}

// ping sends a WebSocket ping and waits for the pong: a peer that no
// longer answers ends the socket.
func ping(ctx context.Context, conn *websocket.Conn) error {
	pctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return conn.Ping(pctx)
}

// smallBuffers is the ResponseWriter a WebSocket is accepted on: its
// Hijack gives the WebSocket library buffers of socketReadBuffer and
// socketWriteBuffer bytes instead of net/http's. A handshake the library
// refuses (an Origin not allowed, a malformed request) it would answer in
// plain text: the refusal is kept instead, for refused to answer as every
// other error is, in JSON.
type smallBuffers struct {
	http.ResponseWriter
	status  int
	message bytes.Buffer
}

// WriteHeader keeps a refusal; anything else passes.
func (w *smallBuffers) WriteHeader(code int) {
	if code >= 400 {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write keeps a refusal's text; anything else passes.
func (w *smallBuffers) Write(b []byte) (int, error) {
	if w.status != 0 {
		if w.message.Len() < 1024 {
			w.message.Write(b[:min(len(b), 1024)])
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// refused is the error the handshake was refused with, for the JSON answer
// (nil if the library answered the client itself, which it does only on
// success or a failed hijack).
func (w *smallBuffers) refused() error {
	msg := strings.TrimSpace(w.message.String())
	switch {
	case w.status == 0:
		return nil
	case w.status == http.StatusForbidden:
		return errcode.Localized(errcode.Forbidden, "this page's origin may not open the WebSocket (%s); see allowed_origins",
			"此页面的来源不允许打开 WebSocket（%s）；见 allowed_origins", msg)
	default:
		return errcode.Errorf(errcode.Invalid, "bad WebSocket handshake: %s", msg)
	}
}

// Hijack implements http.Hijacker.
func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, socketReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		// What the client sent after its handshake stays buffered, where
		// the library looks for it.
		b, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn), max(socketReadBuffer, n))
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}
