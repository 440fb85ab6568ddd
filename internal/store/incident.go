package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
)

var (
	_ incident.Store      = (*DB)(nil)
	_ monitor.RollupStore = (*DB)(nil)
)

// SavePosture stores the service posture.
func (db *DB) SavePosture(ctx context.Context, p incident.Posture) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("save posture: %w", err)
	}
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `UPDATE posture SET data = $1, updated_at = $2 WHERE id = 1`, string(data), millis(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("save posture: %w", err)
	}
	return nil
}

// LoadPosture returns the stored posture.
func (db *DB) LoadPosture(ctx context.Context) (incident.Posture, error) {
	var data string
	var p incident.Posture
	if err := db.queryRowContext(ctx, `SELECT data FROM posture WHERE id = 1`).Scan(&data); err != nil {
		return p, fmt.Errorf("load posture: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return p, fmt.Errorf("decode posture: %w", err)
	}
	return p, nil
}

// incidentData is the part of an incident kept as JSON.
type incidentData struct {
	TitleZH         string            `json:"title_zh,omitempty"`
	OpenedByName    string            `json:"opened_by_name,omitempty"`
	Alerts          []string          `json:"alerts,omitempty"`
	MaxLevel        int               `json:"max_level,omitempty"`
	Pending         []incident.Action `json:"pending,omitempty"`
	AwaitingConfirm bool              `json:"awaiting_confirm,omitempty"`
}

func incidentArgs(i *incident.Incident) (string, error) {
	b, err := json.Marshal(incidentData{TitleZH: i.TitleZH, OpenedByName: i.OpenedByName, Alerts: i.Alerts, MaxLevel: i.MaxLevel, Pending: i.Pending,
		AwaitingConfirm: i.AwaitingConfirm})
	return string(b), err
}

// CreateIncident stores a new incident.
func (db *DB) CreateIncident(ctx context.Context, i *incident.Incident) error {
	data, err := incidentArgs(i)
	if err != nil {
		return fmt.Errorf("create incident %s: %w", i.ID, err)
	}
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO incidents (id, title, severity, phase, manual, opened_by, started_at, detected_at,
			mitigated_at, resolved_at, data, postmortem, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			i.ID, i.Title, i.Severity, i.Phase, i.Manual, i.OpenedBy, millis(i.StartedAt), optMillis(i.DetectedAt),
			optMillis(i.MitigatedAt), optMillis(i.ResolvedAt), data, i.Postmortem, millis(i.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create incident %s: %w", i.ID, err)
	}
	return nil
}

// UpdateIncident stores an incident's new state.
func (db *DB) UpdateIncident(ctx context.Context, i *incident.Incident) error {
	data, err := incidentArgs(i)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", i.ID, err)
	}
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `UPDATE incidents SET title = $2, severity = $3, phase = $4, manual = $5, started_at = $6,
			detected_at = $7, mitigated_at = $8, resolved_at = $9, data = $10, postmortem = $11, updated_at = $12 WHERE id = $1`,
			i.ID, i.Title, i.Severity, i.Phase, i.Manual, millis(i.StartedAt), optMillis(i.DetectedAt), optMillis(i.MitigatedAt),
			optMillis(i.ResolvedAt), data, i.Postmortem, millis(i.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("update incident %s: %w", i.ID, err)
	}
	return nil
}

const incidentColumns = `id, title, severity, phase, manual, opened_by, started_at, detected_at, mitigated_at, resolved_at,
	data, postmortem, updated_at`

func scanIncident(sc interface{ Scan(...any) error }) (*incident.Incident, error) {
	var (
		i                                                 incident.Incident
		started, detected, mitigated, resolved, updatedAt int64
		data                                              string
	)
	if err := sc.Scan(&i.ID, &i.Title, &i.Severity, &i.Phase, &i.Manual, &i.OpenedBy, &started, &detected, &mitigated,
		&resolved, &data, &i.Postmortem, &updatedAt); err != nil {
		return nil, err
	}
	var d incidentData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", i.ID, err)
	}
	i.TitleZH, i.Alerts, i.MaxLevel, i.Pending, i.AwaitingConfirm = d.TitleZH, d.Alerts, d.MaxLevel, d.Pending, d.AwaitingConfirm
	i.OpenedByName = d.OpenedByName
	i.StartedAt, i.UpdatedAt = fromMillis(started), fromMillis(updatedAt)
	i.DetectedAt, i.MitigatedAt, i.ResolvedAt = optTime(detected), optTime(mitigated), optTime(resolved)
	return &i, nil
}

