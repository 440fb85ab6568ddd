package httpapi

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/quality"
)

// openapiShapes pairs schemas of /api/openapi.json with the Go types whose
// JSON they describe: the schema's properties must be exactly the types'
// JSON field names, so that renaming, adding or dropping a field in Go
// fails until the document follows. A frame schema lists the fields of
// every struct the stream sends as that frame.
var openapiShapes = []struct {
	schema string
	types  []any
}{
	// The customer surface.
	{"CreateConversationRequest", []any{createRequest{}}},
	{"Customer", []any{conversation.Customer{}}},
	{"Conversation", []any{conversationJSON{}}},
	{"PostMessageRequest", []any{postMessageRequest{}}},
	{"Turn", []any{turnJSON{}}},
	{"Message", []any{messageJSON{}}},
	{"RatingRequest", []any{ratingRequest{}}},
	{"Rating", []any{ratingJSON{}}},
	{"OfflineMessageRequest", []any{offlineRequest{}}},
	{"Ticket", []any{ticketJSON{}}},
	{"FlagRequest", []any{flagRequest{}}},
	{"StreamClientFrame", []any{clientFrame{}}},
	{"StreamServerFrame", []any{serverFrame{}, errorFrame{}}},
	{"ErrorDetail", []any{errorDetail{}}},
	{"Error", []any{errorBody{}}},

	// Signing in, users, the desk.
	{"LoginRequest", []any{loginRequest{}}},
	{"LoginResponse", []any{loginResponse{}}},
	{"User", []any{userJSON{}}},
	{"CreateUserRequest", []any{createUserRequest{}}},
	{"DisableRequest", []any{disableRequest{}}},
	{"RoleRequest", []any{roleRequest{}}},
	{"CreateAPIKeyRequest", []any{createAPIKeyRequest{}}},
	{"APIKey", []any{apiKeyJSON{}}},
	{"DeskItem", []any{itemJSON{}}},
	{"DeskMessage", []any{deskMessageJSON{}}},
	{"Note", []any{noteJSON{}}},
	{"Summary", []any{summaryJSON{}}},
	{"Suggestion", []any{suggestionJSON{}}},
	{"AssignRequest", []any{assignRequest{}}},
	{"TextRequest", []any{textRequest{}}},
	{"CloseRequest", []any{closeRequest{}}},
	{"RevealRequest", []any{revealRequest{}}},
	{"Presence", []any{statusJSON{}}},
	{"PresenceRequest", []any{presenceRequest{}}},
	{"Canned", []any{cannedJSON{}}},
	{"CannedRequest", []any{cannedRequest{}}},
	{"DeskStreamFrame", []any{deskFrame{}, errorFrame{}}},

	// The knowledge base and the audit trail.
	{"EntryRequest", []any{entryRequest{}}},
	{"Entry", []any{entryJSON{}}},
	{"KnowledgeEntry", []any{knowledge.Entry{}}},
	{"DiffEntry", []any{knowledge.DiffEntry{}}},
	{"Content", []any{knowledge.Content{}}},
	{"ReasonRequest", []any{reasonRequest{}}},
	{"PublishRequest", []any{publishRequest{}}},
	{"RollbackRequest", []any{rollbackRequest{}}},
	{"Release", []any{releaseJSON{}}},
	{"ReleaseRecord", []any{knowledge.Release{}}},
	{"GateReport", []any{knowledge.Report{}}},
	{"GoldenRequest", []any{goldenRequest{}}},
	{"Golden", []any{knowledge.Golden{}}},
	{"DismissRequest", []any{dismissRequest{}}},
	{"AuditRecord", []any{audit.Entry{}}},
	{"AuditReport", []any{audit.Report{}}},
	{"QualityReport", []any{quality.Report{}}},
	{"ReportRow", []any{quality.ReportRow{}}},

	// Crisis response.
	{"PostureRequest", []any{postureRequest{}}},
	{"Posture", []any{incident.Posture{}}},
	{"Notice", []any{incident.Notice{}}},
	{"DeclareRequest", []any{declareRequest{}}},
	{"IncidentUpdateRequest", []any{incidentUpdate{}}},
	{"Incident", []any{incident.Incident{}}},
	{"IncidentEvent", []any{incident.Event{}}},
	{"Alert", []any{monitor.Alert{}}},
	{"SilenceRequest", []any{silenceRequest{}}},
	{"Silence", []any{monitor.Silence{}}},
	{"FaultRequest", []any{faultRequest{}}},
	{"Fault", []any{incident.Fault{}}},
	{"Component", []any{Component{}}},
	{"StatusIncident", []any{statusIncidentJSON{}}},
	{"ChannelHealth", []any{jobs.KindHealth{}}},
}

