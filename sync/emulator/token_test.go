package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func testCert(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "exocal-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

func assertion(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, aud string, exp time.Time) string {
	t.Helper()
	x5t, _ := certThumbprints(cert)
	tok, err := signJWT(key, map[string]any{"alg": "RS256", "typ": "JWT", "x5t": x5t},
		map[string]any{"aud": aud, "iss": testClientID, "sub": testClientID, "jti": "j1", "nbf": time.Now().Add(-time.Minute).Unix(), "exp": exp.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var traceTrailer = regexp.MustCompile(`\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	key, cert := testCert(t)
	otherKey, otherCert := testCert(t)
	e := newEnv(t, func(o *Options) { o.Certificate = cert })
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"}}
	with := func(k, v string) url.Values {
		out := url.Values{}
		for kk, vv := range good {
			out[kk] = vv
		}
		if v == "" {
			out.Del(k)
		} else {
			out.Set(k, v)
		}
		return out
	}
	certForm := func(a string) url.Values {
		f := with("client_secret", "")
		f.Set("client_assertion_type", assertionType)
		f.Set("client_assertion", a)
		return f
	}
	tests := []struct {
		name       string
		tenant     string
		form       url.Values
		mode       Mode
		wantStatus int
		wantError  string
		wantCode   int
		wantText   string
	}{
		{name: "secret ok", form: good, wantStatus: 200},
		{name: "tenant by domain", tenant: "contoso.onmicrosoft.com", form: good, wantStatus: 200},
		{name: "wrong secret", form: with("client_secret", "7f3a9c1e-0000-4000-8000-000000000000"), wantStatus: 401, wantError: "invalid_client", wantCode: 7000215,
			wantText: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + testClientID + "'."},
		{name: "expired secret", form: good, mode: ModeExpiredSecret, wantStatus: 401, wantError: "invalid_client", wantCode: 7000222,
			wantText: "AADSTS7000222: The provided client secret keys for app '" + testClientID + "' are expired."},
		{name: "unknown app", form: with("client_id", "11111111-2222-3333-4444-555555555555"), wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016,
			wantText: "AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory"},
		{name: "unknown tenant", tenant: "00000000-0000-0000-0000-000000000001", form: good, wantStatus: 400, wantError: "invalid_request", wantCode: 90002,
			wantText: "AADSTS90002: Tenant '00000000-0000-0000-0000-000000000001' not found."},
		{name: "delegated scope", form: with("scope", "https://outlook.office365.com/EWS.AccessAsUser.All"), wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012,
			wantText: "AADSTS1002012: The provided value for scope https://outlook.office365.com/EWS.AccessAsUser.All is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."},
		{name: "graph scope", form: with("scope", "https://graph.microsoft.com/.default"), wantStatus: 400, wantError: "invalid_resource", wantCode: 500011},
		{name: "no credential", form: with("client_secret", ""), wantStatus: 401, wantError: "invalid_client", wantCode: 7000218},
		{name: "certificate ok", form: certForm(assertion(t, key, cert, e.tokenURL(), time.Now().Add(5*time.Minute))), wantStatus: 200},
		{name: "certificate ok, public aud", form: certForm(assertion(t, key, cert, "https://login.microsoftonline.com/"+testTenantID+"/oauth2/v2.0/token", time.Now().Add(5*time.Minute))), wantStatus: 200},
		{name: "unregistered certificate", form: certForm(assertion(t, otherKey, otherCert, e.tokenURL(), time.Now().Add(5*time.Minute))), wantStatus: 401, wantError: "invalid_client", wantCode: 700027},
		{name: "expired assertion", form: certForm(assertion(t, key, cert, e.tokenURL(), time.Now().Add(-10*time.Minute))), wantStatus: 401, wantError: "invalid_client", wantCode: 700024},
		{name: "wrong audience", form: certForm(assertion(t, key, cert, "https://example.com/token", time.Now().Add(5*time.Minute))), wantStatus: 401, wantError: "invalid_client", wantCode: 700023},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sequential: modes are server-wide.
			if tt.mode != "" {
				e.srv.SetMode(tt.mode, true)
				defer e.srv.SetMode(tt.mode, false)
			}
			ten := tt.tenant
			if ten == "" {
				ten = testTenantID
			}
			resp, err := e.client.PostForm(e.ts.URL+"/"+ten+"/oauth2/v2.0/token", tt.form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("content type: got %q, want application/json; charset=utf-8", ct)
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus == 200 {
				if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
					t.Errorf("success body: got %v, want Bearer/3599/3599", body)
				}
				_, claims, _, _, err := parseJWT(body["access_token"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if claims["aud"] != "https://outlook.office365.com" || claims["tid"] != testTenantID || claims["appid"] != testClientID {
					t.Errorf("claims: got aud=%v tid=%v appid=%v", claims["aud"], claims["tid"], claims["appid"])
				}
				if roles, _ := claims["roles"].([]any); len(roles) != 1 || roles[0] != "full_access_as_app" {
					t.Errorf("roles: got %v, want [full_access_as_app]", claims["roles"])
				}
				return
			}
			if body["error"] != tt.wantError {
				t.Errorf("error: got %v, want %s", body["error"], tt.wantError)
			}
			if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(tt.wantCode) {
				t.Errorf("error_codes: got %v, want [%d]", body["error_codes"], tt.wantCode)
			}
			desc, _ := body["error_description"].(string)
			if tt.wantText != "" && !strings.HasPrefix(desc, tt.wantText) {
				t.Errorf("error_description: got %q, want prefix %q", desc, tt.wantText)
			}
			if !traceTrailer.MatchString(desc) {
				t.Errorf("error_description trailer: got %q, want CRLF Trace ID/Correlation ID/Timestamp", desc)
			}
			if body["error_uri"] != "https://login.microsoftonline.com/error?code="+strconv.Itoa(tt.wantCode) {
				t.Errorf("error_uri: got %v", body["error_uri"])
			}
			for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
				if s, _ := body[k].(string); s == "" {
					t.Errorf("%s: missing", k)
				}
			}
		})
	}
}

func TestNoConsentTokenHasNoRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Modes = []Mode{ModeNoConsent} })
	tok := e.getToken()
	_, claims, _, _, err := parseJWT(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, has := claims["roles"]; has {
		t.Errorf("roles: got %v, want no roles claim", claims["roles"])
	}
}

func TestShortTokenLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.TokenLifetime = 2 * time.Second })
	resp, err := e.client.PostForm(e.tokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if body["expires_in"] != float64(2) {
		t.Errorf("expires_in: got %v, want 2", body["expires_in"])
	}
}

func TestExpiredTokenIsRefused(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	e := newEnv(t, func(o *Options) { o.Now = now; o.TokenLifetime = 10 * time.Minute })
	mb := e.srv.Tenant().Mailboxes()[0]
	tok := e.getToken()
	if res := e.post(ewsPath, tok, mb, soapEnvelope(mb, getFolderCalendar)); res.status != 200 {
		t.Fatalf("fresh token: got %d", res.status)
	}
	mu.Lock()
	clock = clock.Add(11 * time.Minute)
	mu.Unlock()
	res := e.post(ewsPath, tok, mb, soapEnvelope(mb, getFolderCalendar))
	if want := `2000001;reason="The token has expired.";error_category="invalid_token"`; res.status != 401 || res.header.Get("x-ms-diagnostics") != want {
		t.Errorf("expired token: got %d %q, want 401 %q", res.status, res.header.Get("x-ms-diagnostics"), want)
	}
	if res := e.post(ewsPath, e.getToken(), mb, soapEnvelope(mb, getFolderCalendar)); res.status != 200 {
		t.Errorf("refreshed token: got %d, want 200", res.status)
	}
}