// Incident returns one incident.
func (db *DB) Incident(ctx context.Context, id string) (*incident.Incident, error) {
	i, err := scanIncident(db.queryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "no incident %s", "没有事件 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read incident %s: %w", id, err)
	}
	return i, nil
}

// Incidents returns the latest incidents, newest first.
func (db *DB) Incidents(ctx context.Context, limit int) ([]incident.Incident, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := db.queryContext(ctx, `SELECT `+incidentColumns+` FROM incidents ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []incident.Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, *i)
	}
	return out, rows.Err()
}

// AppendEvent adds a line to an incident's timeline and sets its Seq.
func (db *DB) AppendEvent(ctx context.Context, incidentID string, e *incident.Event) error {
	data, err := json.Marshal(map[string]any{"text_zh": e.TextZH, "actor_name": e.ActorName, "data": e.Data})
	if err != nil {
		return fmt.Errorf("append incident event: %w", err)
	}
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		// Lock the incident's row first: another node appending at once
		// then waits, and reads the seq after its commit instead of the
		// same one (a duplicate key). SQLite has one writer anyway.
		if _, err := t.exec(ctx, `UPDATE incidents SET id = id WHERE id = $1`, incidentID); err != nil {
			return err
		}
		if err := t.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_events WHERE incident_id = $1`,
			incidentID).Scan(&e.Seq); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO incident_events (incident_id, seq, at, kind, actor, text, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, incidentID, e.Seq, millis(e.At), e.Kind, e.Actor, e.Text, string(data))
		return err
	})
	if err != nil {
		return fmt.Errorf("append event to incident %s: %w", incidentID, err)
	}
	return nil
}

