package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Setup mistakes beyond a wrong secret: Entra refusals that follow from
// the tenant's state (modes), per-mailbox EWS refusals, and a skewed Date.

// addressSet builds a case-insensitive set of mailbox addresses.
func addressSet(addrs []string) map[string]bool {
	m := map[string]bool{}
	for _, a := range addrs {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			m[a] = true
		}
	}
	return m
}

func sortedAddresses(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// SetUnlicensedMailboxes replaces the mailboxes without an EWS licence.
func (s *Server) SetUnlicensedMailboxes(addrs ...string) {
	set := addressSet(addrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unlicensed = set
}

// SetOutOfScopeMailboxes replaces the mailboxes outside the app's
// application access policy / RBAC for Applications scope.
func (s *Server) SetOutOfScopeMailboxes(addrs ...string) {
	set := addressSet(addrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outOfScope = set
}

// SetDateSkew changes ModeSkewedDate's skew (0 means 10 minutes).
func (s *Server) SetDateSkew(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.DateSkew = d
}

// State is the switchable tenant state, as GET /_emulator/state shows it.
type State struct {
	Modes      []Mode   `json:"modes"`
	Unlicensed []string `json:"unlicensed_mailboxes"`
	OutOfScope []string `json:"out_of_scope_mailboxes"`
	DateSkew   string   `json:"date_skew"` // ModeSkewedDate's skew (time.Duration text)
}

// State returns the modes that are on (in Modes order, then unknown ones
// sorted), the per-mailbox states and the Date skew.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Unlicensed: sortedAddresses(s.unlicensed), OutOfScope: sortedAddresses(s.outOfScope),
		DateSkew: s.skewLocked().String()}
	for _, m := range Modes {
		if s.modes[m] {
			st.Modes = append(st.Modes, m)
		}
	}
	var other []Mode
	for m, on := range s.modes {
		if on && !slices.Contains(Modes, m) {
			other = append(other, m)
		}
	}
	slices.Sort(other)
	st.Modes = append(st.Modes, other...)
	return st
}

func (s *Server) skewLocked() time.Duration {
	if s.opts.DateSkew != 0 {
		return s.opts.DateSkew
	}
	return defaultDateSkew
}

// setTokenDate sets the token endpoint's Date header: skewed in
// ModeSkewedDate, else left to net/http (the real time).
func (s *Server) setTokenDate(w http.ResponseWriter) {
	if !s.hasMode(ModeSkewedDate) {
		return
	}
	s.mu.Lock()
	d := s.skewLocked()
	s.mu.Unlock()
	w.Header().Set("Date", s.now().Add(d).UTC().Format(http.TimeFormat))
}

// tenantRefusal is the Entra refusal of a known tenant's state that comes
// before the client is looked at (the tenant is in another cloud).
func (s *Server) tenantRefusal(w http.ResponseWriter, r *http.Request, tenantSeg string) bool {
	if !s.hasMode(ModeWrongCloud) {
		return false
	}
	s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 90038,
		fmt.Sprintf("Tenant '%s' request is being redirected to the National Cloud 'microsoftonline.us'.", tenantSeg))
	return true
}

// appRefusal is Entra's refusal, after the client authenticated, of an app
// that is disabled, has no consent, or is blocked by Conditional Access.
func (s *Server) appRefusal(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case s.hasMode(ModeAppDisabled):
		s.writeAADError(w, r, http.StatusBadRequest, "unauthorized_client", 7000112,
			fmt.Sprintf("Application '%s'(%s) is disabled.", s.opts.ClientID, appDisplayName))
	case s.hasMode(ModeConsentRequired):
		s.writeAADErrorSub(w, r, http.StatusBadRequest, "invalid_grant", 65001, "consent_required",
			fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", s.opts.ClientID, appDisplayName))
	case s.hasMode(ModeConditionalAccess):
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 53003,
			"Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
	default:
		return false
	}
	return true
}

// The per-mailbox EWS refusals (see the package doc for what is inferred).
const (
	accessDeniedText = "Access is denied. Check credentials and try again."
)

// mailboxRefusal answers an EWS request for a mailbox without an EWS
// licence (403, no X-EWS-Policy-Reason, empty body) or outside the app's
// scope (ErrorAccessDenied). It reports whether it answered.
func (s *Server) mailboxRefusal(w http.ResponseWriter, r *http.Request, mailbox string, f Faults, hit bool) bool {
	key := strings.ToLower(mailbox)
	s.mu.Lock()
	unlicensed, outside := s.unlicensed[key], s.outOfScope[key]
	s.mu.Unlock()
	switch {
	case unlicensed:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusForbidden)
		return true
	case outside:
		s.writeFault(w, r, "ErrorAccessDenied", accessDeniedText, nil, f, hit)
		return true
	}
	return false
}

// outsideScope reports whether the app may not reach mailbox, which a
// request names in a folder id while impersonating another mailbox; such
// folders are answered with an ErrorAccessDenied response message.
func (s *Server) outsideScope(mailbox string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outOfScope[strings.ToLower(mailbox)]
}
