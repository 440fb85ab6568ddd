package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// BuildSteward compiles the steward binary once per test binary and returns
// its path, for tests that run real processes (and kill them).
var BuildSteward = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "steward-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "steward")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/steward-cs/steward/cmd/steward").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// FreeAddr returns a loopback address with a port free at the moment.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// SyncBuffer is a buffer a process writes while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Questions are customer questions the demo knowledge base answers, in
// both languages, for tests that put a server under load.
var Questions = []string{"运费多少", "how do I return an item", "我的订单到哪了", "can I pay with a credit card",
	"发票怎么开", "I forgot my password", "优惠券怎么用", "where is my refund", "能改收货地址吗", "cancel my order"}
