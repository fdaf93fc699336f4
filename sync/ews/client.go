// Package ews is ExoCal's Exchange Web Services client for calendars: SOAP
// envelopes and wire types written from Microsoft's schemas, one file per
// operation (GetFolder, SyncFolderItems, GetItem, FindItem, Subscribe,
// GetStreamingEvents, Unsubscribe), typed errors with predicates, a retry
// decorator that honours Exchange's throttling hints, a redacting protocol
// debug log, the conversion of EWS calendar items into sync/calendar's
// model, and calendar.Source / calendar.Watcher implementations for the
// engine.
//
// Authentication is not this package's business: the caller's
// *http.Client carries a RoundTripper (sync/auth) that adds the bearer
// token. Every request impersonates a mailbox (ExchangeImpersonation with
// PrimarySmtpAddress) and routes with X-AnchorMailbox.
//
// Cookies: the Client never uses the http.Client's Jar. HTTP state lives in
// a Session — one per mailbox (Client.MailboxSession, created on first use)
// or one per group of streaming subscriptions (NewAffinitySession) — so a
// cookie jar is never shared between mailboxes or groups.
//
// Cost: a first sync decodes about 3 kB of XML per calendar item. GetItem
// and SyncFolderItems replies are therefore read by hand-written walkers
// over a small XML scanner (xscan.go) into the same wire types encoding/xml
// fills, falling back to encoding/xml for SOAP faults and anything unusual
// (differential and fuzz tests hold them to encoding/xml); time zone
// definitions are decoded once per Client; GetItem asks only for the
// properties the conversion uses (the end zone by id; its definition in a
// follow-up GetItem only when it differs from the start zone). Replies
// may be gzip-compressed: Accept-Encoding is left to the transport.
package ews

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultServerVersion is the RequestServerVersion sent unless Config says
// otherwise (the EWS Managed API's default; it has every feature ExoCal uses).
const DefaultServerVersion = "Exchange2013_SP1"

// maxResponse caps a non-streaming reply (a GetItem batch of 10 calendar
// items with bodies is far smaller).
const maxResponse = 64 << 20

// Config configures a Client.
type Config struct {
	// URL is the EWS endpoint, e.g. https://outlook.office365.com/EWS/Exchange.asmx.
	URL string
	// HTTPClient sends the requests; its Transport adds authentication.
	// Its Jar, if any, is ignored (see Session). Required.
	HTTPClient *http.Client
	// ServerVersion is sent as RequestServerVersion (default Exchange2013_SP1).
	ServerVersion string
	// UserAgent, e.g. "ExoCal/1.2.0" (default "ExoCal").
	UserAgent string
	// Debug, when not nil, receives every request and reply, redacted.
	Debug *DebugLog
	// Retry, when not nil, retries throttled and transient failures of the
	// request/response operations (not GetStreamingEvents).
	Retry *Retry
	// Logger receives one debug record per call (default: discard).
	Logger *slog.Logger
	// HeartbeatTimeout is how long a streaming connection may stay silent
	// (default DefaultHeartbeatTimeout).
	HeartbeatTimeout time.Duration
}

// StreamMargin is how long past its ConnectionTimeout a GetStreamingEvents
// may stay open before the client gives up waiting for the server to end it
// (ConnectionStatus Closed).
const StreamMargin = 2 * time.Minute

