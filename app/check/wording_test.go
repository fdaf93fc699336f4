package check

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/ews"
)

// resetErr is what ews.Client returns when the server resets the
// connection (the emulator's "reset" fault): the transport's *url.Error
// inside an *ews.Error.
func resetErr(rawURL, mailbox string) error {
	return &ews.Error{Op: "SyncFolderItems", Mailbox: mailbox, Err: &url.Error{Op: "Post", URL: rawURL,
		Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}}
}

// TestExplainHostFromError: with the EWS URL found by autodiscover (the
// ews_url setting empty), a connection failure names the host the
// request went to, taken from the error.
func TestExplainHostFromError(t *testing.T) {
	t.Parallel()
	s := config.Defaults()
	s.User = "alice@contoso.com"
	tests := []struct {
		name, ewsURL, reqURL, want string
	}{
		{"autodiscovered", "", "http://127.0.0.1:8443/EWS/Exchange.asmx", "The connection to 127.0.0.1:8443 failed."},
		{"setting", "https://mail.contoso.com/EWS/Exchange.asmx", "https://mail.contoso.com/EWS/Exchange.asmx", "The connection to mail.contoso.com failed."},
		{"nothing known", "", "", "The connection to the EWS server failed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s
			s.EWSURL = tt.ewsURL
			got := explain(resetErr(tt.reqURL, "bob@contoso.com"), s, emuTenantID, emuClientID, "", envOf("OTHER", ""))
			if got.Finding != tt.want {
				t.Errorf("got %q, want %q", got.Finding, tt.want)
			}
		})
	}
}

// badWording finds what an empty interpolated value leaves in a
// sentence: doubled or dangling spaces, a space before punctuation, empty
// quotes or parentheses, "to failed". Lines are checked after their
// indentation (fixes indent command lines on purpose).
func badWording(text string) string {
	for _, line := range strings.Split(text, "\n") {
		line = aligned.ReplaceAllString(strings.TrimLeft(line, " "), "$1 ")
		if m := holes.FindString(line); m != "" {
			return strconv.Quote(m) + " in " + strconv.Quote(line)
		}
	}
	return ""
}

// holes are what an empty value leaves behind.
var holes = regexp.MustCompile(`  | [.,:;)]( |$)|\( | \(\)|""|''| $|to failed|at \.|for \.|of \.|for \(|AADSTS0\b|HTTP 0\b|-Identity [|-]|within 0s| > >|\(,`)

// aligned matches the spaces that line up a fix's columns on purpose.
var aligned = regexp.MustCompile(`(\):|8080) {2,}`)

