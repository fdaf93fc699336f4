package autodiscover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/exocal/exocal/sync/auth"
)

// Methods, as reported in Result.Method.
const (
	MethodSOAP       = "soap"
	MethodV2         = "v2"
	MethodPOX        = "pox"
	MethodConfigured = "configured"
)

// Which EWS URL to use ("Exchange server to be used").
const (
	ServerExternal = "external"
	ServerInternal = "internal"
)

// DefaultMaxHops bounds redirects (HTTP and Autodiscover) per discovery.
const DefaultMaxHops = 10

// maxBody caps a response read.
const maxBody = 1 << 20

// Request says whose EWS URL to find and where to look.
type Request struct {
	// User is the mailbox address autodiscover is asked about.
	User string
	// AutodiscoverURL is the SOAP autodiscover server; "" means the cloud's
	// default (https://autodiscover-s.outlook.com). A bare host URL gets
	// /autodiscover/autodiscover.svc appended; a URL ending in
	// /autodiscover.xml (as FindAutodiscoverServer returns) is asked by POX
	// instead of SOAP.
	AutodiscoverURL string
	// Server is ServerExternal (default) or ServerInternal.
	Server string
	// V2URL is the Autodiscover V2 host; "" means the cloud's
	// (https://outlook.office365.com), or for a custom cloud (the emulator)
	// the scheme and host of AutodiscoverURL.
	V2URL string
	// EWSURL, when set, skips autodiscover (Method "configured").
	EWSURL string
	// Cloud supplies the defaults and Microsoft's Exchange hosts; the zero
	// value means the global cloud.
	Cloud auth.Cloud
	// HTTPClient sends the requests; it should authenticate through
	// auth.Transport. Its CheckRedirect is replaced (redirects are followed
	// here, under the rules of the package documentation).
	HTTPClient *http.Client
	// AllowedHost says which hosts may receive the token; nil means
	// auth.AllowHosts(Cloud, AutodiscoverURL, V2URL, EWSURL).
	AllowedHost func(hostport string) bool
	// MaxHops defaults to DefaultMaxHops.
	MaxHops int
	// Logger receives debug records; nil discards.
	Logger *slog.Logger
	// Debug, when not nil, is the protocol debug log: it receives every
	// request and reply (see debug.go). Credential headers are redacted
	// before they reach it; pass a writer that also redacts tokens and
	// secrets in the text (an ews.DebugLog does).
	Debug io.Writer
}

// Hop is one redirect that was followed.
type Hop struct {
	Kind string // "http", "RedirectAddress", "RedirectUrl", "redirectAddr", "redirectUrl", "v2-alternative"
	From string
	To   string
}

// Result is what autodiscover found.
type Result struct {
	Method string // MethodSOAP, MethodV2, MethodPOX or MethodConfigured
	// EWSURL is the URL to use, chosen per Request.Server.
	EWSURL string
	// Server is which URL EWSURL is: ServerExternal or ServerInternal (it
	// differs from the request when only the other one was published).
	Server              string
	ExternalEWSURL      string
	InternalEWSURL      string
	GroupingInformation string // SOAP only; groups mailboxes for streaming affinity
	// User is the address the answer is for (differs after RedirectAddress).
	User string
	// Endpoint is the autodiscover URL that answered.
	Endpoint string
	Hops     []Hop
	// SOAPError says why SOAP autodiscover (POX, for an AutodiscoverURL
	// naming autodiscover.xml) failed when another method answered.
	SOAPError error
	// Cached is set when the result came from a Cache.
	Cached bool
}

// run is one discovery in progress.
type run struct {
	req     Request
	client  *http.Client
	allowed func(string) bool
	log     *slog.Logger
	hops    []Hop
	maxHops int
}

