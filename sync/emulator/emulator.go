// Package emulator is an emulated Exchange Online tenant on loopback: the
// Microsoft Entra token endpoint (client credentials), Autodiscover (SOAP,
// POX and V2 JSON) and Exchange Web Services (GetFolder, SyncFolderItems,
// GetItem, FindItem, Subscribe, GetStreamingEvents, Unsubscribe), with the
// failure modes, throttling, faults and latency that tests and benchmarks
// need, and a ground-truth and admin API under /_emulator/.
//
// Its wire formats are written from Microsoft's documentation, schemas and
// samples (../shared/ews-reference, ../shared/ews-schema) and share no code
// with ExoCal's client packages; the data lives in sync/emulator/tenant.
//
// Where Microsoft documents nothing, the emulator chooses and says so:
//   - AADSTS wording for 7000215, 7000222, 700016, 90002, 1002012, 500011,
//     7000218, 700027, 700024 follows published Entra responses; 700021 and
//     700023 (assertion issuer/audience) are inferred.
//   - x-ms-diagnostics 2000008 (no roles) is Exchange Online's; the 2000001
//     reasons for expired, revoked and invalid tokens are inferred.
//   - X-EWS-Policy-Reason for an app missing from EwsAllowedAppIDs is
//     inferred (it contains "blocked by policy").
//   - AADSTS53003 (Conditional Access), 90038 (national cloud) and 65001
//     (no consent, suberror consent_required) use the wording of published
//     Entra responses; 7000112's ("Application '{id}'({name}) is
//     disabled.") is Microsoft's troubleshooting article's. The HTTP status
//     (400) and the error kinds for app-only requests (invalid_grant,
//     invalid_request, unauthorized_client) are inferred, as is the order
//     of the checks (cloud before the client, disabled / consent /
//     Conditional Access after the credential).
//   - ModeMissingRole's token carries Calendars.Read; that EWS refuses it
//     with 401 and 2000008, as a token without roles, is inferred.
//   - ModeConsentPropagating (full_access_as_app in the token, 401 2000008
//     from EWS until consent reaches Exchange) is inferred from reports of
//     consent taking minutes to apply.
//   - A mailbox without an EWS licence (F1/F3/Kiosk) gets HTTP 403 without
//     X-EWS-Policy-Reason and an empty body: inferred.
//   - A mailbox outside an application access policy or RBAC for
//     Applications scope gets an HTTP 500 SOAP fault ErrorAccessDenied,
//     "Access is denied. Check credentials and try again." (EWS's text for
//     ErrorAccessDenied). Microsoft documents no EWS wording for it (Graph
//     says "Blocked by tenant configured AppOnly AccessPolicy settings"):
//     the code, the fault form and the text are inferred. Its folders named
//     (DistinguishedFolderId Mailbox) while impersonating an allowed mailbox
//     get an ErrorAccessDenied response message (GetFolder, SyncFolderItems,
//     FindItem), likewise inferred.
//   - ModeSkewedDate skews only the token endpoint's Date header; token
//     claims and EWS keep the emulator's clock.
//   - HTTP 429 + Retry-After is not in the EWS docs (ews-protocol.md §8).
//   - More than 200 ids in one GetStreamingEvents gives ErrorInvalidArgument,
//     an idle subscription expires after 30 minutes, and the override cookie
//     is not "secure" on plain http (else no client would send it back).
//   - GetStreamingEvents envelopes follow each other on one chunked answer,
//     without XML declarations, with m:Notification as Exchange sends it.
package emulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

// Mode is a switchable tenant or app-registration state.
type Mode string

