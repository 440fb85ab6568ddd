// Package fsown keeps a data file's owner when a command run as root
// replaces it: `steward keys rotate`, `keys import` or `restore`, run with
// sudo as operators often do, wrote the key file and the database as
// root's, 0600, and the server (its own user) could no longer read them.
package fsown

// Like gives path the owner and group of like (the file it replaces), or
// of like's directory when like does not exist. It does nothing unless the
// process runs as root: any other user writes files it can read back.
func Like(path, like string) error { return chownLike(path, like) }