// Client is an EWS client. It is safe for concurrent use.
type Client struct {
	url       string
	hc        *http.Client  // request/response operations: the caller's Timeout applies
	streamHC  *http.Client  // GetStreamingEvents: hc without Timeout (see New)
	minute    time.Duration // one ConnectionTimeout minute (tests shorten it)
	margin    time.Duration // StreamMargin (tests shorten it)
	version   string
	ua        string
	debug     *DebugLog
	retry     *Retry
	log       *slog.Logger
	heartbeat time.Duration

	mu       sync.Mutex
	sessions map[string]*Session

	zones zoneCache // time zone definitions seen in GetItem replies
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	hc.Jar = nil // cookies live in Sessions
	// A streaming request is meant to hang for up to 30 minutes: a
	// whole-request http.Client.Timeout (often a minute) would cut every
	// connection, and each cut would count as an outage. Streams get a copy
	// without it; GetStreamingEvents bounds them itself (ConnectionTimeout
	// plus StreamMargin, and the heartbeat watchdog). The caller's client is
	// never modified.
	shc := *hc
	shc.Timeout = 0
	c := &Client{
		url:       cfg.URL,
		hc:        hc,
		streamHC:  &shc,
		minute:    time.Minute,
		margin:    StreamMargin,
		version:   firstNonEmpty(cfg.ServerVersion, DefaultServerVersion),
		ua:        firstNonEmpty(cfg.UserAgent, "ExoCal"),
		debug:     cfg.Debug,
		retry:     cfg.Retry,
		log:       cfg.Logger,
		sessions:  map[string]*Session{},
		heartbeat: cfg.HeartbeatTimeout,
	}
	if c.heartbeat <= 0 {
		c.heartbeat = DefaultHeartbeatTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// URL returns the EWS endpoint.
func (c *Client) URL() string { return c.url }

// Session is the HTTP state shared by the requests of one mailbox or of one
// group of streaming subscriptions: a cookie jar of its own, the
// X-AnchorMailbox value and, for an affinity session, X-PreferServerAffinity
// and the cached X-BackEndOverrideCookie.
type Session struct {
	anchor   string
	affinity bool

	mu      sync.Mutex
	jar     *cookiejar.Jar
	backEnd string // X-BackEndOverrideCookie value (affinity sessions)
}

// NewSession returns a session routed to mailbox (X-AnchorMailbox).
func NewSession(mailbox string) *Session {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Session{anchor: mailbox, jar: jar}
}

// NewAffinitySession returns a session for a group of streaming
// subscriptions whose anchor mailbox is anchor: every request carries
// X-AnchorMailbox: anchor and X-PreferServerAffinity: true, and, once the
// anchor's Subscribe reply has set it, the X-BackEndOverrideCookie.
func NewAffinitySession(anchor string) *Session {
	s := NewSession(anchor)
	s.affinity = true
	return s
}

// Anchor returns the X-AnchorMailbox value.
func (s *Session) Anchor() string { return s.anchor }

// BackEndCookie returns the cached X-BackEndOverrideCookie value ("" before
// the anchor subscribed).
func (s *Session) BackEndCookie() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backEnd
}

const backEndCookieName = "X-BackEndOverrideCookie"

func (s *Session) addHeaders(req *http.Request) {
	req.Header.Set("X-AnchorMailbox", s.anchor)
	if s.affinity {
		req.Header.Set("X-PreferServerAffinity", "true")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ck := range s.jar.Cookies(req.URL) {
		if ck.Name == backEndCookieName {
			continue // sent below, from the cache, for affinity sessions only
		}
		req.AddCookie(ck)
	}
	if s.affinity && s.backEnd != "" {
		req.AddCookie(&http.Cookie{Name: backEndCookieName, Value: s.backEnd})
	}
}

func (s *Session) keepCookies(u *url.URL, resp *http.Response) {
	cookies := resp.Cookies()
	if len(cookies) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jar.SetCookies(u, cookies)
	if s.affinity {
		for _, ck := range cookies {
			if ck.Name == backEndCookieName && ck.Value != "" {
				s.backEnd = ck.Value
			}
		}
	}
}

// MailboxSession returns the session of mailbox, creating it on first use.
func (c *Client) MailboxSession(mailbox string) *Session {
	key := strings.ToLower(mailbox)
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sessions[key]
	if !ok {
		s = NewSession(mailbox)
		c.sessions[key] = s
	}
	return s
}

func (c *Client) sessionFor(s *Session, mailbox string) *Session {
	if s != nil {
		return s
	}
	return c.MailboxSession(mailbox)
}

// buildRequest marshals op into a SOAP envelope impersonating mailbox.
// GetItem, sent once per ten items, is written by hand (writeGetItem);
// TestBuildRequestFastPath holds it to encoding/xml's bytes.
func (c *Client) buildRequest(mailbox string, op any) ([]byte, error) {
	if r, ok := op.(*getItemRequest); ok {
		return c.buildGetItem(mailbox, r), nil
	}
	return c.buildRequestXML(mailbox, op)
}

// buildRequestXML marshals op and its envelope with encoding/xml.
func (c *Client) buildRequestXML(mailbox string, op any) ([]byte, error) {
	env := reqEnvelope{XmlnsSOAP: nsSOAP, XmlnsT: nsTypes, XmlnsM: nsMessages}
	env.Header.RequestServerVersion.Version = c.version
	if mailbox != "" {
		env.Header.Impersonation = &exchangeImpersonation{PrimarySmtpAddress: mailbox}
	}
	env.Body.Op = op
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(env); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// send posts op for mailbox through s and returns a 200 reply with its body
// unread. Any other outcome is an *Error.
func (c *Client) send(ctx context.Context, s *Session, opName, mailbox string, op any) (*http.Response, error) {
	return c.sendWith(ctx, c.hc, s, opName, mailbox, op)
}

// sendWith is send through hc.
func (c *Client) sendWith(ctx context.Context, hc *http.Client, s *Session, opName, mailbox string, op any) (*http.Response, error) {
	body, err := c.buildRequest(mailbox, op)
	if err != nil {
		return nil, fmt.Errorf("ews: %s: build request: %w", opName, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ews: %s: %w", opName, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Accept", "text/xml")
	req.Header.Set("User-Agent", c.ua)
	s.addHeaders(req)
	c.debug.logRequest(opName, req, body)

	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "ews call failed", "op", opName, "mailbox", mailbox, "err", err)
		return nil, &Error{Op: opName, Mailbox: mailbox, Err: err}
	}
	s.keepCookies(req.URL, resp)
	c.log.DebugContext(ctx, "ews call", "op", opName, "mailbox", mailbox, "status", resp.StatusCode,
		"elapsed", time.Since(start))
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	c.debug.logResponse(opName, resp, raw)
	e := &Error{
		Op: opName, Mailbox: mailbox, HTTPStatus: resp.StatusCode,
		Diagnostics:  resp.Header.Get("X-Ms-Diagnostics"),
		PolicyReason: resp.Header.Get("X-Ews-Policy-Reason"),
	}
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	if rerr == nil {
		var env struct {
			Fault *soapFault `xml:"Body>Fault"`
		}
		if xml.Unmarshal(raw, &env) == nil && env.Fault != nil {
			e.applyFault(env.Fault)
		}
	}
	return nil, e
}

func (e *Error) applyFault(f *soapFault) {
	e.FaultCode = strings.TrimSpace(f.FaultCode)
	e.FaultString = strings.TrimSpace(f.FaultString)
	e.ResponseCode = strings.TrimSpace(f.Detail.ResponseCode)
	if e.ResponseCode == "" {
		// faultcode is a QName such as "a:ErrorServerBusy".
		if i := strings.LastIndexByte(e.FaultCode, ':'); i >= 0 && strings.HasPrefix(e.FaultCode[i+1:], "Error") {
			e.ResponseCode = e.FaultCode[i+1:]
		}
	}
	e.MessageText = strings.TrimSpace(f.Detail.Message)
	e.BackOff = backOffFrom(f.Detail.MessageXML)
}

// call sends op and unmarshals the reply into out, which must have a
// `Fault *soapFault` field reachable through faultOf.
func (c *Client) call(ctx context.Context, s *Session, opName, mailbox string, op any, out faulter) error {
	resp, err := c.send(ctx, s, opName, mailbox, op)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := readBufs.Get().(*bytes.Buffer)
	defer putReadBuf(buf)
	if n := resp.ContentLength; n > 0 && n <= maxResponse {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxResponse))
	raw := buf.Bytes()
	c.debug.logResponse(opName, resp, raw)
	if err != nil {
		return &Error{Op: opName, Mailbox: mailbox, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("read reply: %w", err)}
	}
	if err := c.unmarshalReply(raw, out); err != nil {
		return &Error{Op: opName, Mailbox: mailbox, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("malformed reply: %w", err)}
	}
	if f := out.fault(); f != nil {
		e := &Error{Op: opName, Mailbox: mailbox, HTTPStatus: resp.StatusCode}
		e.applyFault(f)
		return e
	}
	return nil
}

// readBufs recycles the buffers replies are read into: nothing decoded
// from a reply refers to its bytes (the decoders copy), so a buffer is
// free again when call returns.
var readBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putReadBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // a rare big reply: let it go
	}
	b.Reset()
	readBufs.Put(b)
}

