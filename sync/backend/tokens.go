package backend

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/exocal/exocal/sync/auth"
)

// tokens hands out tokens from an auth.TokenSource and swaps in a fresh
// one when Exchange refuses a token that has not expired (revoked: HTTP 401
// with x-ms-diagnostics error_category="invalid_token"); the source would
// otherwise keep handing out the cached token until it expires.
type tokens struct {
	mu   sync.Mutex
	cur  *auth.TokenSource
	make func() *auth.TokenSource
}

func (t *tokens) Token() (*oauth2.Token, error) { return t.current().Token() }

func (t *tokens) current() *auth.TokenSource {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur
}

// renew replaces the source unless another caller already did since old.
func (t *tokens) renew(old *auth.TokenSource) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == old {
		t.cur = t.make()
	}
}

// renewing is a RoundTripper (outside auth.Transport) that, on a revoked
// token, renews the token and sends the request once more.
type renewing struct {
	next   http.RoundTripper
	tokens *tokens
}

func revoked(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized &&
		strings.Contains(resp.Header.Get("X-Ms-Diagnostics"), "invalid_token")
}

func (r *renewing) RoundTrip(req *http.Request) (*http.Response, error) {
	used := r.tokens.current()
	resp, err := r.next.RoundTrip(req)
	if err != nil || !revoked(resp) || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	r.tokens.renew(used)
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return r.next.RoundTrip(retry)
}
