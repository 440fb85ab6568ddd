//go:build !unix

package fsown

func chownLike(string, string) error { return nil }