// Discover finds the EWS URL for req.User: SOAP GetUserSettings at the
// autodiscover server, and on an authentication refusal Autodiscover V2
// (then POX at the server V2 names). See the package documentation.
func Discover(ctx context.Context, req Request) (Result, error) {
	r, err := newRun(req)
	if err != nil {
		return Result{}, err
	}
	if req.EWSURL != "" {
		return r.configured()
	}
	var res Result
	var soapErr error
	if namesPOX(r.req.AutodiscoverURL) {
		// A URL naming autodiscover.xml is a POX server (the alternative
		// server Autodiscover V2 names for Protocol=AutodiscoverV1): ask it
		// by POX, not by SOAP at a .svc guessed from it.
		res, soapErr = r.pox(ctx, r.req.AutodiscoverURL)
	} else {
		res, soapErr = r.soap(ctx)
	}
	if soapErr == nil {
		return res, nil
	}
	if !IsAuth(soapErr) {
		return Result{}, soapErr
	}
	r.log.Debug("autodiscover: soap refused authentication; trying autodiscover v2", "err", soapErr)
	res, v2Err := r.v2EWS(ctx)
	if v2Err == nil {
		res.SOAPError = soapErr
		return res, nil
	}
	if IsRedirectRefused(v2Err) {
		return Result{}, fmt.Errorf("%w; v2 fallback: %w", soapErr, v2Err)
	}
	res, poxErr := r.v2POX(ctx)
	if poxErr == nil {
		res.SOAPError = soapErr
		return res, nil
	}
	return Result{}, fmt.Errorf("%w; v2 fallback: %w; pox fallback: %w", soapErr, v2Err, poxErr)
}

// FindAutodiscoverServer asks Autodiscover V2 (Protocol=AutodiscoverV1)
// for the user's alternative autodiscover server, for the settings
// window's "Find autodiscover server". The returned URL is the POX
// endpoint (…/autodiscover/autodiscover.xml) as V2 gives it.
func FindAutodiscoverServer(ctx context.Context, req Request) (string, error) {
	r, err := newRun(req)
	if err != nil {
		return "", err
	}
	return r.v2Lookup(ctx, "AutodiscoverV1")
}

