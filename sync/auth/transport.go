package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

type withoutTokenKey struct{}

// WithoutToken marks a request context so that Transport sends no token,
// whatever the host (used for unauthenticated endpoints such as
// Autodiscover V2, so that a redirect chain can never carry it).
func WithoutToken(ctx context.Context) context.Context {
	return context.WithValue(ctx, withoutTokenKey{}, true)
}

func tokenSuppressed(ctx context.Context) bool {
	v, _ := ctx.Value(withoutTokenKey{}).(bool)
	return v
}

// Transport adds "Authorization: Bearer <token>" to requests for allowed
// hosts only, over https (or plain http to a loopback host). Requests to
// any other host — including the hops of a redirect that http.Client
// follows — go out without it, and an Authorization header already on such
// a request is removed. The policy is applied per request, so it holds for
// every redirect hop.
type Transport struct {
	// Base does the HTTP; nil uses a private transport (never
	// http.DefaultTransport).
	Base http.RoundTripper
	// Source provides the token (a *TokenSource).
	Source oauth2.TokenSource
	// AllowedHosts decides per URL host (host[:port]) whether it may get the
	// token; see AllowHosts. nil allows no host.
	AllowedHosts func(hostport string) bool

	once sync.Once
	def  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		t.once.Do(func() { t.def = newDefaultClient().Transport })
		base = t.def
	}
	if !t.mayCarryToken(req) {
		if req.Header.Get("Authorization") != "" {
			req = cloneRequest(req)
			req.Header.Del("Authorization")
		}
		return base.RoundTrip(req)
	}
	if t.Source == nil {
		closeBody(req)
		return nil, errors.New("auth: transport has no token source")
	}
	tok, err := t.Source.Token()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	req = cloneRequest(req)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return base.RoundTrip(req)
}

// mayCarryToken applies the host policy.
func (t *Transport) mayCarryToken(req *http.Request) bool {
	if req.URL == nil || tokenSuppressed(req.Context()) || t.AllowedHosts == nil {
		return false
	}
	switch req.URL.Scheme {
	case "https":
	case "http":
		if !IsLoopback(req.URL.Host) {
			return false
		}
	default:
		return false
	}
	return t.AllowedHosts(req.URL.Host)
}

// NewClient returns a copy of base (nil: a private default client) whose
// transport adds the token per the policy of Transport.
func NewClient(base *http.Client, src oauth2.TokenSource, allowed func(hostport string) bool) *http.Client {
	if base == nil {
		base = newDefaultClient()
	}
	c := *base
	c.Transport = &Transport{Base: base.Transport, Source: src, AllowedHosts: allowed}
	return &c
}

func cloneRequest(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// String describes the transport without its token.
func (t *Transport) String() string {
	return fmt.Sprintf("auth.Transport{allowed hosts: %t}", t.AllowedHosts != nil)
}
