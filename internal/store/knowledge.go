package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/knowledge"
)

var _ knowledge.Store = (*DB)(nil)

const recordColumns = `id, category, title, tags, essential, content, status, version, approved_version, author,
	author_name, reviewer, reason, created_at, updated_at`

func scanRecord(sc interface{ Scan(...any) error }) (*knowledge.Record, error) {
	var (
		r                knowledge.Record
		tags, content    string
		created, updated int64
	)
	if err := sc.Scan(&r.ID, &r.Category, &r.Title, &tags, &r.Essential, &content, &r.Status, &r.Version,
		&r.ApprovedVersion, &r.Author, &r.AuthorName, &r.Reviewer, &r.Reason, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return nil, fmt.Errorf("decode tags of entry %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(content), &r.Locales); err != nil {
		return nil, fmt.Errorf("decode content of entry %s: %w", r.ID, err)
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &r, nil
}

// KBRecords lists entries, ordered by category then id.
func (db *DB) KBRecords(ctx context.Context, f knowledge.Filter) ([]knowledge.Record, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	switch {
	case f.Status != "":
		where = append(where, "status = "+arg(string(f.Status)))
	case !f.All:
		where = append(where, "status <> 'retired'")
	}
	if f.Category != "" {
		where = append(where, "category = "+arg(f.Category))
	}
	if f.Query != "" {
		where = append(where, `search LIKE `+arg("%"+likeEscape(knowledge.FoldQuery(f.Query))+"%")+` ESCAPE '\'`)
	}
	q := `SELECT ` + recordColumns + ` FROM kb_entries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.queryContext(ctx, q+` ORDER BY category`+bytewise(db.d)+`, id`+bytewise(db.d), args...)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	defer rows.Close()
	var out []knowledge.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("list entries: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	return out, nil
}

// fillKBSearch folds the search text of the entries stored before the
// search column (migration 10).
func fillKBSearch(ctx context.Context, t tx) error {
	type row struct{ id, search string }
	var fill []row
	rows, err := t.sqlTx.QueryContext(ctx, `SELECT id, title, content FROM kb_entries`)
	if err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	for rows.Next() {
		var (
			e       knowledge.Entry
			content string
		)
		if err := rows.Scan(&e.ID, &e.Title, &content); err != nil {
			rows.Close()
			return fmt.Errorf("read entries: %w", err)
		}
		if err := json.Unmarshal([]byte(content), &e.Locales); err != nil {
			rows.Close()
			return fmt.Errorf("decode content of entry %s: %w", e.ID, err)
		}
		fill = append(fill, row{e.ID, e.SearchText()})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	for _, r := range fill {
		if _, err := t.exec(ctx, `UPDATE kb_entries SET search = $1 WHERE id = $2`, r.search, r.id); err != nil {
			return fmt.Errorf("fill search of entry %s: %w", r.id, err)
		}
	}
	return nil
}

// KBRecord returns one entry.
func (db *DB) KBRecord(ctx context.Context, id string) (*knowledge.Record, error) {
	r, err := scanRecord(db.queryRowContext(ctx, `SELECT `+recordColumns+` FROM kb_entries WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "no knowledge-base entry %q", "没有知识库条目 %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get entry %s: %w", id, err)
	}
	return r, nil
}

func entryJSON(e *knowledge.Entry) (tags, content string, err error) {
	t, err := json.Marshal(nonNil(e.Tags))
	if err != nil {
		return "", "", err
	}
	c, err := json.Marshal(e.Locales)
	if err != nil {
		return "", "", err
	}
	return string(t), string(c), nil
}

// CreateKBRecord inserts a new entry with its first revision.
func (db *DB) CreateKBRecord(ctx context.Context, r *knowledge.Record, rev *knowledge.Revision) error {
	return db.WriteKBRecords(ctx, []knowledge.RecordWrite{{Record: r, Revision: rev}})
}

// UpdateKBRecord stores r if the stored entry is still at fromVersion and
// fromStatus, and appends rev.
func (db *DB) UpdateKBRecord(ctx context.Context, r *knowledge.Record, fromVersion int, fromStatus knowledge.Status,
	rev *knowledge.Revision) error {
	return db.WriteKBRecords(ctx, []knowledge.RecordWrite{{Record: r, Revision: rev, FromVersion: fromVersion,
		FromStatus: fromStatus}})
}

