//go:build !unix

package app

import "os"

// flock is not available here: the data directory is not locked.
func flock(*os.File) error { return nil }
