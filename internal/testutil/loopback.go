package testutil

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// Loopback returns 127.0.0.n, an address of its own for a simulated client:
// Linux routes all of 127.0.0.0/8 to the loopback interface, so the server
// sees a distinct peer address, no header needed. The test is skipped where
// the address cannot be bound (macOS has only 127.0.0.1).
func Loopback(t testing.TB, n byte) net.IP {
	t.Helper()
	ip := net.IPv4(127, 0, 0, n)
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip})
	if err != nil {
		t.Skipf("cannot use %s as a client address: %v", ip, err)
	}
	l.Close()
	return ip
}

// HTTPFrom returns an HTTP client whose connections come from ip (see
// Loopback), keeping up to conns of them alive.
func HTTPFrom(ip net.IP, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
	}}
}
