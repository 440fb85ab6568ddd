// Package dburl handles PostgreSQL connection URLs where they are shown:
// in logs, errors and reports, a URL never carries its password.
package dburl

import (
	"net/url"
	"strings"
)

// Redact returns a PostgreSQL URL for display: without the user's password,
// and with every password parameter of the query (password=, sslpassword=)
// hidden. An unparseable URL becomes "postgres:(unparseable)", since it may
// hold a password anywhere.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres:(unparseable)"
	}
	return RedactURL(u)
}

// RedactURL is Redact of a parsed URL; u is not changed.
func RedactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	if q := c.Query(); len(q) > 0 {
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