// The modes. Wrong secret, unknown app, unknown tenant and a bad scope need
// no mode: they follow from what the client sends.
const (
	// ModeExpiredSecret: the registered secret has expired (AADSTS7000222).
	ModeExpiredSecret Mode = "expired-secret"
	// ModeNoConsent: admin consent was never granted: tokens carry no roles
	// claim and EWS answers 401 with x-ms-diagnostics 2000008.
	ModeNoConsent Mode = "no-consent"
	// ModeEWSDisabled: Set-OrganizationConfig -EwsEnabled $false: HTTP 403.
	ModeEWSDisabled Mode = "ews-disabled"
	// ModeNotAllowlisted: the app is not in EwsAllowedAppIDs: HTTP 403.
	ModeNotAllowlisted Mode = "not-allowlisted"
	// ModeAutodiscover401: the SOAP Autodiscover endpoint answers 401 (as
	// for tenants with security defaults), so clients fall back to V2.
	ModeAutodiscover401 Mode = "autodiscover-401"
	// ModeConditionalAccess: a Conditional Access policy for workload
	// identities blocks the app: the token endpoint answers AADSTS53003.
	ModeConditionalAccess Mode = "conditional-access"
	// ModeWrongCloud: the tenant lives in a national cloud (US Government):
	// the token endpoint answers AADSTS90038.
	ModeWrongCloud Mode = "wrong-cloud"
	// ModeAppDisabled: the app's service principal is disabled in the
	// tenant: the token endpoint answers AADSTS7000112.
	ModeAppDisabled Mode = "app-disabled"
	// ModeConsentRequired: the token endpoint answers AADSTS65001 (the
	// administrator has not consented to the application).
	ModeConsentRequired Mode = "consent-required"
	// ModeMissingRole: consent was granted for another Exchange permission
	// (Calendars.Read) but the manifest lacks full_access_as_app: tokens
	// carry roles, none of them full_access_as_app; EWS answers 401 2000008.
	ModeMissingRole Mode = "missing-role"
	// ModeConsentPropagating: admin consent was just granted: tokens carry
	// full_access_as_app, but EWS still answers 401 with x-ms-diagnostics
	// 2000008 (consent has not reached Exchange yet).
	ModeConsentPropagating Mode = "consent-propagating"
	// ModeSkewedDate: the token endpoint's Date header is off by
	// Options.DateSkew (10 minutes ahead when unset), as a client with a
	// wrong clock sees it.
	ModeSkewedDate Mode = "skewed-date"
)

// Modes lists every mode, for flag help. Per-mailbox states (no EWS
// licence, outside the app's scope) are not modes: see
// Options.UnlicensedMailboxes and Options.OutOfScopeMailboxes.
var Modes = []Mode{ModeExpiredSecret, ModeNoConsent, ModeEWSDisabled, ModeNotAllowlisted, ModeAutodiscover401,
	ModeConditionalAccess, ModeWrongCloud, ModeAppDisabled, ModeConsentRequired, ModeMissingRole,
	ModeConsentPropagating, ModeSkewedDate}

// defaultDateSkew is ModeSkewedDate's skew when Options.DateSkew is 0.
const defaultDateSkew = 10 * time.Minute

