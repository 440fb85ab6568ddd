package httpapi

import (
	"net/http"
	"strings"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
)

type revealRequest struct {
	// Ref names the masked text: a message id, "note:<id>", or
	// "ticket:<id>:contact" / "ticket:<id>:message".
	Ref string `json:"ref"`
}

// deskReveal shows the original of masked personal data to someone who
// handles the conversation. The reveal is audited first: without its
// audit record, nothing is shown.
func (s *Server) deskReveal(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var req revealRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	req.Ref = strings.TrimSpace(req.Ref)
	if req.Ref == "" || len(req.Ref) > 100 {
		return errcode.Localized(errcode.Invalid, "ref must name a message, note or ticket field (at most 100 characters)", "ref 须指向一条消息、备注或留言字段（最多 100 个字符）")
	}
	id := r.PathValue("id")
	text, kinds, err := s.desk.Reveal(r.Context(), p.User, id, req.Ref)
	if err != nil {
		return err
	}
	if err := s.audit.Record(r.Context(), audit.Entry{Actor: p.User.ID, ActorName: p.Actor().Name,
		Action: "pii.reveal", Object: "conversation:" + id, Detail: map[string]any{"ref": req.Ref, "kinds": kinds}}); err != nil {
		return errcode.Localized(errcode.Unavailable, "the reveal could not be audited, so it is not shown; try again",
			"无法记录这次查看原文的审计日志，因此不予显示；请稍后重试")
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"ref": req.Ref, "text": text, "kinds": kinds})
	return nil
}