// Events returns an incident's timeline in order.
func (db *DB) Events(ctx context.Context, incidentID string) ([]incident.Event, error) {
	rows, err := db.queryContext(ctx, `SELECT seq, at, kind, actor, text, data FROM incident_events
		WHERE incident_id = $1 ORDER BY seq`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("read timeline of incident %s: %w", incidentID, err)
	}
	defer rows.Close()
	var out []incident.Event
	for rows.Next() {
		var (
			e    incident.Event
			at   int64
			data string
		)
		if err := rows.Scan(&e.Seq, &at, &e.Kind, &e.Actor, &e.Text, &data); err != nil {
			return nil, fmt.Errorf("read timeline of incident %s: %w", incidentID, err)
		}
		var extra struct {
			TextZH    string         `json:"text_zh"`
			ActorName string         `json:"actor_name"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(data), &extra); err != nil {
			return nil, fmt.Errorf("decode event %d of incident %s: %w", e.Seq, incidentID, err)
		}
		e.At, e.TextZH, e.ActorName, e.Data = fromMillis(at), extra.TextZH, extra.ActorName, extra.Data
		out = append(out, e)
	}
	return out, rows.Err()
}

// NoticeTexts returns the edited notice texts by level.
func (db *DB) NoticeTexts(ctx context.Context) (map[int]incident.Notice, error) {
	rows, err := db.queryContext(ctx, `SELECT level, zh, en FROM notice_texts`)
	if err != nil {
		return nil, fmt.Errorf("read notice texts: %w", err)
	}
	defer rows.Close()
	out := map[int]incident.Notice{}
	for rows.Next() {
		var level int
		var n incident.Notice
		if err := rows.Scan(&level, &n.ZH, &n.EN); err != nil {
			return nil, fmt.Errorf("read notice texts: %w", err)
		}
		out[level] = n
	}
	return out, rows.Err()
}

// SaveNoticeText stores the notice text of a level.
func (db *DB) SaveNoticeText(ctx context.Context, level int, n incident.Notice, by string) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO notice_texts (level, zh, en, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (level) DO UPDATE SET zh = excluded.zh, en = excluded.en, updated_by = excluded.updated_by,
				updated_at = excluded.updated_at`, level, n.ZH, n.EN, by, millis(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("save notice text of level %d: %w", level, err)
	}
	return nil
}

// ConversationsActive counts conversations with a customer message in [from, to).
func (db *DB) ConversationsActive(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := db.queryRowContext(ctx, `SELECT COUNT(DISTINCT conversation_id) FROM messages
		WHERE role = 'customer' AND created_at >= $1 AND created_at < $2`, millis(from), millis(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count active conversations: %w", err)
	}
	return n, nil
}

// SaveRollups upserts per-minute signal rollups.
func (db *DB) SaveRollups(ctx context.Context, rollups []monitor.Rollup) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		for _, r := range rollups {
			data, err := json.Marshal(r.Counts)
			if err != nil {
				return err
			}
			if _, err := t.exec(ctx, `INSERT INTO metric_rollups (minute, node, data) VALUES ($1, $2, $3)
				ON CONFLICT (minute, node) DO UPDATE SET data = excluded.data`, r.Minute.Unix()/60, r.Node, string(data)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %d rollups: %w", len(rollups), err)
	}
	return nil
}

// secondsKept is how long a node's shared seconds stay in the table:
// longer than the monitor's one-second windows reach back.
const secondsKept = 20 * time.Minute

// SaveSeconds upserts node's per-second counts and forgets its seconds
// older than secondsKept, and any node's older than twice that: a node
// that is gone (a pod replaced in a rollout, under a name never used
// again) forgets nothing itself.
func (db *DB) SaveSeconds(ctx context.Context, node string, seconds []monitor.Sample) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		for _, s := range seconds {
			data, err := json.Marshal(s.Counts)
			if err != nil {
				return err
			}
			if _, err := t.exec(ctx, `INSERT INTO metric_seconds (second, node, data) VALUES ($1, $2, $3)
				ON CONFLICT (second, node) DO UPDATE SET data = excluded.data`, s.At.Unix(), node, string(data)); err != nil {
				return err
			}
		}
		now := time.Now()
		_, err := t.exec(ctx, `DELETE FROM metric_seconds WHERE second < $1 AND (node = $2 OR second < $3)`,
			now.Add(-secondsKept).Unix(), node, now.Add(-2*secondsKept).Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("share %d seconds of signals: %w", len(seconds), err)
	}
	return nil
}

// PeerSeconds returns the per-second counts of the nodes other than node
// for the seconds after after, by second.
func (db *DB) PeerSeconds(ctx context.Context, node string, after time.Time) ([]monitor.Sample, error) {
	rows, err := db.queryContext(ctx, `SELECT second, node, data FROM metric_seconds WHERE second > $1 AND node <> $2
		ORDER BY second, node`, after.Unix(), node)
	if err != nil {
		return nil, fmt.Errorf("read other nodes' signals: %w", err)
	}
	defer rows.Close()
	var out []monitor.Sample
	for rows.Next() {
		var (
			s      monitor.Sample
			second int64
			data   string
		)
		if err := rows.Scan(&second, &s.Node, &data); err != nil {
			return nil, fmt.Errorf("read other nodes' signals: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &s.Counts); err != nil {
			return nil, fmt.Errorf("decode %s's signals of second %d: %w", s.Node, second, err)
		}
		s.At = time.Unix(second, 0).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// Rollups returns the rollups of the minutes in [from, to), by minute.
func (db *DB) Rollups(ctx context.Context, from, to time.Time) ([]monitor.Rollup, error) {
	rows, err := db.queryContext(ctx, `SELECT minute, node, data FROM metric_rollups WHERE minute >= $1 AND minute < $2
		ORDER BY minute, node`, from.Unix()/60, (to.Unix()+59)/60)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	defer rows.Close()
	var out []monitor.Rollup
	for rows.Next() {
		var (
			r      monitor.Rollup
			minute int64
			data   string
		)
		if err := rows.Scan(&minute, &r.Node, &data); err != nil {
			return nil, fmt.Errorf("read rollups: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &r.Counts); err != nil {
			return nil, fmt.Errorf("decode rollup of minute %d: %w", minute, err)
		}
		r.Minute = time.Unix(minute*60, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
