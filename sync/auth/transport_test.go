package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

type staticSource struct{ tok string }

func (s staticSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: s.tok, TokenType: "Bearer"}, nil
}

// recorder is a loopback server that records the Authorization header of
// every request it gets.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...)
}

func TestTransportHostPolicy(t *testing.T) {
	t.Parallel()
	const tok = "eyJ0eXAi.secret-token.sig"
	other := newRecorder(t, nil)
	trusted := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		}
	})
	global, _ := LookupCloud(CloudGlobal)
	client := NewClient(nil, staticSource{tok}, AllowHosts(global, trusted.URL))

	tests := []struct {
		name        string
		url         string
		ctx         context.Context
		wantTrusted []string
		wantOther   []string
	}{
		{"allowed host", trusted.URL + "/ews", context.Background(), []string{"Bearer " + tok}, nil},
		{"not allowed host", other.URL + "/ews", context.Background(), nil, []string{""}},
		{"redirect to another host", trusted.URL + "/redirect", context.Background(), []string{"Bearer " + tok}, []string{""}},
		{"suppressed", trusted.URL + "/v2", WithoutToken(context.Background()), []string{""}, nil},
	}
	for _, tc := range tests { // sequential: the servers are shared
		beforeT, beforeO := len(trusted.seen()), len(other.seen())
		req, _ := http.NewRequestWithContext(tc.ctx, http.MethodGet, tc.url, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		gotT, gotO := trusted.seen()[beforeT:], other.seen()[beforeO:]
		if strings.Join(gotT, "|") != strings.Join(tc.wantTrusted, "|") {
			t.Errorf("%s: trusted host saw %q, want %q", tc.name, gotT, tc.wantTrusted)
		}
		if strings.Join(gotO, "|") != strings.Join(tc.wantOther, "|") {
			t.Errorf("%s: other host saw %q, want %q", tc.name, gotO, tc.wantOther)
		}
	}
}

// A header put on the request by someone else is removed for hosts that
// may not see it.
func TestTransportStripsForeignAuthorization(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, nil)
	tr := &Transport{Source: staticSource{"x"}, AllowedHosts: func(string) bool { return false }}
	req, _ := http.NewRequest(http.MethodGet, other.URL, nil)
	req.Header.Set("Authorization", "Bearer leaked")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := other.seen(); len(got) != 1 || got[0] != "" {
		t.Errorf("Authorization seen: got %q, want none", got)
	}
	if req.Header.Get("Authorization") != "Bearer leaked" {
		t.Errorf("caller's request was modified")
	}
}

func TestTransportNeverOverPlainHTTPToRemote(t *testing.T) {
	t.Parallel()
	tr := &Transport{Source: staticSource{"x"}, AllowedHosts: func(string) bool { return true }}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://outlook.office365.com/EWS/Exchange.asmx", true},
		{"http://outlook.office365.com/EWS/Exchange.asmx", false},
		{"http://127.0.0.1:8080/EWS/Exchange.asmx", true},
		{"http://[::1]:8080/EWS/Exchange.asmx", true},
		{"ftp://127.0.0.1/", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		if got := tr.mayCarryToken(req); got != tc.want {
			t.Errorf("mayCarryToken(%s): got %t, want %t", tc.url, got, tc.want)
		}
	}
}

func TestAllowHosts(t *testing.T) {
	t.Parallel()
	global, _ := LookupCloud(CloudGlobal)
	allow := AllowHosts(global, "https://autodiscover.contoso.com", "http://127.0.0.1:5555", "", "::bad")
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"autodiscover.contoso.com", true},
		{"AUTODISCOVER.contoso.com:443", true},
		{"autodiscover.contoso.com:444", false},
		{"127.0.0.1:5555", true},
		{"127.0.0.1:5556", false},
		{"outlook.office365.com", true},
		{"autodiscover-s.outlook.com", true},
		{"outlook.com.evil.example", false},
		{"evil-outlook.com", false},
		{"contoso.com", false},
	} {
		if got := allow(tc.host); got != tc.want {
			t.Errorf("allow(%q): got %t, want %t", tc.host, got, tc.want)
		}
	}
}

type errTransport struct{ err error }

func (e errTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, e.err }

func TestNetworkErrorsClassified(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	tests := []struct {
		name      string
		authority string
		transport http.RoundTripper
		want      NetworkKind
	}{
		{"connection refused", deadURL(t), nil, NetworkConnect},
		{"untrusted certificate", tlsSrv.URL, nil, NetworkTLS},
		{"dns", "https://login.microsoftonline.com", errTransport{&net.DNSError{Err: "no such host", Name: "login.microsoftonline.com", IsNotFound: true}}, NetworkDNS},
		{"proxy", "https://login.microsoftonline.com", errTransport{&net.OpError{Op: "proxyconnect", Net: "tcp", Err: errors.New("connection refused")}}, NetworkProxy},
		{"timeout", "https://login.microsoftonline.com", errTransport{context.DeadlineExceeded}, NetworkTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := secretConfig(tc.authority)
			if tc.transport != nil {
				cfg.HTTPClient = &http.Client{Transport: tc.transport}
			}
			_, err := NewTokenSource(context.Background(), cfg).Token()
			var ne *NetworkError
			if !errors.As(err, &ne) || !IsNetwork(err) {
				t.Fatalf("got %T %v, want *NetworkError", err, err)
			}
			if ne.Kind != tc.want {
				t.Errorf("kind: got %q, want %q (%v)", ne.Kind, tc.want, err)
			}
			if IsEntra(err) {
				t.Errorf("IsEntra: got true for a network error")
			}
		})
	}
	var ue error = &url.Error{Op: "Post", URL: "x", Err: errors.New("some protocol thing")}
	if ClassifyNetwork("op", "h", ue) != nil {
		t.Errorf("ClassifyNetwork(non-network): got non-nil, want nil")
	}
}
