//go:build !unix

package guard

import "os"

// lockFile is not available here: concurrent changes of the key file are
// not serialised.
func lockFile(*os.File) error { return nil }
