package check

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/auth"
)

// Findings the emulator cannot produce, classified from Microsoft's
// documented answer shapes served by httptest servers (and local network
// failures), all on loopback.

// entraError writes an Entra token-endpoint error as the identity platform
// documents it (error, error_description, error_codes, timestamp, trace_id,
// correlation_id).
func entraError(status int, kind string, code int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{
			"error":             kind,
			"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: 0c1d Correlation ID: 7e8f Timestamp: 2026-11-27 10:00:00Z", code, msg),
			"error_codes":       []int{code},
			"timestamp":         "2026-11-27 10:00:00Z",
			"trace_id":          "0c1d2e3f-0000-4000-8000-000000000001",
			"correlation_id":    "7e8f9a0b-0000-4000-8000-000000000002",
			"error_uri":         "https://login.microsoftonline.com/error?code=" + fmt.Sprint(code),
		})
	}
}

// unsignedJWT builds a token-shaped string with these claims (the check
// reads claims without verifying signatures, as Exchange is the verifier).
func unsignedJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]any{"typ": "JWT", "alg": "RS256"})
	c, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "." + enc.EncodeToString([]byte("signature-bytes-that-are-long-enough"))
}

func tokenReply(tok string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": tok})
	}
}

// loneInput is an Input whose authority is url (no emulator).
func loneInput(t *testing.T, authority string, hc *http.Client) Input {
	t.Helper()
	in := baseInput(t, []string{"user001@contoso.onmicrosoft.com"}, "", hc)
	// Not Microsoft's authority: autodiscover needs a server of its own.
	in.Settings.AuthorityHost, in.Settings.AutodiscoverURL = authority, authority
	return in
}

func TestTokenFindingsFromEntraShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		step    string
		cause   Cause
		state   State
		finding []string
		fix     []string
	}{
		{"conditional access", entraError(400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."),
			StepToken, CauseConditionalAccess, StateFailed, []string{"Conditional Access", "AADSTS53003"}, []string{"workload identities", "Service principal sign-ins", "7e8f9a0b-0000-4000-8000-000000000002", emuClientID}},
		{"bad scope (not /.default)", entraError(400, "invalid_scope", 1002012, "The provided value for scope openid is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
			StepToken, CauseBadScope, StateFailed, []string{"scope", "AADSTS1002012", "https://outlook.office365.com/.default"}, []string{"authority_host"}},
		{"bad scope (resource unknown)", entraError(400, "invalid_resource", 500011, "The resource principal named https://outlook.office365.us was not found in the tenant named Contoso."),
			StepToken, CauseBadScope, StateFailed, []string{"AADSTS500011"}, []string{"Exchange Online"}},
		{"wrong cloud", entraError(400, "invalid_request", 90038, "Tenant 'x' request is being redirected to the National Cloud 'Microsoft Azure Government'."),
			StepToken, CauseWrongCloud, StateFailed, []string{"another Microsoft cloud", "AADSTS90038"}, []string{"https://login.microsoftonline.us", "exocal config set authority_host"}},
		{"consent required", entraError(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application."),
			StepToken, CauseConsentMissing, StateFailed, []string{"AADSTS65001"}, []string{"Grant admin consent for"}},
		{"app disabled", entraError(400, "unauthorized_client", 7000112, "Application is disabled."),
			StepToken, CauseAppNotFound, StateFailed, []string{"disabled", "AADSTS7000112"}, []string{"Enterprise applications"}},
		{"unknown AADSTS", entraError(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."),
			StepToken, CauseEntraOther, StateFailed, []string{"AADSTS9002313"}, []string{"login.microsoftonline.com/error?code=9002313"}},
		{"manifest lacks full_access_as_app", tokenReply(unsignedJWT(map[string]any{
			"aud": "https://outlook.office365.com", "tid": emuTenantID, "appid": emuClientID, "roles": []string{"Mail.Read"}, "exp": time.Now().Add(time.Hour).Unix()})),
			StepClaims, CauseMissingRole, StateFailed, []string{"Mail.Read", "full_access_as_app"},
			[]string{"Manifest", `"resourceAppId": "00000002-0000-0ff1-ce00-000000000000"`, `"id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40"`, `"type": "Role"`, "Grant admin consent"}},
		{"token for another resource", tokenReply(unsignedJWT(map[string]any{
			"aud": "https://graph.microsoft.com", "tid": emuTenantID, "appid": emuClientID, "roles": []string{"full_access_as_app"}, "exp": time.Now().Add(time.Hour).Unix()})),
			StepClaims, CauseWrongAudience, StateFailed, []string{"https://graph.microsoft.com"}, []string{"authority_host"}},
		{"token for another tenant", tokenReply(unsignedJWT(map[string]any{
			"aud": "https://outlook.office365.com", "tid": "11111111-2222-4333-8444-555555555555", "appid": emuClientID, "roles": []string{"full_access_as_app"}, "exp": time.Now().Add(time.Hour).Unix()})),
			StepClaims, CauseWrongTenantToken, StateWarning, []string{"11111111-2222-4333-8444-555555555555"}, []string{"tenant_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(tt.handler)
			t.Cleanup(ts.Close)
			rep := Run(context.Background(), loneInput(t, ts.URL, nil), nil)
			s, ok := rep.Step(tt.step)
			if !ok || s.State != tt.state || s.Cause != tt.cause {
				t.Fatalf("step %s: got %s/%q, want %s/%q:\n%s", tt.step, s.State, s.Cause, tt.state, tt.cause, stepsSummary(rep))
			}
			assertWording(t, s, tt.finding, tt.fix)
			if tt.state == StateFailed && rep.ExitCode() != ExitSetup {
				t.Errorf("exit code: got %d, want %d", rep.ExitCode(), ExitSetup)
			}
			assertNoSecrets(t, rep, []string{emuSecret}, nil)
		})
	}
}

// TestEntraEchoingTheSecretIsRedacted: even if the token endpoint echoed
// the secret back, no output carries it.
func TestEntraEchoingTheSecretIsRedacted(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(entraError(401, "invalid_client", 7000215, "Invalid client secret provided: '"+emuSecret+"'."))
	t.Cleanup(ts.Close)
	rep := Run(context.Background(), loneInput(t, ts.URL, nil), nil)
	if s, _ := rep.Step(StepToken); s.Cause != CauseInvalidSecret {
		t.Fatalf("got %q, want %q", s.Cause, CauseInvalidSecret)
	}
	assertNoSecrets(t, rep, []string{emuSecret}, nil)
}

// TestEWSFindingsFromExchangeShapes: token and claims from the emulator,
// EWS (ews_url) from an httptest server answering as Exchange Online does.
func TestEWSFindingsFromExchangeShapes(t *testing.T) {
	t.Parallel()
	getFolderError := func(code, text string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>%s</m:MessageText><m:ResponseCode>%s</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Folders/></m:GetFolderResponseMessage></m:ResponseMessages>
</m:GetFolderResponse></s:Body></s:Envelope>`, text, code)
		}
	}
	status := func(code int, hdr map[string]string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			w.WriteHeader(code)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		step    string
		state   State
		cause   Cause
		ewsStep State // the EWS step's state
		finding []string
		fix     []string
		exit    int
	}{
		{"licence: 403 without X-EWS-Policy-Reason", status(403, nil), StepUserCalendar, StateFailed, CauseEWSUnlicensed, StateWarning,
			[]string{"403", "without X-EWS-Policy-Reason", "Inferred", "F1/F3/Kiosk"}, []string{"Licenses", "Get-CASMailbox -Identity", "EwsEnabled"}, ExitFailed},
		{"consent not yet in Exchange: 401 with 2000008", status(401, map[string]string{
			"x-ms-diagnostics": `2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"`,
			"WWW-Authenticate": `Bearer client_id="00000002-0000-0ff1-ce00-000000000000"`}),
			StepEWS, StateFailed, CauseConsentMissing, StateFailed, []string{"2000008", "admin consent"}, []string{"Grant admin consent for", "Wait a few minutes"}, ExitSetup},
		{"token refused: 401 invalid_token", status(401, map[string]string{"x-ms-diagnostics": `2000001;reason="The token is invalid.";error_category="invalid_token"`}),
			StepEWS, StateFailed, CauseEWSAuth, StateFailed, []string{"401", "2000001"}, []string{"Tenant ID"}, ExitSetup},
		{"access denied by an application access policy", getFolderError("ErrorAccessDenied", "Access is denied. Check credentials and try again."),
			StepUserCalendar, StateFailed, CauseMailboxAccessDenied, StateOK, []string{"ErrorAccessDenied"}, []string{"Test-ApplicationAccessPolicy", "Test-ServicePrincipalAuthorization"}, ExitFailed},
		{"throttled: 503", status(503, map[string]string{"Retry-After": "2"}), StepEWS, StateFailed, CauseEWSThrottled, StateFailed,
			[]string{"busy"}, []string{"again"}, ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			ts := httptest.NewServer(tt.handler)
			t.Cleanup(ts.Close)
			f.in.Settings.EWSURL = ts.URL + "/EWS/Exchange.asmx"
			rep := Run(context.Background(), f.in, nil)
			e, _ := rep.Step(StepEWS)
			if e.State != tt.ewsStep {
				t.Errorf("EWS step: got %s, want %s:\n%s", e.State, tt.ewsStep, stepsSummary(rep))
			}
			s, _ := rep.Step(tt.step)
			if s.State != tt.state || s.Cause != tt.cause {
				t.Fatalf("step %s: got %s/%q, want %s/%q:\n%s", tt.step, s.State, s.Cause, tt.state, tt.cause, stepsSummary(rep))
			}
			assertWording(t, s, tt.finding, tt.fix)
			if got := rep.ExitCode(); got != tt.exit {
				t.Errorf("exit code: got %d, want %d", got, tt.exit)
			}
			assertNoSecrets(t, rep, []string{emuSecret}, f.rec.All())
		})
	}
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// expiredTLSServer serves TLS with a certificate that expired yesterday,
// and returns a client that trusts it (so only the dates are wrong).
func expiredTLSServer(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return ts, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestNetworkFindings(t *testing.T) {
	t.Parallel()
	const proxyPassword = "pr0xy-p4ssw0rd"
	tests := []struct {
		name    string
		setup   func(t *testing.T) (authority string, hc *http.Client, env map[string]string, timeout time.Duration)
		cause   Cause
		finding []string
		fix     []string
	}{
		{"DNS failure", func(t *testing.T) (string, *http.Client, map[string]string, time.Duration) {
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, _ := net.SplitHostPort(addr)
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
			}}
			return "https://login.microsoftonline.com", &http.Client{Transport: tr}, nil, 0
		}, CauseNetworkDNS, []string{"login.microsoftonline.com", "DNS"}, []string{"export HTTPS_PROXY="}},
		{"TLS: untrusted certificate", func(t *testing.T) (string, *http.Client, map[string]string, time.Duration) {
			ts := httptest.NewTLSServer(http.NotFoundHandler())
			t.Cleanup(ts.Close)
			return ts.URL, &http.Client{Transport: &http.Transport{}}, nil, 0
		}, CauseNetworkTLS, []string{"TLS", "not trusted"}, []string{"update-ca-certificates", "Never turn certificate checks off"}},
		{"TLS: certificate expired for this clock", func(t *testing.T) (string, *http.Client, map[string]string, time.Duration) {
			ts, hc := expiredTLSServer(t)
			return ts.URL, hc, nil, 0
		}, CauseClockSkew, []string{"validity period", "clock"}, []string{"timedatectl"}},
		{"connection refused", func(t *testing.T) (string, *http.Client, map[string]string, time.Duration) {
			return "http://" + closedPort(t), &http.Client{Transport: &http.Transport{}}, nil, 0
		}, CauseNetworkConnect, []string{"Cannot connect"}, []string{"Nothing answers there on this computer", "exocal emulator"}}, // a loopback address: no firewall or proxy advice
		{"proxy failing", func(t *testing.T) (string, *http.Client, map[string]string, time.Duration) {
			p := "http://exocal:" + proxyPassword + "@" + closedPort(t)
			pu, _ := url.Parse(p)
			tr := &http.Transport{Proxy: http.ProxyURL(pu)}
			return "https://login.microsoftonline.com", &http.Client{Transport: tr}, map[string]string{"HTTPS_PROXY": p}, 0
		}, CauseNetworkProxy, []string{"proxy", "HTTPS_PROXY=http://127.0.0.1:"}, []string{"proxy address"}},
		{"timeout", func(t *testing.T) (string, *http.Client, map[string]string, time.Duration) {
			block := make(chan struct{})
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-block:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(func() { close(block); ts.Close() })
			return ts.URL, &http.Client{Transport: &http.Transport{}}, nil, 300 * time.Millisecond
		}, CauseNetworkTimeout, []string{"No answer"}, []string{"firewall"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authority, hc, env, timeout := tt.setup(t)
			in := loneInput(t, authority, hc)
			in.Getenv = func(k string) string { return env[k] }
			if timeout > 0 {
				in.StepTimeout = timeout
			}
			rep := Run(context.Background(), in, nil)
			s, _ := rep.Step(StepToken)
			if s.State != StateFailed || s.Cause != tt.cause {
				t.Fatalf("token step: got %s/%q, want failed/%q:\n%s\ndetail: %s", s.State, s.Cause, tt.cause, stepsSummary(rep), s.Detail)
			}
			assertWording(t, s, tt.finding, tt.fix)
			assertNoSecrets(t, rep, []string{emuSecret, proxyPassword}, nil)
		})
	}
}

