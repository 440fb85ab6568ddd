package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A failure whose error text PostgreSQL's text refuses (invalid UTF-8: an
// SMTP server answering in GBK; a NUL) is recorded all the same. It was
// refused, so the job was never marked failed: it was sent again every
// lease, for ever, a permanent failure included.
func TestAFailureWithUnstorableTextIsRecorded(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var calls atomic.Int32
		gbk := "550 \xd3\xca\xcf\xe4\xb2\xbb\xb4\xe6\xd4\xda\x00" // "邮箱不存在" in GBK, and a NUL
		o := jobs.New(db, jobs.Options{Poll: 10 * time.Millisecond, SendTimeout: 50 * time.Millisecond,
			Lease: 200 * time.Millisecond, Handlers: map[string]jobs.Handler{
				"notify:mail": func(context.Context, jobs.Job) error {
					calls.Add(1)
					return notify.Permanent(errors.New("email via smtp.example.cn:25: RCPT TO <ops@example.cn>: " + gbk))
				}}})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); o.Run(rctx) }()
		defer func() { cancel(); <-done }()
		if err := o.Enqueue(ctx, "notify:mail", "gbk-1", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			all, err := db.Jobs(ctx, jobs.JobFilter{})
			if err != nil || len(all) != 1 {
				t.Fatalf("jobs: %v %v", all, err)
			}
			if j := all[0]; j.Status == jobs.StatusDead {
				if j.Attempts != 1 || j.LastError == "" {
					t.Fatalf("dead after %d attempts with last error %q; want 1 and the error", j.Attempts, j.LastError)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a permanent failure the job is %s with %d attempts, the handler called %d times; want dead",
					all[0].Status, all[0].Attempts, calls.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // past a lease: not sent again
		if n := calls.Load(); n != 1 {
			t.Fatalf("the handler was called %d times, want 1", n)
		}
	})
}
