// Command steward runs Steward, self-hosted customer service in Chinese and English.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // desk opening hours name time zones; a bare container may have no zoneinfo

	"github.com/steward-cs/steward/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal drains; a second one is the operator who will
		// not wait, and gets the default action: the process ends at once
		// (safe for the data: a commit is durable before it is answered).
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