// Options configure a Server.
type Options struct {
	Tenant       *tenant.Tenant
	TenantID     string // Directory (tenant) ID, a GUID
	ClientID     string // Application (client) ID
	ClientSecret string // the secret's value
	// Certificate is the app's registered certificate for client_assertion.
	Certificate *x509.Certificate

	// TokenLifetime of access tokens; 0 means 3599 s as Entra.
	TokenLifetime time.Duration
	Modes         []Mode
	// UnlicensedMailboxes have no licence that includes EWS (F1, F3,
	// Kiosk): EWS answers 403 without X-EWS-Policy-Reason for them.
	UnlicensedMailboxes []string
	// OutOfScopeMailboxes exist in the tenant but are outside the app's
	// application access policy or RBAC for Applications scope: EWS
	// answers ErrorAccessDenied for them.
	OutOfScopeMailboxes []string
	// DateSkew is how far the token endpoint's Date header is off in
	// ModeSkewedDate (positive: Entra is ahead of the client); 0 means
	// 10 minutes.
	DateSkew time.Duration
	// Latency added to every request (not to /_emulator/).
	Latency time.Duration
	Faults  Faults
	// Seed makes ids, GUIDs and probabilistic faults deterministic.
	Seed int64
	// Heartbeat between GetStreamingEvents envelopes without events; 0
	// means 45 s (Exchange's default the EWS Managed API expects).
	Heartbeat time.Duration
	// StreamMinute is how long one "minute" of ConnectionTimeout lasts; 0
	// means time.Minute (a test knob to end streams quickly).
	StreamMinute time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the emulated tenant's HTTP side.
type Server struct {
	opts  Options
	t     *tenant.Tenant
	key   *rsa.PrivateKey
	keyID string
	log   *slog.Logger

	mu          sync.Mutex
	modes       map[Mode]bool
	unlicensed  map[string]bool // lower-case addresses
	outOfScope  map[string]bool // lower-case addresses
	latency     time.Duration
	faults      Faults
	faultCount  uint64
	rng         *mrand.Rand
	guidSeq     uint64
	tokenSerial uint64
	revokedUpTo uint64

	subs        *subscriptions
	cancelWatch func()

	stats counters

	srv      *http.Server
	listener net.Listener
	baseURL  string
}

type counters struct {
	requests, tokenRequests, ewsExternal, ewsInternal atomic.Int64
	streamsOpen, streamsTotal                         atomic.Int64
	autodiscover, missingAnchor                       atomic.Int64
	cpuNanos                                          atomic.Int64
}

// Stats is a snapshot of what the server has seen.
type Stats struct {
	Requests      int64 // every request
	TokenRequests int64
	EWSExternal   int64 // requests to /EWS/Exchange.asmx
	EWSInternal   int64 // requests to the internal EWS URL
	Autodiscover  int64
	MissingAnchor int64 // EWS requests without X-AnchorMailbox (Exchange Online may then misroute them)
	StreamsOpen   int64 // GetStreamingEvents connections open now
	StreamsTotal  int64 // GetStreamingEvents connections ever opened
	HandlerNanos  int64 // time spent in handlers, added latency and stream waits excluded
}

// New builds a Server around opts.Tenant. It does not listen; use Start,
// or use the Server as an http.Handler.
func New(opts Options) *Server {
	if opts.Tenant == nil {
		panic("emulator: Options.Tenant is nil")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 45 * time.Second
	}
	if opts.StreamMinute <= 0 {
		opts.StreamMinute = time.Minute
	}
	s := &Server{
		opts:    opts,
		t:       opts.Tenant,
		log:     opts.Logger,
		modes:   map[Mode]bool{},
		latency: opts.Latency,
		faults:  opts.Faults,
		rng:     mrand.New(mrand.NewPCG(uint64(opts.Seed), 0x45786f43616c)),
	}
	for _, m := range opts.Modes {
		s.modes[m] = true
	}
	s.unlicensed = addressSet(opts.UnlicensedMailboxes)
	s.outOfScope = addressSet(opts.OutOfScopeMailboxes)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("emulator: generate signing key: " + err.Error())
	}
	s.key = key
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	s.keyID = b64url.EncodeToString(sum[:20])
	s.subs = newSubscriptions(s)
	s.cancelWatch = s.t.Watch(s.subs.deliver)
	return s
}

// Start listens on addr (loopback only; "" means 127.0.0.1:0) and serves
// in the background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := CheckLoopback(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	s.listener = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("emulator: serve", "err", err)
		}
	}()
	return nil
}

// CheckLoopback refuses addresses that are not on the loopback interface.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("emulator: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("emulator: address %q is not a loopback address; the emulator serves 127.0.0.1 or ::1 only", addr)
	}
	return nil
}

// Close stops the listener, ends open streams and stops watching the tenant.
func (s *Server) Close() error {
	s.cancelWatch()
	s.subs.closeAll()
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// URL is the base URL ("http://127.0.0.1:PORT") after Start.
func (s *Server) URL() string { return s.baseURL }

// EWSURL is the external EWS endpoint after Start.
func (s *Server) EWSURL() string { return s.baseURL + ewsPath }

// InternalURL is the internal EWS endpoint after Start; Autodiscover
// answers it as InternalEwsUrl, and Stats counts its requests apart.
func (s *Server) InternalURL() string { return s.baseURL + internalEWSPath }

// TokenURL is the Entra token endpoint for the tenant after Start.
func (s *Server) TokenURL() string { return s.baseURL + "/" + s.opts.TenantID + "/oauth2/v2.0/token" }

// Tenant returns the data model.
func (s *Server) Tenant() *tenant.Tenant { return s.t }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests: s.stats.requests.Load(), TokenRequests: s.stats.tokenRequests.Load(),
		EWSExternal: s.stats.ewsExternal.Load(), EWSInternal: s.stats.ewsInternal.Load(),
		Autodiscover: s.stats.autodiscover.Load(), MissingAnchor: s.stats.missingAnchor.Load(),
		StreamsOpen: s.stats.streamsOpen.Load(), StreamsTotal: s.stats.streamsTotal.Load(),
		HandlerNanos: s.stats.cpuNanos.Load(),
	}
}