// WriteKBRecords makes every write of ws in one transaction: all of them
// or, if one fails (an id taken, an entry changed since it was read),
// none.
func (db *DB) WriteKBRecords(ctx context.Context, ws []knowledge.RecordWrite) error {
	rows, err := recordRows(ws)
	if err != nil {
		return err
	}
	var failed *knowledge.RecordWrite
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		if err := lockKnowledge(ctx, t); err != nil {
			return err
		}
		failed, err = writeRecords(ctx, t, ws, rows)
		return err
	})
	return recordWriteError(len(ws), failed, err)
}

// recordRow is a record's JSON columns.
type recordRow struct{ tags, content string }

func recordRows(ws []knowledge.RecordWrite) ([]recordRow, error) {
	rows := make([]recordRow, len(ws))
	for i, w := range ws {
		var err error
		if rows[i].tags, rows[i].content, err = entryJSON(&w.Record.Entry); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// writeRecords makes the writes in t; on failure it returns the write that
// failed (nil if none was to blame).
func writeRecords(ctx context.Context, t tx, ws []knowledge.RecordWrite, rows []recordRow) (*knowledge.RecordWrite, error) {
	for i := range ws {
		w, r := &ws[i], ws[i].Record
		if w.FromVersion == 0 {
			if _, err := t.exec(ctx, `INSERT INTO kb_entries (`+recordColumns+`, search)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
				r.ID, r.Category, r.Title, rows[i].tags, r.Essential, rows[i].content, string(r.Status), r.Version,
				r.ApprovedVersion, r.Author, r.AuthorName, r.Reviewer, r.Reason, millis(r.CreatedAt),
				millis(r.UpdatedAt), r.Entry.SearchText()); err != nil {
				return w, err
			}
		} else {
			res, err := t.exec(ctx, `UPDATE kb_entries SET category = $2, title = $3, tags = $4, essential = $5,
				content = $6, status = $7, version = $8, approved_version = $9, author = $10, author_name = $11,
				reviewer = $12, reason = $13, updated_at = $14, search = $17
				WHERE id = $1 AND version = $15 AND status = $16`,
				r.ID, r.Category, r.Title, rows[i].tags, r.Essential, rows[i].content, string(r.Status), r.Version,
				r.ApprovedVersion, r.Author, r.AuthorName, r.Reviewer, r.Reason, millis(r.UpdatedAt),
				w.FromVersion, string(w.FromStatus), r.Entry.SearchText())
			if err != nil {
				return w, err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return w, knowledge.ErrEntryChanged
			}
		}
		if err := insertRevision(ctx, t, w.Revision); err != nil {
			return w, err
		}
	}
	return nil, nil
}

// recordWriteError says which of n record writes failed and why.
func recordWriteError(n int, failed *knowledge.RecordWrite, err error) error {
	switch {
	case err == nil:
		return nil
	case failed == nil:
		return fmt.Errorf("write %d entries: %w", n, err)
	case failed.FromVersion == 0 && isUniqueViolation(err):
		return errcode.Localized(errcode.Conflict, "an entry with id %q already exists", "已有 id 为 %q 的条目", failed.Record.ID)
	case errors.Is(err, knowledge.ErrEntryChanged):
		return fmt.Errorf("%w: %w", knowledge.ErrEntryChanged, errcode.Localized(errcode.Conflict,
			"entry %s changed while you were working on it: reload it and try again",
			"条目 %s 在您编辑期间已被修改：请重新加载后再试", failed.Record.ID))
	case failed.FromVersion == 0:
		return fmt.Errorf("create entry %s: %w", failed.Record.ID, err)
	default:
		return fmt.Errorf("update entry %s: %w", failed.Record.ID, err)
	}
}

func insertRevision(ctx context.Context, t tx, rev *knowledge.Revision) error {
	changes, _ := json.Marshal(nonNil(rev.Changes))
	var (
		has             bool
		category, title string
		tags, content   = "[]", "{}"
		essential       bool
		err             error
	)
	if e := rev.Content; e != nil {
		has, category, title, essential = true, e.Category, e.Title, e.Essential
		if tags, content, err = entryJSON(e); err != nil {
			return err
		}
	}
	_, err = t.exec(ctx, `INSERT INTO kb_revisions (entry_id, seq, version, action, status, actor, actor_name, reason,
		changes, has_content, category, title, tags, essential, content, created_at)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM kb_revisions WHERE entry_id = $1), $2, $3, $4, $5, $6, $7,
		$8, $9, $10, $11, $12, $13, $14, $15)`,
		rev.EntryID, rev.Version, string(rev.Action), string(rev.Status), rev.Actor, rev.ActorName, rev.Reason,
		string(changes), has, category, title, tags, essential, content, millis(rev.At))
	return err
}

// KBHistory returns an entry's revisions, oldest first.
func (db *DB) KBHistory(ctx context.Context, id string) ([]knowledge.Revision, error) {
	rows, err := db.queryContext(ctx, `SELECT version, action, status, actor, actor_name, reason, changes, has_content,
		category, title, tags, essential, content, created_at FROM kb_revisions WHERE entry_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	defer rows.Close()
	var out []knowledge.Revision
	for rows.Next() {
		var (
			rev                    = knowledge.Revision{EntryID: id}
			changes, tags, content string
			has                    bool
			e                      knowledge.Entry
			at                     int64
		)
		if err := rows.Scan(&rev.Version, &rev.Action, &rev.Status, &rev.Actor, &rev.ActorName, &rev.Reason, &changes,
			&has, &e.Category, &e.Title, &tags, &e.Essential, &content, &at); err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		rev.At = fromMillis(at)
		if err := json.Unmarshal([]byte(changes), &rev.Changes); err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		if has {
			e.ID = id
			if err := decodeEntry(&e, tags, content); err != nil {
				return nil, err
			}
			rev.Content = &e
		}
		out = append(out, rev)
	}
	return out, rows.Err()
}

func decodeEntry(e *knowledge.Entry, tags, content string) error {
	if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil {
		return fmt.Errorf("decode tags of entry %s: %w", e.ID, err)
	}
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	if err := json.Unmarshal([]byte(content), &e.Locales); err != nil {
		return fmt.Errorf("decode content of entry %s: %w", e.ID, err)
	}
	return nil
}

// KBContent returns an entry's content at a version.
func (db *DB) KBContent(ctx context.Context, id string, version int) (*knowledge.Entry, error) {
	var (
		e             = knowledge.Entry{ID: id}
		tags, content string
		at            int64
	)
	err := db.queryRowContext(ctx, `SELECT category, title, tags, essential, content, created_at FROM kb_revisions
		WHERE entry_id = $1 AND version = $2 AND has_content ORDER BY seq DESC LIMIT 1`, id, version).
		Scan(&e.Category, &e.Title, &tags, &e.Essential, &content, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "entry %s has no version %d", "条目 %s 没有第 %d 版", id, version)
	}
	if err != nil {
		return nil, fmt.Errorf("entry %s version %d: %w", id, version, err)
	}
	e.UpdatedAt = fromMillis(at)
	return &e, decodeEntry(&e, tags, content)
}

// CreateRelease stores a release and its models and marks the entries it
// publishes.
func (db *DB) CreateRelease(ctx context.Context, r *knowledge.Release, model, minimalModel []byte, active int64) error {
	versions, _ := json.Marshal(r.Versions)
	quality, err := json.Marshal(r.Quality)
	if err != nil {
		return err
	}
	override := ""
	if r.Override != nil {
		b, _ := json.Marshal(r.Override)
		override = string(b)
	}
	content, err := json.Marshal(r.Content)
	if err != nil {
		return err
	}
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		// First, so that the check for retired entries below sees every
		// retire that committed before it and none can commit during it.
		if err := lockKnowledge(ctx, t); err != nil {
			return err
		}
		if err := t.queryRow(ctx, `INSERT INTO kb_releases (created_at, author, author_name, note, entries, minimal_entries,
			versions, quality, override, model_sha256, model_bytes, content)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			millis(r.CreatedAt), r.Author, r.AuthorName, r.Note, r.Entries, r.Minimal, string(versions), string(quality),
			override, r.ModelSHA256, r.ModelBytes, string(content)).Scan(&r.ID); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO kb_release_models (release_id, minimal, data) VALUES ($1, $2, $3)`,
			r.ID, false, model); err != nil {
			return err
		}
		if minimalModel != nil {
			if _, err := t.exec(ctx, `INSERT INTO kb_release_models (release_id, minimal, data) VALUES ($1, $2, $3)`,
				r.ID, true, minimalModel); err != nil {
				return err
			}
		}
		// An entry retired while the release was built stays out of it:
		// the console would call it retired while the bot answered with it.
		if err := noneRetired(ctx, t, r.Versions); err != nil {
			return err
		}
		for id, v := range r.Versions {
			if _, err := t.exec(ctx, `UPDATE kb_entries SET status = 'published'
				WHERE id = $1 AND version = $2 AND status = 'approved'`, id, v); err != nil {
				return err
			}
		}
		return activateRelease(ctx, t, r.ID, r.CreatedAt, 0, "", active)
	})
	if err != nil {
		return fmt.Errorf("create release: %w", err)
	}
	return nil
}