func TestOpenAPISchemasMatchTheStructs(t *testing.T) {
	schemas := openapiSchemas(t)
	for _, c := range openapiShapes {
		t.Run(c.schema, func(t *testing.T) {
			s, ok := schemas[c.schema]
			if !ok {
				t.Fatalf("components.schemas has no %s", c.schema)
			}
			want := map[string]bool{}
			for _, v := range c.types {
				jsonFieldNames(reflect.TypeOf(v), want)
			}
			got := map[string]bool{}
			schemaProperties(schemas, s, got)
			for _, f := range slices.Sorted(maps.Keys(want)) {
				if !got[f] {
					t.Errorf("%s lacks the property %q of %T", c.schema, f, c.types[0])
				}
			}
			for _, p := range slices.Sorted(maps.Keys(got)) {
				if !want[p] {
					t.Errorf("%s has the property %q, which %T has not", c.schema, p, c.types[0])
				}
			}
		})
	}
}

// The limits the document states are the code's.
func TestOpenAPILimitsMatchTheCode(t *testing.T) {
	schemas := openapiSchemas(t)
	for _, c := range []struct {
		schema, property string
		limit            int
	}{
		{"PostMessageRequest", "text", conversation.MaxTextRunes},
		{"OfflineMessageRequest", "message", conversation.MaxTextRunes},
		{"TextRequest", "text", desk.MaxText},
		{"EntryRequest", "title", knowledge.MaxTitleRunes},
		{"Content", "title", knowledge.MaxTitleRunes},
		{"Content", "answer", knowledge.MaxAnswerRunes},
		{"GoldenRequest", "question", knowledge.MaxQuestionRunes},
	} {
		props, _ := schemas[c.schema]["properties"].(map[string]any)
		p, _ := props[c.property].(map[string]any)
		if got, _ := p["maxLength"].(float64); int(got) != c.limit {
			t.Errorf("%s.%s: maxLength %v, want %d", c.schema, c.property, p["maxLength"], c.limit)
		}
	}
}

// openapiSchemas are the document's components.schemas.
func openapiSchemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc.Components.Schemas
}

// schemaProperties adds the property names of schema s to into, with those
// of the schemas it is made of (allOf, by $ref or inline).
func schemaProperties(schemas map[string]map[string]any, s map[string]any, into map[string]bool) {
	if ref, ok := s["$ref"].(string); ok {
		schemaProperties(schemas, schemas[strings.TrimPrefix(ref, "#/components/schemas/")], into)
	}
	props, _ := s["properties"].(map[string]any)
	for name := range props {
		into[name] = true
	}
	parts, _ := s["allOf"].([]any)
	for _, part := range parts {
		p, _ := part.(map[string]any)
		schemaProperties(schemas, p, into)
	}
}

// jsonFieldNames adds the names encoding/json gives t's fields to into:
// the tag's name, else the field's; embedded structs' fields promoted;
// unexported and "-" fields left out.
func jsonFieldNames(t reflect.Type, into map[string]bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			jsonFieldNames(ft, into)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = true
	}
}
