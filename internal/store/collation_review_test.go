package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/testutil"
)

// icuDatabase creates, next to the fresh database of rawURL, one whose
// default collation is ICU's en-US, as a PostgreSQL set up with a
// language's locale (initdb --locale=..., the usual Docker image) has, and
// returns its URL.
func icuDatabase(t *testing.T, rawURL string) string {
	t.Helper()
	admin, err := sql.Open("pgx", rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	u, _ := url.Parse(rawURL)
	name := strings.TrimPrefix(u.Path, "/") + "_icu"
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`, name)); err != nil {
		t.Skipf("no ICU collation here: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// KBRecords (the console's entry list) is ORDER BY category, id: SQLite
// compares bytes, PostgreSQL the database's collation. The same entries
// come back in another order on a PostgreSQL whose collation is not C.
func TestEntryListOrderIsTheSameOnBothDatabases(t *testing.T) {
	ids := []string{"ship-fee", "ship.time", "ship2", "ship_fee", "shipfee"}
	var orders []string
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			opts := b.Options(t)
			if opts.DatabaseURL != "" {
				opts.DatabaseURL = icuDatabase(t, opts.DatabaseURL)
			}
			db := testutil.OpenStore(t, opts)
			ctx := context.Background()
			kb := knowledge.NewService(db, knowledge.Options{})
			for _, id := range ids {
				e := knowledge.Entry{ID: id, Category: "shipping", Title: id,
					Locales: map[string]knowledge.Content{"en": {Questions: []string{"q " + id}, Answer: "a"}}}
				if _, err := kb.Create(ctx, knowledge.Actor{ID: "u", Name: "U"}, e); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := db.KBRecords(ctx, knowledge.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.ID)
			}
			orders = append(orders, db.Dialect()+": "+strings.Join(got, " "))
		})
	}
	if len(orders) == 2 && strings.SplitN(orders[0], ": ", 2)[1] != strings.SplitN(orders[1], ": ", 2)[1] {
		t.Fatalf("the entry list differs:\n%s\n%s", orders[0], orders[1])
	}
}