// SetMode turns a mode on or off while running.
func (s *Server) SetMode(m Mode, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes[m] = on
}

func (s *Server) hasMode(m Mode) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modes[m]
}

// SetLatency changes the latency added to each request.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetFaults replaces the fault settings and restarts their request count.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.faultCount = 0
}

// RevokeTokens revokes every access token issued so far: EWS answers 401
// for them and clients must fetch a new one.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokedUpTo = s.tokenSerial
}

// SetTokenLifetime changes the lifetime of tokens issued from now on.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.TokenLifetime = d
}

func (s *Server) tokenLifetime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.TokenLifetime > 0 {
		return s.opts.TokenLifetime
	}
	return defaultTokenExpiry
}

func (s *Server) now() time.Time { return s.opts.Now() }

// guid returns a deterministic (by seed and call order) GUID string.
func (s *Server) guid() string {
	s.mu.Lock()
	s.guidSeq++
	n := s.guidSeq
	s.mu.Unlock()
	return s.guidFrom(fmt.Sprintf("guid:%d:%d", s.opts.Seed, n))
}

// guidFrom derives a GUID from a string.
func (s *Server) guidFrom(v string) string {
	sum := sha256.Sum256([]byte(v))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

const (
	ewsPath         = "/EWS/Exchange.asmx"
	internalEWSPath = "/internal/EWS/Exchange.asmx"
)

// ServeHTTP routes a request. Paths are matched case-insensitively for
// EWS and Autodiscover, as IIS does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	lp := strings.ToLower(r.URL.Path)
	if strings.HasPrefix(lp, "/_emulator/") {
		s.handleAdmin(w, r)
		return
	}
	s.mu.Lock()
	lat := s.latency
	s.mu.Unlock()
	if lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		}
	}
	wc := &waitCounter{}
	r = r.WithContext(context.WithValue(r.Context(), waitKey{}, wc))
	start := time.Now()
	defer func() {
		// Time a stream spends waiting for events is not the server's cost.
		s.stats.cpuNanos.Add(int64(time.Since(start)) - wc.n.Load())
	}()
	switch {
	case lp == strings.ToLower(ewsPath):
		s.stats.ewsExternal.Add(1)
		s.handleEWS(w, r)
	case lp == strings.ToLower(internalEWSPath):
		s.stats.ewsInternal.Add(1)
		s.handleEWS(w, r)
	case lp == "/autodiscover/autodiscover.svc":
		s.stats.autodiscover.Add(1)
		s.handleAutodiscoverSOAP(w, r)
	case lp == "/autodiscover/autodiscover.xml":
		s.stats.autodiscover.Add(1)
		s.handleAutodiscoverPOX(w, r)
	case strings.HasPrefix(lp, "/autodiscover/autodiscover.json/v1.0/"):
		s.stats.autodiscover.Add(1)
		s.handleAutodiscoverV2(w, r, r.URL.Path[len("/autodiscover/autodiscover.json/v1.0/"):])
	default:
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if len(parts) == 4 && strings.EqualFold(parts[1], "oauth2") && strings.EqualFold(parts[2], "v2.0") && strings.EqualFold(parts[3], "token") {
			s.handleToken(w, r, parts[0])
			return
		}
		http.NotFound(w, r)
	}
}

// waitKey stores, per request, the time a handler spent waiting (streams).
type waitKey struct{}

type waitCounter struct{ n atomic.Int64 }

// addWait records time spent waiting in a handler.
func addWait(r *http.Request, d time.Duration) {
	if wc, ok := r.Context().Value(waitKey{}).(*waitCounter); ok {
		wc.n.Add(int64(d))
	}
}

// hashString is a stable small hash for routing decisions.
func hashString(v string) uint32 {
	h := fnv.New32a()
	io.WriteString(h, strings.ToLower(v))
	return h.Sum32()
}
