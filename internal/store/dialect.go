package store

import (
	"strings"
	"sync"
)

// dialect holds the little that differs between SQLite and PostgreSQL beyond
// the DDL: queries are written once with $N placeholders.
type dialect interface {
	name() string
	// rebind turns a query written with $N placeholders into the dialect's form.
	rebind(query string) string
}

// bytewise is what follows a text column in ORDER BY so that both databases
// sort it the same way, by its bytes: SQLite does already, PostgreSQL sorts
// by the database's collation (en_US puts "ship_fee" before "ship-fee"), so
// lists came back in another order there.
func bytewise(d dialect) string {
	if d.name() == "postgres" {
		return ` COLLATE "C"`
	}
	return ""
}

type postgresDialect struct{}

func (postgresDialect) name() string               { return "postgres" }
func (postgresDialect) rebind(query string) string { return query }

// sqliteDialect rewrites $N to ?N, which SQLite binds by explicit index, so a
// query may use its parameters in any order and more than once.
type sqliteDialect struct{ cache sync.Map }

func (*sqliteDialect) name() string { return "sqlite" }

func (d *sqliteDialect) rebind(query string) string {
	if q, ok := d.cache.Load(query); ok {
		return q.(string)
	}
	q := strings.ReplaceAll(query, "$", "?")
	d.cache.Store(query, q)
	return q
}
