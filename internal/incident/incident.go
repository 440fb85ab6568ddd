package incident

import (
	"context"
	"time"
)

// Phases of an incident, as a public status page shows them.
const (
	PhaseInvestigating = "investigating"
	PhaseIdentified    = "identified"
	PhaseMonitoring    = "monitoring"
	PhaseResolved      = "resolved"
)

// Incident is a period of degraded service with its record.
type Incident struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	TitleZH  string `json:"title_zh"`
	Severity string `json:"severity"` // the highest alert level seen: info, warning, critical
	Phase    string `json:"phase"`
	Manual   bool   `json:"manual"`    // declared by an operator
	OpenedBy string `json:"opened_by"` // a user id, or "system"
	// OpenedByName is the name of who opened it, as it was then.
	OpenedByName string `json:"opened_by_name,omitempty"`
	// StartedAt is when the incident began: for one Steward opened, the
	// first bad second its alerts' rules saw (the first failed turn or
	// probe: monitor.Alert.ImpactFrom), or the first alert's start where
	// the rule cannot tell; the declaration for one declared by hand.
	// DetectedAt is when the first alert fired; MitigatedAt when
	// the first mitigating action took effect; ResolvedAt when it ended.
	StartedAt   time.Time `json:"started_at"`
	DetectedAt  time.Time `json:"detected_at,omitzero"`
	MitigatedAt time.Time `json:"mitigated_at,omitzero"`
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
	// Alerts are the fingerprints of the alerts that belong to it.
	Alerts []string `json:"alerts,omitempty"`
	// MaxLevel is the highest posture level it caused.
	MaxLevel   int       `json:"max_level"`
	Postmortem string    `json:"-"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Pending holds actions that wait for a person's approval.
	Pending []Action `json:"pending,omitempty"`
	// AwaitingConfirm: the alerts are over, and the playbook asks a person
	// to confirm the recovery.
	AwaitingConfirm bool `json:"awaiting_confirm,omitempty"`
}

// Open reports whether the incident is not resolved.
func (i *Incident) Open() bool { return i.Phase != PhaseResolved }

// Event kinds on a timeline.
const (
	EventOpened        = "opened"
	EventAlert         = "alert"
	EventAlertResolved = "alert_resolved"
	EventPosture       = "posture"
	EventAction        = "action"
	EventNotification  = "notification"
	EventNote          = "note"
	EventPhase         = "phase"
	EventResolved      = "resolved"
)

// Event is one line of an incident's timeline.
type Event struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Actor string    `json:"actor,omitempty"`
	// ActorName is the actor's name when the event happened.
	ActorName string         `json:"actor_name,omitempty"`
	Text      string         `json:"text"`
	TextZH    string         `json:"text_zh,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// Store keeps incidents, timelines, the posture and the notice texts.
type Store interface {
	SavePosture(ctx context.Context, p Posture) error
	LoadPosture(ctx context.Context) (Posture, error)
	CreateIncident(ctx context.Context, i *Incident) error
	UpdateIncident(ctx context.Context, i *Incident) error
	Incident(ctx context.Context, id string) (*Incident, error)
	Incidents(ctx context.Context, limit int) ([]Incident, error)
	AppendEvent(ctx context.Context, incidentID string, e *Event) error
	Events(ctx context.Context, incidentID string) ([]Event, error)
	NoticeTexts(ctx context.Context) (map[int]Notice, error)
	SaveNoticeText(ctx context.Context, level int, n Notice, by string) error
	// ConversationsActive counts conversations with a customer message in [from, to).
	ConversationsActive(ctx context.Context, from, to time.Time) (int, error)
}
