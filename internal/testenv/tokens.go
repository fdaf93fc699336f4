package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
)

// TokenRecorder is an http.RoundTripper that keeps every access token an
// OAuth token endpoint hands out, so a test can assert that none of them
// reaches any output.
type TokenRecorder struct {
	base http.RoundTripper

	mu     sync.Mutex
	tokens []string
}

// NewTokenRecorder records the tokens of responses that pass through base.
func NewTokenRecorder(base http.RoundTripper) *TokenRecorder {
	return &TokenRecorder{base: base}
}

// RoundTrip passes req on and notes the access_token of a token endpoint's
// answer.
func (t *TokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token") {
		return resp, err
	}
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(b, &tok) == nil && tok.AccessToken != "" {
		t.mu.Lock()
		t.tokens = append(t.tokens, tok.AccessToken)
		t.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// All returns the tokens recorded so far.
func (t *TokenRecorder) All() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.tokens...)
}
