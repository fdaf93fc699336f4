package autodiscover_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/emulator"
)

// TestDebugLogAgainstEmulator: with Request.Debug set, every exchange is
// written — the SOAP GetUserSettings request and reply, and when SOAP
// refuses authentication the 401 and the Autodiscover V2 exchange — and no
// secret reaches it.
func TestDebugLogAgainstEmulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		modes []emulator.Mode
		want  []string
	}{
		{"soap", nil, []string{"autodiscover soap request\nPOST ", "<a:GetUserSettingsRequestMessage", "autodiscover soap response\n200 OK", "ExternalEwsUrl"}},
		{"soap 401, then v2", []emulator.Mode{emulator.ModeAutodiscover401}, []string{"autodiscover soap request\nPOST ", "autodiscover soap response\n401",
			"autodiscover v2 request\nGET ", "autodiscover v2 response\n200 OK", `"Url"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, req, mailbox := setup(t, tc.modes...)
			var log bytes.Buffer
			req.User, req.Debug = mailbox, &log
			if _, err := autodiscover.Discover(context.Background(), req); err != nil {
				t.Fatalf("Discover: %v", err)
			}
			got := log.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("got a debug log without %q:\n%s", w, got)
				}
			}
			for _, leak := range []string{emuSecret, "eyJ"} {
				if strings.Contains(got, leak) {
					t.Errorf("got %q in the debug log, want it absent", leak)
				}
			}
		})
	}
}

// TestDebugLogRedactsHeaders: cookies and credentials in the headers of
// an exchange are written with their values redacted, and a failed
// request is logged too.
func TestDebugLogRedactsHeaders(t *testing.T) {
	t.Parallel()
	const cookie, bearer = "srv-cookie-value-42", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "X-BackEndOverrideCookie", Value: cookie, Path: "/"})
		w.Header().Set("WWW-Authenticate", "Bearer realm=x")
		w.Header().Set("Proxy-Authorization", "Basic "+bearer)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "refused")
	}))
	defer srv.Close()
	var log bytes.Buffer
	req := autodiscover.Request{
		User: "a@contoso.com", AutodiscoverURL: srv.URL, V2URL: srv.URL + "/nothing-here", Cloud: auth.Cloud{},
		HTTPClient: srv.Client(), AllowedHost: func(string) bool { return true }, Debug: &log,
	}
	if _, err := autodiscover.Discover(context.Background(), req); err == nil {
		t.Fatal("Discover: got nil, want an error (the server refuses)")
	}
	got := log.String()
	for _, w := range []string{"Set-Cookie: X-BackEndOverrideCookie=[REDACTED]; Path=/", "Proxy-Authorization: Basic [REDACTED]", "refused"} {
		if !strings.Contains(got, w) {
			t.Errorf("got a debug log without %q:\n%s", w, got)
		}
	}
	for _, leak := range []string{cookie, bearer} {
		if strings.Contains(got, leak) {
			t.Errorf("got %q in the debug log, want it redacted", leak)
		}
	}

	// A request that gets no reply at all is logged as failed.
	srv.Close()
	log.Reset()
	autodiscover.Discover(context.Background(), req)
	if got := log.String(); !strings.Contains(got, "autodiscover soap failed") {
		t.Errorf("got a debug log without the failed request:\n%s", got)
	}
}
