package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TokenSource hands out app-only access tokens for Exchange. It is safe for
// concurrent use; concurrent callers share one request to Entra.
type TokenSource struct {
	r      resolved
	cfgErr error
	ctx    context.Context

	mu    sync.Mutex
	reuse oauth2.TokenSource
}

// NewTokenSource returns a cached token source for cfg. ctx bounds every
// token request (as with golang.org/x/oauth2 token sources). A bad
// configuration is reported by the first Token call as a *ConfigError, and
// by Config.Validate before that.
func NewTokenSource(ctx context.Context, cfg Config) *TokenSource {
	r, err := cfg.resolve()
	s := &TokenSource{r: r, cfgErr: err, ctx: ctx}
	if err == nil {
		s.reuse = oauth2.ReuseTokenSourceWithExpiry(nil, fetcher{s}, r.early)
	}
	return s
}

// Invalidate drops the cached token, so that the next Token call fetches a
// new one. Call it when a resource rejected the token (HTTP 401 with
// invalid_token: revoked, or consent changed) — not on every error.
func (s *TokenSource) Invalidate() {
	if s.cfgErr != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reuse = oauth2.ReuseTokenSourceWithExpiry(nil, fetcher{s}, s.r.early)
}

// Token returns a valid token, fetching a new one only when the cached one
// is within EarlyExpiry of its expiry. It implements oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	if s.cfgErr != nil {
		return nil, s.cfgErr
	}
	s.mu.Lock()
	src := s.reuse
	s.mu.Unlock()
	return src.Token()
}

// Claims returns the claims of the current token (fetching one if needed).
func (s *TokenSource) Claims() (Claims, error) {
	tok, err := s.Token()
	if err != nil {
		return Claims{}, err
	}
	return ParseClaims(tok.AccessToken)
}

// CheckEWS fetches a token and checks its claims for EWS app-only access
// (see Claims.RequireEWS); it returns the claims either way.
func (s *TokenSource) CheckEWS() (Claims, error) {
	c, err := s.Claims()
	if err != nil {
		return c, err
	}
	return c, c.RequireEWS(s.r.cloud)
}

// Cloud is the cloud the source was configured for.
func (s *TokenSource) Cloud() Cloud { return s.r.cloud }

// TokenURL is the token endpoint ({authority}/{tenant}/oauth2/v2.0/token).
func (s *TokenSource) TokenURL() string { return s.r.tokenURL }

// Scope is the requested scope.
func (s *TokenSource) Scope() string { return s.r.scope }

// fetcher does one token request.
type fetcher struct{ s *TokenSource }

func (f fetcher) Token() (*oauth2.Token, error) {
	r := f.s.r
	cc := &clientcredentials.Config{
		ClientID: r.clientID,
		TokenURL: r.tokenURL,
		Scopes:   []string{r.scope},
		// The identity platform documents credentials in the body; fixing the
		// style avoids oauth2's auto-detection, which retries a failed
		// request in the other style (a second failing round trip).
		AuthStyle: oauth2.AuthStyleInParams,
	}
	var assertion string
	if r.cert != nil {
		var err error
		if assertion, err = r.cert.assertion(r.clientID, r.tokenURL, time.Now()); err != nil {
			return nil, err
		}
		cc.EndpointParams = url.Values{
			"client_assertion_type": {ClientAssertionType},
			"client_assertion":      {assertion},
		}
	} else {
		cc.ClientSecret = r.secret
	}
	ctx := context.WithValue(f.s.ctx, oauth2.HTTPClient, r.client)
	tok, err := cc.Token(ctx)
	if err != nil {
		err = f.classify(err, assertion)
		r.log.Debug("auth: token request failed", "token_url", r.tokenURL, "err", err)
		return nil, err
	}
	r.log.Debug("auth: token acquired", "token_url", r.tokenURL, "scope", r.scope, "expiry", tok.Expiry)
	return tok, nil
}

func (f fetcher) classify(err error, assertion string) error {
	r := f.s.r
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := decodeRetrieveError(re, r.secret, assertion)
		if e.Has(AADSTSInvalidSecret) && LooksLikeSecretID(r.secret) {
			e.SecretLooksLikeID = true
		}
		return e
	}
	host := r.tokenURL
	if u, perr := url.Parse(r.tokenURL); perr == nil {
		host = u.Host
	}
	if ne := ClassifyNetwork("token request", host, err); ne != nil {
		return ne
	}
	return fmt.Errorf("auth: token request to %s: %w", r.tokenURL, err)
}