// TestWordingWithEmptyFacts runs every finding template with no facts
// (no tenant, client, user, mailbox, authority, EWS URL, timeout) and
// errors that carry as little as their kind allows: no sentence may show
// the hole an empty value leaves.
func TestWordingWithEmptyFacts(t *testing.T) {
	t.Parallel()
	entra := func(code int) error {
		return &auth.EntraError{Code: "invalid_client", AADSTS: code, Codes: []int{code}, HTTPStatus: 400}
	}
	network := func(kind auth.NetworkKind, op string) error {
		return &auth.NetworkError{Op: op, Kind: kind, Err: errors.New("boom")}
	}
	ewsErr := func(e ews.Error) error { e.Op = "SyncFolderItems"; return &e }
	errs := map[string]error{
		"no roles":           &auth.ClaimsError{Err: auth.ErrNoRoles},
		"missing role":       &auth.ClaimsError{Err: auth.ErrMissingRole},
		"wrong audience":     &auth.ClaimsError{Err: auth.ErrWrongAudience},
		"tenant alias":       &auth.ConfigError{Field: "tenant_id", Reason: ""},
		"config":             &auth.ConfigError{},
		"certificate config": &auth.ConfigError{Field: "certificate"},
		"missing credential": entra(auth.AADSTSMissingCredential),
		"invalid secret":     entra(auth.AADSTSInvalidSecret),
		"secret expired":     entra(auth.AADSTSSecretExpired),
		"wrong cloud":        entra(auth.AADSTSWrongCloud),
		"tenant not found":   entra(auth.AADSTSTenantNotFound),
		"app disabled":       entra(auth.AADSTSAppDisabled),
		"app not found":      entra(auth.AADSTSAppNotFound),
		"bad scope":          entra(auth.AADSTSInvalidScope),
		"conditional access": entra(auth.AADSTSConditionalAccess),
		"consent":            entra(auth.AADSTSConsentRequired),
		"invalid cert":       entra(auth.AADSTSAssertionSignature),
		"clock":              entra(auth.AADSTSAssertionTime),
		"entra other":        &auth.EntraError{},
		"dns":                network(auth.NetworkDNS, ""),
		"tls":                network(auth.NetworkTLS, "token request"),
		"proxy":              network(auth.NetworkProxy, "autodiscover SOAP"),
		"timeout":            network(auth.NetworkTimeout, "EWS"),
		"connect":            network(auth.NetworkConnect, ""),
		"network other":      network(auth.NetworkOther, ""),
		"ews reset":          resetErr("", ""),
		"ews blocked":        ewsErr(ews.Error{HTTPStatus: 403, PolicyReason: "EWS disabled"}),
		"ews not allowed":    ewsErr(ews.Error{HTTPStatus: 403, PolicyReason: "app not in allow list"}),
		"ews consent":        ewsErr(ews.Error{HTTPStatus: 401, Diagnostics: "2000008;reason=no roles"}),
		"ews auth":           ewsErr(ews.Error{HTTPStatus: 401}),
		"mailbox not found":  ewsErr(ews.Error{HTTPStatus: 200, ResponseCode: "ErrorNonExistentMailbox"}),
		"impersonation":      ewsErr(ews.Error{HTTPStatus: 200, ResponseCode: "ErrorImpersonateUserDenied"}),
		"ews 403":            ewsErr(ews.Error{HTTPStatus: 403}),
		"throttled":          ewsErr(ews.Error{HTTPStatus: 503}),
		"ews other":          ewsErr(ews.Error{HTTPStatus: 500}),
		"ews canceled":       ewsErr(ews.Error{Err: context.Canceled}),
		"autodiscover":       &autodiscover.Error{Op: autodiscover.MethodSOAP},
		"autodiscover 401":   &autodiscover.Error{Op: autodiscover.MethodSOAP, HTTPStatus: 401},
		"autodiscover 404":   &autodiscover.Error{Op: autodiscover.MethodSOAP, HTTPStatus: 404},
		"autodiscover busy":  &autodiscover.Error{Op: autodiscover.MethodSOAP, HTTPStatus: 503},
		"redirect":           &autodiscover.RedirectError{},
	}
	check := func(t *testing.T, where string, fd finding) {
		t.Helper()
		if fd.finding == "" {
			t.Errorf("%s: got no finding", where)
		}
		if why := badWording(fd.finding); why != "" {
			t.Errorf("%s: finding %q: got %s", where, fd.finding, why)
		}
		if why := badWording(fd.fix); why != "" {
			t.Errorf("%s: fix:\n%s\ngot %s", where, fd.fix, why)
		}
	}
	for name, err := range errs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Explain with empty settings and registration …
			ex := explain(err, config.Settings{}, "", "", "", func(string) string { return "" })
			check(t, "Explain", finding{ex.Cause, ex.Finding, ex.Fix})
			// … and the classifiers with zero facts (the check's runner
			// before any step filled them in).
			var f facts
			f.getenv = func(string) string { return "" }
			var ee *ews.Error
			var ae *autodiscover.Error
			var re *autodiscover.RedirectError
			switch {
			case errors.As(err, &ee):
				check(t, "classifyEWS", classifyEWS(err, f, ""))
			case errors.As(err, &ae), errors.As(err, &re):
				check(t, "classifyAutodiscover", classifyAutodiscover(err, f, ""))
			case auth.IsEntra(err), auth.IsConfig(err), auth.IsNetwork(err):
				check(t, "classifyToken", classifyToken(err, f))
			}
		})
	}
	// The explanation of a sync error that names nothing at all.
	check(t, "canceled", classifyToken(context.Canceled, facts{}))
	_ = time.Second
}
