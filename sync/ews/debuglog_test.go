package ews

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func TestDebugLogRedacts(t *testing.T) {
	t.Parallel()
	const (
		token   = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sifQ.c2lnbmF0dXJlX3NlY3JldA"
		secret  = "Q~s3cr3tValue.ABCdef"
		backend = "CO1PR06MB222.namprd06.prod.outlook.com~1941996295"
		xcookie = "ddb8c383aef34c7694132aa679744feb"
	)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("server got Authorization %q", got)
		}
		http.SetCookie(w, &http.Cookie{Name: "exchangecookie", Value: xcookie})
		http.SetCookie(w, &http.Cookie{Name: "X-BackEndOverrideCookie", Value: backend})
		switch op {
		case "Subscribe":
			replay(t, w, "msdocs/25-subscribe-streaming-response.xml")
		default:
			// a fault that echoes secrets, as a misbehaving proxy might
			w.WriteHeader(500)
			fmt.Fprintf(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>Bearer %s client_secret=%s</faultstring></s:Fault></s:Body></s:Envelope>`, token, secret)
		}
	})
	path := filepath.Join(t.TempDir(), "ews-debug.log")
	log, err := OpenDebugLog(path, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	hc := f.srv.Client()
	hc.Transport = bearer{token, hc.Transport}
	c := f.client(Config{HTTPClient: hc, Debug: log})
	s := NewAffinitySession("a@contoso.com")
	ctx := context.Background()
	if _, err := c.Subscribe(ctx, s, "a@contoso.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, s, "b@contoso.com"); err != nil { // sends the cookies
		t.Fatal(err)
	}
	c.GetFolder(ctx, s, "a@contoso.com")
	log.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<m:Subscribe>", "SubscribeResponse", "GetFolder", "Set-Cookie: X-BackEndOverrideCookie=[REDACTED]", "Cookie: exchangecookie=[REDACTED]"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, leak := range []string{token, secret, backend, xcookie, "eyJ0eXAi"} {
		if bytes.Contains(b, []byte(leak)) {
			t.Errorf("log contains the secret %q", leak)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("got mode %v, want 0600", st.Mode().Perm())
	}
}

func TestDebugLogRotates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ews-debug.log")
	log, err := OpenDebugLog(path, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		fmt.Fprintf(log, "entry %02d %s\n", i, strings.Repeat("x", 90))
	}
	log.Close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("got %v, want %s", err, p)
		}
		if st.Size() > 1000 {
			t.Errorf("%s: got %d bytes, want at most 1000", p, st.Size())
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: got mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("got %s.3, want at most 2 old files", path)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte("entry 39")) {
		t.Errorf("the newest entry is not in the current file")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Authorization: Bearer abc.def", "Authorization: Bearer [REDACTED]"},
		{"grant_type=client_credentials&client_secret=xyz~1&scope=s", "grant_type=client_credentials&client_secret=[REDACTED]&scope=s"},
		{`{"access_token":"tok","x":1}`, `{"access_token":"[REDACTED]","x":1}`},
		{"id eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.sig end", "id [REDACTED] end"},
		{"Cookie: X-BackEndOverrideCookie=srv~1", "Cookie: X-BackEndOverrideCookie=[REDACTED]"},
		{"<t:Subject>hello</t:Subject>", "<t:Subject>hello</t:Subject>"},
	}
	for _, tt := range tests {
		if got := string(Redact([]byte(tt.in))); got != tt.want {
			t.Errorf("Redact(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