func newRun(req Request) (*run, error) {
	req.User = strings.TrimSpace(req.User)
	if i := strings.LastIndex(req.User, "@"); i <= 0 || i == len(req.User)-1 || strings.ContainsAny(req.User, " \t/\\<>\"") {
		return nil, fmt.Errorf("autodiscover: user %q is not an email address", req.User)
	}
	if req.Cloud.Name == "" {
		req.Cloud, _ = auth.LookupCloud(auth.CloudGlobal)
	}
	switch strings.ToLower(strings.TrimSpace(req.Server)) {
	case "", ServerExternal:
		req.Server = ServerExternal
	case ServerInternal:
		req.Server = ServerInternal
	default:
		return nil, fmt.Errorf("autodiscover: server must be %q or %q, got %q", ServerExternal, ServerInternal, req.Server)
	}
	if req.AutodiscoverURL == "" {
		req.AutodiscoverURL = req.Cloud.AutodiscoverURL
	}
	if req.V2URL == "" {
		req.V2URL = req.Cloud.V2URL
	}
	if req.V2URL == "" { // a custom cloud (the emulator): V2 lives beside autodiscover
		if u, err := url.Parse(req.AutodiscoverURL); err == nil && u.Host != "" {
			req.V2URL = u.Scheme + "://" + u.Host
		}
	}
	if req.HTTPClient == nil {
		return nil, errors.New("autodiscover: no HTTP client (it should authenticate through auth.Transport)")
	}
	if req.EWSURL == "" {
		if req.AutodiscoverURL == "" {
			return nil, errors.New("autodiscover: no autodiscover URL configured and the cloud has no default")
		}
		if _, err := auth.CheckURL(req.AutodiscoverURL); err != nil {
			return nil, fmt.Errorf("autodiscover: autodiscover URL: %w", err)
		}
	}
	r := &run{req: req, allowed: req.AllowedHost, log: req.Logger, maxHops: req.MaxHops}
	if r.allowed == nil {
		r.allowed = auth.AllowHosts(req.Cloud, req.AutodiscoverURL, req.V2URL, req.EWSURL)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.maxHops <= 0 {
		r.maxHops = DefaultMaxHops
	}
	c := *req.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.client = &c
	return r, nil
}

func (r *run) configured() (Result, error) {
	u, err := auth.CheckURL(r.req.EWSURL)
	if err != nil {
		return Result{}, fmt.Errorf("autodiscover: EWS URL: %w", err)
	}
	return Result{Method: MethodConfigured, EWSURL: u.String(), Server: r.req.Server, User: r.req.User}, nil
}

// hop records a redirect and enforces the hop limit.
func (r *run) hop(op, kind, from, to string) error {
	r.hops = append(r.hops, Hop{Kind: kind, From: from, To: to})
	if len(r.hops) > r.maxHops {
		return &RedirectError{Op: op, From: from, To: to, Reason: ReasonTooManyHops, Hops: len(r.hops) - 1}
	}
	r.log.Debug("autodiscover: redirect", "op", op, "kind", kind, "from", from, "to", to)
	return nil
}

// follow applies the redirect rules to to (checkTarget) and records the
// hop from from.
func (r *run) follow(op, kind, from, to string, withToken bool) error {
	if _, err := r.checkTarget(op, from, to, withToken); err != nil {
		return err
	}
	return r.hop(op, kind, from, to)
}

// visit marks the pair endpoint and user as asked, and refuses a pair asked
// before (a redirect loop).
func (r *run) visit(op string, visited map[string]bool, endpoint, user string) error {
	key := strings.ToLower(endpoint + "|" + user)
	if visited[key] {
		return &RedirectError{Op: op, From: endpoint, To: endpoint + " for " + user, Reason: ReasonLoop, Hops: len(r.hops)}
	}
	visited[key] = true
	return nil
}

// redirectUser follows a redirect to another address (SOAP RedirectAddress,
// POX redirectAddr); kind is also the error code when target is no address.
func (r *run) redirectUser(op, kind, endpoint, user, target string) error {
	if !strings.Contains(target, "@") {
		return &Error{Op: op, URL: endpoint, Code: kind, Message: "redirect without a target address"}
	}
	return r.hop(op, kind, user, target)
}

// redirectURL follows a redirect to another autodiscover server (SOAP
// RedirectUrl, POX redirectUrl) and returns the endpoint that endpointOf
// makes of raw.
func (r *run) redirectURL(op, kind, endpoint, raw string, endpointOf func(string) (string, error)) (string, error) {
	target, err := endpointOf(raw)
	if err != nil || raw == "" {
		return "", &RedirectError{Op: op, From: endpoint, To: raw, Reason: ReasonBadURL, Hops: len(r.hops)}
	}
	if err := r.follow(op, kind, endpoint, target, true); err != nil {
		return "", err
	}
	return target, nil
}

// settingsResult picks the EWS URL of a settings answer per Request.Server,
// holds it to the token rule and builds the Result; missing is the message
// when neither URL was published.
func (r *run) settingsResult(op, endpoint string, status int, user, external, internal, missing string) (Result, error) {
	ews, which := pickEWS(r.req.Server, external, internal)
	if ews == "" {
		return Result{}, &Error{Op: op, URL: endpoint, HTTPStatus: status, Code: "NoEwsUrl", Message: missing}
	}
	checked, err := r.checkEWS(op, endpoint, ews)
	if err != nil {
		return Result{}, err
	}
	return Result{Method: op, EWSURL: checked, Server: which, ExternalEWSURL: external,
		InternalEWSURL: internal, User: user, Endpoint: endpoint, Hops: r.hops}, nil
}

// checkTarget applies the redirect rules to a URL the next request goes
// to: https (http only on loopback) and, when it will carry the token, an
// allowed host.
func (r *run) checkTarget(op, from, to string, withToken bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(to))
	if err != nil || u.Host == "" {
		return nil, &RedirectError{Op: op, From: from, To: to, Reason: ReasonBadURL, Hops: len(r.hops)}
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && auth.IsLoopback(u.Host)) {
		return nil, &RedirectError{Op: op, From: from, To: u.Redacted(), Reason: ReasonNotHTTPS, Hops: len(r.hops)}
	}
	if withToken && !r.allowed(u.Host) {
		return nil, &RedirectError{Op: op, From: from, To: u.Redacted(), Reason: ReasonUntrustedHost, Hops: len(r.hops)}
	}
	return u, nil
}