// TestRegistrationGiven: callers that loaded the registration themselves
// (the settings window) pass it with the error of loading it.
func TestRegistrationGiven(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	in := f.in
	in.Store = nil
	in.Registration = secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: emuSecret}
	if rep := Run(context.Background(), in, nil); !rep.OK() {
		t.Fatalf("got not OK, want OK:\n%s", stepsSummary(rep))
	}
	in.Registration = secrets.Registration{}
	in.RegistrationErr = &secrets.KeyringError{Reason: secrets.ReasonTimeout, Op: "read", Timeout: time.Second}
	rep := Run(context.Background(), in, nil)
	if s, _ := rep.Step(StepRegistration); s.Cause != CauseKeyringUnavailable || !strings.Contains(s.Finding, "did not answer") {
		t.Fatalf("got %q %q, want %q naming the timeout", s.Cause, s.Finding, CauseKeyringUnavailable)
	}
}

// A refused connection's fix names the port actually used, and for a
// loopback address says to start the local server instead of blaming a
// firewall or proxy.
func TestConnectFixNamesThePort(t *testing.T) {
	t.Parallel()
	f := facts{getenv: func(string) string { return "" }}
	for _, tt := range []struct{ host, want, unwant string }{
		{"outlook.office365.com", "outbound HTTPS, port 443", "Nothing answers"},
		{"mail.contoso.com:443", "outbound HTTPS, port 443", "Nothing answers"},
		{"mail.contoso.com:8443", "outbound TCP, port 8443", "port 443"},
		{"127.0.0.1:9", "Nothing answers there on this computer", "firewall"},
		{"[::1]:8400", "Nothing answers there on this computer", "firewall"},
		{"localhost:8400", "Nothing answers there on this computer", "HTTPS_PROXY"},
	} {
		fd := networkFinding(&auth.NetworkError{Op: "ews request", Host: tt.host, Kind: auth.NetworkConnect, Err: errors.New("connection refused")}, f)
		if fd.cause != CauseNetworkConnect || !strings.Contains(fd.fix, tt.want) || strings.Contains(fd.fix, tt.unwant) {
			t.Errorf("%s: got %v %q, want %q and no %q", tt.host, fd.cause, fd.fix, tt.want, tt.unwant)
		}
	}
}