// lockKnowledge serialises, on PostgreSQL, the transactions that change
// entries or releases: read committed let a publish on one node check for
// retired entries before another node's retire committed, then activate
// the release with the retired entry in it (its UPDATE to 'published'
// waited for the row, matched nothing, and was not an error). SQLite has
// one writer already.
func lockKnowledge(ctx context.Context, t tx) error {
	if t.d.name() != "postgres" {
		return nil
	}
	if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceKnowledge, 0); err != nil {
		return fmt.Errorf("lock the knowledge base: %w", err)
	}
	return nil
}

// noneRetired refuses a release of versions if one of their entries is
// retired now.
func noneRetired(ctx context.Context, t tx, versions map[string]int) error {
	rows, err := t.query(ctx, `SELECT id FROM kb_entries WHERE status = 'retired'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if _, ok := versions[id]; ok {
			return errcode.Localized(errcode.Conflict,
				"entry %s was retired while the release was being built; publish again to leave it out",
				"条目 %s 在构建本次发布期间已下线：请重新发布，以便将其排除", id)
		}
	}
	return rows.Err()
}

// errActiveMoved refuses to activate a release over an active release the
// caller did not see: another publish or a rollback (another node, a
// command, the incident controller) came first.
func errActiveMoved(now int64) error {
	return errcode.Localized(errcode.Conflict,
		"the active knowledge release changed meanwhile (it is now %d: another publish or a rollback came first); look at the releases and try again",
		"知识库当前版本已被更改（现为 %d，其他发布或回滚在先）：请查看版本列表后重试", now)
}

// activateRelease makes id active in t if active is still the active
// release, marking rolledBack (if not 0) as rolled back, and every release
// between id and it.
func activateRelease(ctx context.Context, t tx, id int64, at time.Time, rolledBack int64, reason string, active int64) error {
	res, err := t.exec(ctx, `UPDATE kb_releases SET activated_at = CASE WHEN activated_at = 0 THEN $2 ELSE activated_at END,
		rolled_back_at = 0, rollback_reason = '' WHERE id = $1`, id, millis(at))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errcode.Localized(errcode.NotFound, "no release %d", "没有发布 %d", id)
	}
	if rolledBack != 0 {
		// The releases between the one left and id were rolled back past:
		// they are no better than the one left, and a later rollback
		// without a target must not land on one of them.
		if _, err := t.exec(ctx, `UPDATE kb_releases SET rolled_back_at = $2, rollback_reason = $3
			WHERE id <= $1 AND id > $4 AND (id = $1 OR rolled_back_at = 0)`,
			rolledBack, millis(at), reason, id); err != nil {
			return err
		}
	}
	res, err = t.exec(ctx, `UPDATE kb_state SET active_release = $1, activated_at = $2 WHERE id = 1 AND active_release = $3`,
		id, millis(at), active)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var now int64
		if err := t.queryRow(ctx, `SELECT active_release FROM kb_state WHERE id = 1`).Scan(&now); err != nil {
			return err
		}
		return errActiveMoved(now)
	}
	return nil
}

const releaseColumns = `id, created_at, author, author_name, note, entries, minimal_entries, versions, quality, override,
	model_sha256, model_bytes, activated_at, rolled_back_at, rollback_reason`

func scanRelease(sc interface{ Scan(...any) error }, extra ...any) (*knowledge.Release, error) {
	var (
		r                              knowledge.Release
		versions, quality, override    string
		created, activated, rolledBack int64
	)
	dest := append([]any{&r.ID, &created, &r.Author, &r.AuthorName, &r.Note, &r.Entries, &r.Minimal, &versions, &quality,
		&override, &r.ModelSHA256, &r.ModelBytes, &activated, &rolledBack, &r.RollbackReason}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMillis(created)
	if activated != 0 {
		t := fromMillis(activated)
		r.ActivatedAt = &t
	}
	if rolledBack != 0 {
		t := fromMillis(rolledBack)
		r.RolledBackAt = &t
	}
	if err := json.Unmarshal([]byte(versions), &r.Versions); err != nil {
		return nil, fmt.Errorf("decode release %d: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(quality), &r.Quality); err != nil {
		return nil, fmt.Errorf("decode release %d: %w", r.ID, err)
	}
	if override != "" {
		r.Override = &knowledge.Override{}
		if err := json.Unmarshal([]byte(override), r.Override); err != nil {
			return nil, fmt.Errorf("decode release %d: %w", r.ID, err)
		}
	}
	return &r, nil
}

// Releases lists every release without its content.
func (db *DB) Releases(ctx context.Context) ([]knowledge.Release, error) {
	rows, err := db.queryContext(ctx, `SELECT `+releaseColumns+` FROM kb_releases ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []knowledge.Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Release returns one release with its entries.
func (db *DB) Release(ctx context.Context, id int64) (*knowledge.Release, error) {
	var content string
	r, err := scanRelease(db.queryRowContext(ctx, `SELECT `+releaseColumns+`, content FROM kb_releases WHERE id = $1`, id),
		&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "no release %d", "没有发布 %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get release %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(content), &r.Content); err != nil {
		return nil, fmt.Errorf("decode release %d: %w", id, err)
	}
	return r, nil
}

// ReleaseModel returns a release's model artefact (or its minimal one).
func (db *DB) ReleaseModel(ctx context.Context, id int64, minimal bool) ([]byte, error) {
	var data []byte
	err := db.queryRowContext(ctx, `SELECT data FROM kb_release_models WHERE release_id = $1 AND minimal = $2`,
		id, minimal).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Errorf(errcode.NotFound, "release %d has no stored model", id)
	}
	if err != nil {
		return nil, fmt.Errorf("model of release %d: %w", id, err)
	}
	return data, nil
}

// ActiveRelease returns the active release id, 0 if none.
func (db *DB) ActiveRelease(ctx context.Context) (int64, error) {
	var id int64
	if err := db.queryRowContext(ctx, `SELECT active_release FROM kb_state WHERE id = 1`).Scan(&id); err != nil {
		return 0, fmt.Errorf("active release: %w", err)
	}
	return id, nil
}

// ActivateRelease makes id active if active is still the active release
// (errcode.Conflict otherwise), marking rolledBack (if not 0) as rolled
// back.
func (db *DB) ActivateRelease(ctx context.Context, id int64, at time.Time, rolledBack int64, reason string, active int64,
	writes []knowledge.RecordWrite) error {
	rows, err := recordRows(writes)
	if err != nil {
		return err
	}
	var failed *knowledge.RecordWrite
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		failed = nil
		if err := lockKnowledge(ctx, t); err != nil {
			return err
		}
		if err := activateRelease(ctx, t, id, at, rolledBack, reason, active); err != nil {
			return err
		}
		failed, err = writeRecords(ctx, t, writes, rows)
		return err
	})
	if failed != nil {
		err = recordWriteError(len(writes), failed, err)
	}
	if err != nil {
		return fmt.Errorf("activate release %d: %w", id, err)
	}
	return nil
}

