package httpapi

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
)

// verifyAudit walks the whole audit chain and reports whether it is intact
// and, if not, the first entry found edited or missing. A broken chain is a
// 200 with "ok": false: the check itself worked. ?head=SEQ:HASH holds the
// chain against a head recorded earlier.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.AuditRead, "verify the audit trail"); err != nil {
		return err
	}
	var anchor *audit.Head
	if v := r.URL.Query().Get("head"); v != "" {
		seq, hash, ok := strings.Cut(v, ":")
		n, err := strconv.ParseInt(seq, 10, 64)
		if _, herr := hex.DecodeString(hash); !ok || err != nil || n < 1 || len(hash) != 64 || herr != nil {
			// A typo in the hash would read as a rewritten chain: a false tamper alarm.
			return errcode.Localized(errcode.Invalid, "head must be SEQ:HASH (a sequence number and 64 hex digits)", "head 须为 SEQ:HASH（序号与 64 位十六进制哈希）")
		}
		anchor = &audit.Head{Seq: n, Hash: strings.ToLower(hash)}
	}
	rep, err := s.audit.Verify(r.Context(), anchor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