// checkEWS holds the returned EWS URL to the token rule.
func (r *run) checkEWS(op, from, ews string) (string, error) {
	u, err := r.checkTarget(op, from, ews, true)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) && re.Reason == ReasonUntrustedHost {
			re.Reason = ReasonUntrustedEWS
		}
		return "", err
	}
	return u.String(), nil
}

// response is a read HTTP answer.
type response struct {
	status   int
	header   http.Header
	body     []byte
	location string // resolved Location of a 3xx
}

// do sends one request (no redirect following) and reads the answer.
func (r *run) do(ctx context.Context, op, method, target string, body string, header http.Header) (*response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, &Error{Op: op, URL: target, Err: err}
	}
	for k, v := range header {
		hreq.Header[k] = v
	}
	hreq.Header.Set("User-Agent", "ExoCal")
	r.debugRequest(op, hreq, body)
	resp, err := r.client.Do(hreq)
	if err != nil {
		r.debugFailure(op, hreq, err)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("autodiscover: %s %s: %w", op, target, ctx.Err())
		}
		if auth.IsEntra(err) || auth.IsConfig(err) || auth.IsNetwork(err) {
			return nil, fmt.Errorf("autodiscover: %s %s: %w", op, target, err)
		}
		if ne := auth.ClassifyNetwork("autodiscover "+op, hreq.URL.Host, err); ne != nil {
			return nil, ne
		}
		return nil, &Error{Op: op, URL: target, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	r.debugResponse(op, resp, b)
	if err != nil {
		if ne := auth.ClassifyNetwork("autodiscover "+op, hreq.URL.Host, err); ne != nil {
			return nil, ne
		}
		return nil, &Error{Op: op, URL: target, HTTPStatus: resp.StatusCode, Err: err}
	}
	out := &response{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := resp.Header.Get("Location")
		if loc == "" {
			return nil, &Error{Op: op, URL: target, HTTPStatus: resp.StatusCode, Message: "redirect without Location"}
		}
		lu, err := hreq.URL.Parse(loc)
		if err != nil {
			return nil, &RedirectError{Op: op, From: target, To: loc, Reason: ReasonBadURL, Hops: len(r.hops)}
		}
		out.location = lu.String()
	}
	return out, nil
}

// httpError builds the Error for an unexpected status.
func httpError(op, target string, resp *response, code, msg string) *Error {
	e := &Error{Op: op, URL: target, HTTPStatus: resp.status, Code: code, Message: msg,
		Diagnostics: resp.header.Get("X-MS-Diagnostics")}
	if resp.status == http.StatusUnauthorized {
		e.WWWAuthenticate = resp.header.Get("WWW-Authenticate")
	}
	return e
}

// endpointOf turns a server into the URL of the autodiscover file (SOAP's
// autodiscover.svc or POX's autodiscover.xml): a bare host gets
// /autodiscover/file, a URL of the other method's file is switched to file,
// anything else is used as given.
func endpointOf(raw, file, other string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	p := strings.ToLower(u.Path)
	switch {
	case p == "" || p == "/":
		u.Path = "/autodiscover/" + file
	case strings.HasSuffix(p, "/"+other):
		u.Path = u.Path[:len(u.Path)-len(other)] + file
	}
	return u.String(), nil
}

// namesPOX reports whether raw is the URL of a POX endpoint (its path ends
// in /autodiscover.xml).
func namesPOX(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	return err == nil && strings.HasSuffix(strings.ToLower(u.Path), "/autodiscover.xml")
}

// pickEWS chooses per Request.Server, falling back to the other URL.
func pickEWS(want, external, internal string) (string, string) {
	if want == ServerInternal {
		if internal != "" {
			return internal, ServerInternal
		}
		return external, ServerExternal
	}
	if external != "" {
		return external, ServerExternal
	}
	return internal, ServerInternal
}