// GoldenQuestions lists the pinned questions, oldest first.
func (db *DB) GoldenQuestions(ctx context.Context) ([]knowledge.Golden, error) {
	rows, err := db.queryContext(ctx, `SELECT id, question, locale, entry_id, created_by, created_at FROM kb_golden
		ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list golden questions: %w", err)
	}
	defer rows.Close()
	out := []knowledge.Golden{}
	for rows.Next() {
		var (
			g  knowledge.Golden
			at int64
		)
		if err := rows.Scan(&g.ID, &g.Question, &g.Locale, &g.EntryID, &g.CreatedBy, &at); err != nil {
			return nil, fmt.Errorf("list golden questions: %w", err)
		}
		g.CreatedAt = fromMillis(at)
		out = append(out, g)
	}
	return out, rows.Err()
}

// AddGolden stores a golden question.
func (db *DB) AddGolden(ctx context.Context, g *knowledge.Golden) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO kb_golden (id, question, locale, entry_id, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, g.ID, g.Question, g.Locale, g.EntryID, g.CreatedBy, millis(g.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("add golden question: %w", err)
	}
	return nil
}

// DeleteGolden removes a golden question.
func (db *DB) DeleteGolden(ctx context.Context, id string) error {
	var n int64
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `DELETE FROM kb_golden WHERE id = $1`, id)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete golden question %s: %w", id, err)
	}
	if n == 0 {
		return errcode.Localized(errcode.NotFound, "no golden question %q", "没有黄金问题 %q", id)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
