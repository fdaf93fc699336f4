package emulator

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

// The test/admin API, loopback only:
//
//	GET    /_emulator/truth?start=RFC3339&end=RFC3339   ground truth (tenant.Dump)
//	GET    /_emulator/stats                             counters (Stats)
//	POST   /_emulator/items/{mailbox}                   add an item (tenant.Item JSON)
//	PATCH  /_emulator/items/{mailbox}/{id}              change fields (ItemPatch JSON)
//	DELETE /_emulator/items/{mailbox}/{id}              delete an item
//	POST   /_emulator/revoke                            revoke every token issued so far
//	POST   /_emulator/mode?name=MODE&on=true|false      switch a Mode
//	POST   /_emulator/faults                            set Faults (JSON)
//	POST   /_emulator/latency?d=25ms                    set the added latency
//	GET    /_emulator/state                             modes on, per-mailbox states, Date skew (State)
//	POST   /_emulator/unlicensed                        mailboxes without an EWS licence (JSON array of addresses)
//	POST   /_emulator/out-of-scope                      mailboxes outside the app's scope (JSON array of addresses)
//	POST   /_emulator/date-skew?d=-10m                  ModeSkewedDate's skew of the token endpoint's Date

// ItemPatch is the body of PATCH /_emulator/items/{mailbox}/{id}: the
// fields that are set are changed.
type ItemPatch struct {
	Subject  *string    `json:"subject,omitempty"`
	Location *string    `json:"location,omitempty"`
	Body     *string    `json:"body,omitempty"`
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Cancel   *bool      `json:"cancelled,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, "the emulator's admin API answers loopback clients only", http.StatusForbidden)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/_emulator/")
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		parts[i], _ = url.PathUnescape(p)
	}
	switch {
	case parts[0] == "truth" && r.Method == http.MethodGet:
		now := s.now()
		start, err := queryTime(r, "start", now.AddDate(0, -2, 0))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		end, err := queryTime(r, "end", now.AddDate(1, 1, 0))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusOK, s.t.Dump(start, end))
	case parts[0] == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case parts[0] == "items" && len(parts) == 2 && r.Method == http.MethodPost:
		var it tenant.Item
		if err := json.NewDecoder(r.Body).Decode(&it); err != nil {
			http.Error(w, "item: "+err.Error(), http.StatusBadRequest)
			return
		}
		got, err := s.t.Add(parts[1], it)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusCreated, got)
	case parts[0] == "items" && len(parts) == 3 && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		var p ItemPatch
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, "patch: "+err.Error(), http.StatusBadRequest)
			return
		}
		got, err := s.t.Update(parts[1], parts[2], func(it *tenant.Item) {
			if p.Subject != nil {
				it.Subject = *p.Subject
			}
			if p.Location != nil {
				it.Location = *p.Location
			}
			if p.Body != nil {
				it.Body = *p.Body
			}
			if p.Start != nil {
				it.Start = p.Start.UTC()
			}
			if p.End != nil {
				it.End = p.End.UTC()
			}
			if p.Cancel != nil {
				it.IsCancelled = *p.Cancel
			}
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, got)
	case parts[0] == "items" && len(parts) == 3 && r.Method == http.MethodDelete:
		if err := s.t.Delete(parts[1], parts[2]); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "revoke" && r.Method == http.MethodPost:
		s.RevokeTokens()
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "mode" && r.Method == http.MethodPost:
		m := Mode(r.URL.Query().Get("name"))
		if !slices.Contains(Modes, m) {
			http.Error(w, fmt.Sprintf("mode: unknown mode %q", m), http.StatusBadRequest)
			return
		}
		s.SetMode(m, r.URL.Query().Get("on") != "false")
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "faults" && r.Method == http.MethodPost:
		var f Faults
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		err := dec.Decode(&f)
		if err == nil {
			err = f.Check()
		}
		if err != nil {
			http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFaults(f)
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "state" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.State())
	case (parts[0] == "unlicensed" || parts[0] == "out-of-scope") && r.Method == http.MethodPost:
		var addrs []string
		if err := json.NewDecoder(r.Body).Decode(&addrs); err != nil {
			http.Error(w, parts[0]+": want a JSON array of mailbox addresses: "+err.Error(), http.StatusBadRequest)
			return
		}
		if parts[0] == "unlicensed" {
			s.SetUnlicensedMailboxes(addrs...)
		} else {
			s.SetOutOfScopeMailboxes(addrs...)
		}
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "date-skew" && r.Method == http.MethodPost:
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, "date-skew: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetDateSkew(d)
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "latency" && r.Method == http.MethodPost:
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, "latency: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetLatency(d)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// queryTime reads the RFC 3339 query parameter name, def when it is absent;
// the error text is "name: reason".
func queryTime(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}
