package emulator

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// FaultKind is a kind of injected failure on EWS requests.
type FaultKind string

// The fault kinds (ews-protocol.md §8 for throttling; the rest are network
// failures a client must survive).
const (
	FaultNone FaultKind = ""
	// FaultServerBusy: HTTP 500 with an ErrorServerBusy SOAP fault carrying
	// BackOffMilliseconds (EWS throttling doc, Tables 3 and 4).
	FaultServerBusy FaultKind = "server-busy"
	// Fault503: HTTP 503 with Retry-After (requests queuing in IIS).
	Fault503 FaultKind = "http-503"
	// Fault429: HTTP 429 with Retry-After (not in the EWS docs; inferred).
	Fault429 FaultKind = "http-429"
	// FaultReset: the TCP connection is closed without an answer.
	FaultReset FaultKind = "reset"
	// FaultTruncate: the answer's body stops half-way (Content-Length is
	// the full length, so the client sees an unexpected EOF).
	FaultTruncate FaultKind = "truncate"
	// FaultSlow: the answer is written in small pieces with SlowDelay
	// between them (slow streams and slow bodies).
	FaultSlow FaultKind = "slow"
	// FaultRevoke: every token issued so far is revoked just before the
	// request is checked, so it fails with 401 (token revocation mid-run).
	FaultRevoke FaultKind = "revoke"
)

// FaultKinds lists every fault kind, for the admin API's error message.
var FaultKinds = []FaultKind{FaultServerBusy, Fault503, Fault429, FaultReset, FaultTruncate, FaultSlow, FaultRevoke}

// Check says what is wrong with f, for the admin API: an unknown kind, or
// a kind that can never hit (neither EveryN nor Probability).
func (f Faults) Check() error {
	if f.Kind == FaultNone {
		return nil
	}
	if !slices.Contains(FaultKinds, f.Kind) {
		return fmt.Errorf("unknown fault kind %q; known kinds: %v (or \"\" for none)", f.Kind, FaultKinds)
	}
	if f.EveryN <= 0 && f.Probability <= 0 {
		return fmt.Errorf("fault kind %q would never hit: set EveryN (> 0) or Probability (0 to 1)", f.Kind)
	}
	if f.Probability > 1 {
		return fmt.Errorf("Probability %v is over 1", f.Probability)
	}
	for _, op := range f.Operations {
		if _, ok := ewsOps[op]; !ok {
			known := make([]string, 0, len(ewsOps))
			for k := range ewsOps {
				known = append(known, k)
			}
			slices.Sort(known)
			return fmt.Errorf("unknown EWS operation %q in Operations; the emulator serves %v", op, known)
		}
	}
	return nil
}

// Faults say which EWS requests fail and how. A request is hit when it is
// the EveryN-th EWS request since SetFaults (EveryN > 0), or with
// Probability (deterministic by Options.Seed); Operations, when set, limits
// both to those EWS operations (e.g. "GetItem").
type Faults struct {
	Kind        FaultKind
	EveryN      int
	Probability float64
	Operations  []string
	// BackOff is ErrorServerBusy's BackOffMilliseconds; 0 means 2 s.
	BackOff time.Duration
	// RetryAfter for 503/429; 0 means 1 s (sent in whole seconds).
	RetryAfter time.Duration
	// SlowDelay between pieces for FaultSlow; 0 means 50 ms.
	SlowDelay time.Duration
}

// pickFault decides whether this EWS request (operation op) is hit.
func (s *Server) pickFault(op string) (Faults, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if f.Kind == FaultNone {
		return f, false
	}
	if len(f.Operations) > 0 && !slices.Contains(f.Operations, op) {
		return f, false
	}
	s.faultCount++
	hit := false
	if f.EveryN > 0 && s.faultCount%uint64(f.EveryN) == 0 {
		hit = true
	}
	if f.Probability > 0 && s.rng.Float64() < f.Probability {
		hit = true
	}
	return f, hit
}

func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = time.Second
	}
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// frontDoorFault answers a fault that happens before EWS looks at the
// request. It reports whether the request was answered.
func (s *Server) frontDoorFault(w http.ResponseWriter, f Faults) bool {
	switch f.Kind {
	case Fault503:
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><h2>Service Unavailable</h2><hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>"))
		return true
	case Fault429:
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	case FaultReset:
		resetConnection(w)
		return true
	case FaultRevoke:
		s.RevokeTokens()
		return false
	}
	return false
}

// resetConnection hijacks the connection and closes it with an RST.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// writeBody writes a complete answer, or damages it as f says.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte, f Faults, hit bool) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if !hit {
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	switch f.Kind {
	case FaultTruncate:
		w.WriteHeader(status)
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Abort: the server closes the connection short of Content-Length.
		panic(http.ErrAbortHandler)
	case FaultSlow:
		w.WriteHeader(status)
		d := f.SlowDelay
		if d <= 0 {
			d = 50 * time.Millisecond
		}
		piece := max(len(body)/8, 64)
		bw := bufio.NewWriterSize(w, piece)
		for i := 0; i < len(body); i += piece {
			bw.Write(body[i:min(i+piece, len(body))])
			bw.Flush()
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			if i+piece < len(body) {
				addWait(r, d)
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
		}
	default:
		w.WriteHeader(status)
		w.Write(body)
	}
}