// unmarshalReply decodes a reply: GetItem and SyncFolderItems replies,
// the bulk of a sync, with hand-written walkers (getitem_parse.go,
// syncfolderitems_parse.go), the others with encoding/xml.
func (c *Client) unmarshalReply(raw []byte, out faulter) error {
	switch r := out.(type) {
	case *getItemResponse:
		return unmarshalGetItem(raw, r, &c.zones)
	case *syncFolderItemsResponse:
		return unmarshalSyncFolderItems(raw, r)
	}
	return xml.Unmarshal(raw, out)
}

// faulter is implemented by every reply type: it exposes the SOAP fault.
type faulter interface{ fault() *soapFault }

func (r *getFolderResponse) fault() *soapFault       { return r.Fault }
func (r *syncFolderItemsResponse) fault() *soapFault { return r.Fault }
func (r *getItemResponse) fault() *soapFault         { return r.Fault }
func (r *findItemResponse) fault() *soapFault        { return r.Fault }
func (r *subscribeResponse) fault() *soapFault       { return r.Fault }
func (r *unsubscribeResponse) fault() *soapFault     { return r.Fault }

// do runs fn under the retry decorator, if one is configured.
func (c *Client) do(ctx context.Context, op string, fn func(context.Context) error) error {
	if c.retry == nil {
		return fn(ctx)
	}
	return c.retry.Do(ctx, op, fn)
}

// errNoMessage is wrapped when a reply has no response message for the request.
var errNoMessage = errors.New("reply holds no response message")
