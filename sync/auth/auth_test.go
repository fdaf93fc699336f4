package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testClient = "6731de76-14a6-49ae-97bc-6eba6914391e"
	testSecret = "sec~RET.value_0123456789abcdefABCDEF"
)

// fakeJWT builds an unsigned-looking JWT with the given payload claims; the
// client never verifies signatures, so a dummy one suffices.
func fakeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256","x5t":"abc"}`))
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + ".c2lnbmF0dXJl"
}

func exchangeClaims() map[string]any {
	return map[string]any{
		"aud": "https://outlook.office365.com", "iss": "https://sts.windows.net/" + testTenant + "/",
		"tid": testTenant, "appid": testClient, "idtyp": "app", "roles": []string{"full_access_as_app"},
		"exp": time.Now().Add(time.Hour).Unix(),
	}
}

// entraServer is an httptest token endpoint in Entra's shape.
type entraServer struct {
	*httptest.Server
	requests  atomic.Int32
	expiresIn atomic.Int32
	mu        sync.Mutex
	lastForm  map[string][]string
	handle    func(w http.ResponseWriter, r *http.Request) bool // optional override; true = handled
	token     string
}

func newEntraServer(t *testing.T) *entraServer {
	t.Helper()
	s := &entraServer{token: fakeJWT(t, exchangeClaims())}
	s.expiresIn.Store(3599)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.lastForm = r.PostForm
		s.mu.Unlock()
		if s.handle != nil && s.handle(w, r) {
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/"+testTenant+"/oauth2/v2.0/token" {
			http.NotFound(w, r)
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != testClient ||
			r.PostForm.Get("client_secret") != testSecret || r.PostForm.Get("scope") != "https://outlook.office365.com/.default" {
			writeEntraError(w, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+testClient+"'.")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"ext_expires_in":%d,"access_token":%q}`, s.expiresIn.Load(), s.expiresIn.Load(), s.token)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *entraServer) form(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.lastForm[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// writeEntraError writes an error body in the shape Microsoft documents
// ("Handling error codes in your application").
func writeEntraError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 255d1aef-8c98-452f-ac51-23d051240864\r\nCorrelation ID: fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7\r\nTimestamp: 2026-11-27 12:02:12Z", aadsts, msg)
	body := map[string]any{
		"error": code, "error_description": desc, "error_codes": []int{aadsts},
		"timestamp": "2026-11-27 12:02:12Z", "trace_id": "255d1aef-8c98-452f-ac51-23d051240864",
		"correlation_id": "fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7",
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	}
	_ = json.NewEncoder(w).Encode(body)
}

func secretConfig(authority string) Config {
	return Config{AuthorityHost: authority, TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret}
}

func TestTokenSuccessAndClaims(t *testing.T) {
	t.Parallel()
	srv := newEntraServer(t)
	ts := NewTokenSource(context.Background(), secretConfig(srv.URL))
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: got error %v, want nil", err)
	}
	if tok.AccessToken != srv.token {
		t.Errorf("access token: got %q, want the server's", tok.AccessToken)
	}
	if got, want := srv.form("scope"), "https://outlook.office365.com/.default"; got != want {
		t.Errorf("scope: got %q, want %q", got, want)
	}
	c, err := ts.CheckEWS()
	if err != nil {
		t.Fatalf("CheckEWS: got %v, want nil", err)
	}
	if c.TenantID != testTenant || c.AppID != testClient || !c.HasRole(RoleFullAccessAsApp) {
		t.Errorf("claims: got %+v, want tenant %s app %s with full_access_as_app", c, testTenant, testClient)
	}
}

func TestTokenCachedForManyUses(t *testing.T) {
	t.Parallel()
	srv := newEntraServer(t)
	ts := NewTokenSource(context.Background(), secretConfig(srv.URL))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ts.Token(); err != nil {
				t.Errorf("Token: %v", err)
			}
		}()
	}
	wg.Wait()
	for range 30 {
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("token requests for 50 uses: got %d, want 1", got)
	}
}

func TestInvalidateFetchesANewToken(t *testing.T) {
	t.Parallel()
	srv := newEntraServer(t)
	ts := NewTokenSource(context.Background(), secretConfig(srv.URL))
	steps := []struct {
		invalidate bool
		want       int32
	}{{false, 1}, {false, 1}, {true, 2}, {false, 2}}
	for i, st := range steps {
		if st.invalidate {
			ts.Invalidate()
		}
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
		if got := srv.requests.Load(); got != st.want {
			t.Errorf("step %d: got %d token requests, want %d", i, got, st.want)
		}
	}
}

func FuzzParseClaims(f *testing.F) {
	f.Add(fakeJWT(f, exchangeClaims()))
	f.Add("a.b.c")
	f.Add("eyJ9.eyJyb2xlcyI6bnVsbH0.x")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := ParseClaims(tok)
		if err == nil {
			_ = c.RequireRole(RoleFullAccessAsApp)
		}
	})
}

// A token inside the early-expiry window is replaced before use: both
// requests succeed, none is a failed round trip.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn int32
		early     time.Duration
		want      int32
	}{
		{"inside early window", 120, 5 * time.Minute, 3},
		{"outside early window", 3599, 5 * time.Minute, 1},
		{"short early window", 120, time.Second, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newEntraServer(t)
			srv.expiresIn.Store(tc.expiresIn)
			cfg := secretConfig(srv.URL)
			cfg.EarlyExpiry = tc.early
			ts := NewTokenSource(context.Background(), cfg)
			for range 3 {
				if _, err := ts.Token(); err != nil {
					t.Fatalf("Token: %v", err)
				}
			}
			if got := srv.requests.Load(); got != tc.want {
				t.Errorf("token requests: got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestEntraErrorsDecoded(t *testing.T) {
	t.Parallel()
	type pred struct {
		name string
		f    func(error) bool
	}
	tests := []struct {
		status int
		code   string
		aadsts int
		msg    string
		want   []pred
	}{
		{401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + testClient + "'.", []pred{{"IsInvalidSecret", IsInvalidSecret}}},
		{401, "invalid_client", 7000222, "The provided client secret keys for app '" + testClient + "' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", []pred{{"IsSecretExpired", IsSecretExpired}}},
		{400, "unauthorized_client", 700016, "Application with identifier '" + testClient + "' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", []pred{{"IsAppNotFound", IsAppNotFound}}},
		{400, "invalid_request", 90002, "Tenant '" + testTenant + "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", []pred{{"IsTenantNotFound", IsTenantNotFound}}},
		{400, "invalid_request", 90038, "Tenant '" + testTenant + "' is not in the 'WW' cloud. To learn more, visit https://go.microsoft.com/fwlink/?linkid=2083115.", []pred{{"IsTenantNotFound", IsTenantNotFound}, {"IsWrongCloud", IsWrongCloud}}},
		{400, "invalid_scope", 1002012, "The provided value for scope https://outlook.office365.com/EWS.AccessAsUser.All is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", []pred{{"IsBadScope", IsBadScope}}},
		{400, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid.", []pred{{"IsBadScope", IsBadScope}}},
		{400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", []pred{{"IsConditionalAccess", IsConditionalAccess}}},
		{400, "invalid_client", 7000229, "The client application " + testClient + " is missing service principal in the tenant " + testTenant + ".", []pred{{"IsConsentMissing", IsConsentMissing}}},
		{401, "invalid_client", 700027, "Client assertion failed signature validation.", []pred{{"IsInvalidCertificate", IsInvalidCertificate}}},
		{400, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: 2026-11-27T12:00:00Z, assertion valid from 2026-11-27T12:30:00Z, expiry time of assertion 2026-11-27T12:40:00Z.", []pred{{"IsClockSkew", IsClockSkew}}},
	}
	all := []pred{{"IsInvalidSecret", IsInvalidSecret}, {"IsSecretExpired", IsSecretExpired}, {"IsAppNotFound", IsAppNotFound},
		{"IsTenantNotFound", IsTenantNotFound}, {"IsWrongCloud", IsWrongCloud}, {"IsBadScope", IsBadScope},
		{"IsConditionalAccess", IsConditionalAccess}, {"IsConsentMissing", IsConsentMissing},
		{"IsInvalidCertificate", IsInvalidCertificate}, {"IsClockSkew", IsClockSkew}, {"IsNetwork", IsNetwork}, {"IsConfig", IsConfig}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.aadsts), func(t *testing.T) {
			t.Parallel()
			srv := newEntraServer(t)
			srv.handle = func(w http.ResponseWriter, r *http.Request) bool {
				writeEntraError(w, tc.status, tc.code, tc.aadsts, tc.msg)
				return true
			}
			_, err := NewTokenSource(context.Background(), secretConfig(srv.URL)).Token()
			var ee *EntraError
			if !errors.As(err, &ee) {
				t.Fatalf("error: got %T %v, want *EntraError", err, err)
			}
			if ee.AADSTS != tc.aadsts || ee.Code != tc.code || ee.HTTPStatus != tc.status {
				t.Errorf("decoded: got AADSTS%d %q HTTP %d, want AADSTS%d %q HTTP %d", ee.AADSTS, ee.Code, ee.HTTPStatus, tc.aadsts, tc.code, tc.status)
			}
			if ee.TraceID != "255d1aef-8c98-452f-ac51-23d051240864" || ee.CorrelationID != "fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7" {
				t.Errorf("trace/correlation: got %q/%q, want the body's", ee.TraceID, ee.CorrelationID)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("AADSTS%d", tc.aadsts)) {
				t.Errorf("message %q: want it to name AADSTS%d", err.Error(), tc.aadsts)
			}
			want := map[string]bool{}
			for _, p := range tc.want {
				want[p.name] = true
			}
			for _, p := range all {
				if got := p.f(err); got != want[p.name] {
					t.Errorf("%s: got %t, want %t", p.name, got, want[p.name])
				}
			}
			if srv.requests.Load() != 1 {
				t.Errorf("requests: got %d, want 1 (no retry in another auth style)", srv.requests.Load())
			}
		})
	}
}

func TestSecretIDPastedInsteadOfValue(t *testing.T) {
	t.Parallel()
	srv := newEntraServer(t)
	cfg := secretConfig(srv.URL)
	cfg.ClientSecret = "0f5c2d94-8f3e-4f6a-9b1e-2a7d9c4b1e00" // a secret ID
	_, err := NewTokenSource(context.Background(), cfg).Token()
	var ee *EntraError
	if !errors.As(err, &ee) || !ee.SecretLooksLikeID || !IsInvalidSecret(err) {
		t.Fatalf("got %v (SecretLooksLikeID %v), want invalid secret flagged as a secret ID", err, ee != nil && ee.SecretLooksLikeID)
	}
}

func TestNoSecretInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := newEntraServer(t)
	var mode atomic.Int32
	srv.handle = func(w http.ResponseWriter, r *http.Request) bool {
		switch mode.Load() {
		case 0: // a (hypothetical) server that echoes the secret back
			writeEntraError(w, 401, "invalid_client", 7000215, "bad secret "+r.PostForm.Get("client_secret"))
		case 1:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			io.WriteString(w, "<html>oops</html>")
		default:
			return false
		}
		return true
	}
	cfg := secretConfig(srv.URL)
	cfg.Logger = logger
	var errs []string
	for m := range int32(3) {
		mode.Store(m)
		ts := NewTokenSource(context.Background(), cfg)
		tok, err := ts.Token()
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		} else if tok.AccessToken == "" {
			t.Fatal("empty token")
		}
	}
	// a network failure and a config failure too
	dead := deadURL(t)
	cfg.AuthorityHost = dead
	if _, err := NewTokenSource(context.Background(), cfg).Token(); err == nil {
		t.Fatal("dead endpoint: got nil error")
	} else {
		errs = append(errs, err.Error())
	}
	if len(errs) < 3 {
		t.Fatalf("errors collected: got %d, want at least 3", len(errs))
	}
	mu.Lock()
	all := strings.Join(errs, "\n") + logs.String()
	mu.Unlock()
	for _, secret := range []string{testSecret, srv.token} {
		if strings.Contains(all, secret) {
			t.Errorf("a secret or token leaked into errors/logs:\n%s", all)
		}
	}
	if !strings.Contains(logs.String(), "token acquired") {
		t.Errorf("logs: got %q, want a debug record of the acquisition", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// deadURL is a loopback URL nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func newTestCert(t testing.TB) (*Certificate, *x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ExoCal test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pemBundle := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	cert, err := ParseCertificatePEM(pemBundle)
	if err != nil {
		t.Fatal(err)
	}
	return cert, leaf, key
}

// verifyAssertion checks a client assertion the way Entra does: RS256
// signature with the registered certificate's key, thumbprint headers and
// the claims.
func verifyAssertion(jwt string, leaf *x509.Certificate, tokenURL string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion has %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(leaf.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var hdr map[string]string
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return err
	}
	s256 := sha256.Sum256(leaf.Raw)
	if hdr["alg"] != "RS256" || hdr["typ"] != "JWT" || hdr["x5t#S256"] != base64.RawURLEncoding.EncodeToString(s256[:]) || len(hdr["x5t"]) != 27 {
		return fmt.Errorf("header %v", hdr)
	}
	var c struct {
		Aud, Iss, Sub, Jti string
		Nbf, Exp, Iat      int64
	}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(pb, &c); err != nil {
		return err
	}
	now := time.Now().Unix()
	switch {
	case c.Aud != tokenURL:
		return fmt.Errorf("aud %q, want %q", c.Aud, tokenURL)
	case c.Iss != testClient || c.Sub != testClient:
		return fmt.Errorf("iss/sub %q/%q", c.Iss, c.Sub)
	case len(c.Jti) != 36:
		return fmt.Errorf("jti %q", c.Jti)
	case c.Nbf > now+1 || c.Exp <= now || c.Exp-c.Nbf > 600:
		return fmt.Errorf("validity nbf %d exp %d now %d", c.Nbf, c.Exp, now)
	}
	return nil
}

func TestCertificateAssertion(t *testing.T) {
	t.Parallel()
	cert, leaf, _ := newTestCert(t)
	_, other, _ := newTestCert(t)
	tests := []struct {
		name       string
		registered *x509.Certificate
		wantErr    func(error) bool
	}{
		{"registered certificate", leaf, nil},
		{"unknown certificate", other, IsInvalidCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newEntraServer(t)
			var jtis sync.Map
			srv.handle = func(w http.ResponseWriter, r *http.Request) bool {
				f := r.PostForm
				tokenURL := "http://" + r.Host + r.URL.Path
				if f.Get("client_secret") != "" || f.Get("client_assertion_type") != ClientAssertionType {
					writeEntraError(w, 400, "invalid_request", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
					return true
				}
				if err := verifyAssertion(f.Get("client_assertion"), tc.registered, tokenURL); err != nil {
					writeEntraError(w, 401, "invalid_client", 700027, "Client assertion failed signature validation. "+err.Error())
					return true
				}
				if _, dup := jtis.LoadOrStore(f.Get("client_assertion"), true); dup {
					t.Error("assertion reused")
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":60,"access_token":%q}`, srv.token)
				return true
			}
			cfg := Config{AuthorityHost: srv.URL, TenantID: testTenant, ClientID: testClient, Certificate: cert}
			ts := NewTokenSource(context.Background(), cfg)
			_, err := ts.Token()
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Token: got %v, want nil", err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("Token: got %v, want a matching error", err)
			}
			if tc.wantErr == nil { // a second (early-expiry) fetch signs a fresh assertion
				if _, err := ts.Token(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	cert, _, _ := newTestCert(t)
	tests := []struct {
		name  string
		mod   func(*Config)
		field string
	}{
		{"ok", func(*Config) {}, ""},
		{"common tenant", func(c *Config) { c.TenantID = "common" }, "tenant_id"},
		{"organizations tenant", func(c *Config) { c.TenantID = "Organizations" }, "tenant_id"},
		{"domain tenant", func(c *Config) { c.TenantID = "contoso.onmicrosoft.com" }, ""},
		{"no tenant", func(c *Config) { c.TenantID = "" }, "tenant_id"},
		{"client id not a guid", func(c *Config) { c.ClientID = "my app" }, "client_id"},
		{"no credential", func(c *Config) { c.ClientSecret = "" }, "client_secret"},
		{"both credentials", func(c *Config) { c.Certificate = cert }, "client_secret"},
		{"http authority", func(c *Config) { c.AuthorityHost = "http://login.example.com" }, "authority_host"},
		{"http loopback authority", func(c *Config) { c.AuthorityHost = "http://127.0.0.1:8080" }, ""},
		{"unknown cloud", func(c *Config) { c.Cloud = "mars" }, "cloud"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := secretConfig("")
			tc.mod(&cfg)
			err := cfg.Validate()
			var ce *ConfigError
			gotField := ""
			if errors.As(err, &ce) {
				gotField = ce.Field
			} else if err != nil {
				t.Fatalf("got %T %v, want *ConfigError or nil", err, err)
			}
			if gotField != tc.field {
				t.Errorf("field: got %q (%v), want %q", gotField, err, tc.field)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("config error leaks the secret: %v", err)
			}
			if tc.field != "" {
				if _, terr := NewTokenSource(context.Background(), cfg).Token(); !IsConfig(terr) {
					t.Errorf("Token: got %v, want the config error", terr)
				}
			}
		})
	}
	if cfg := secretConfig(""); true {
		cfg.TenantID = "common"
		if !IsTenantAlias(cfg.Validate()) {
			t.Errorf("IsTenantAlias(common): got false, want true")
		}
	}
}

func TestCloudScopeAndHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		authority, cloud string
		wantScope        string
		wantAutodiscover string
		exchange         string
		notExchange      string
	}{
		{"", "", "https://outlook.office365.com/.default", "https://autodiscover-s.outlook.com", "autodiscover-s.outlook.com", "evil.example.com"},
		{"https://login.microsoftonline.com", "", "https://outlook.office365.com/.default", "https://autodiscover-s.outlook.com", "outlook.office365.com:443", "outlook.office365.com:8443"},
		{"https://login.microsoftonline.us", "", "https://outlook.office365.us/.default", "https://autodiscover-s.office365.us", "outlook.office365.us", "outlook.office365.com"},
		{"https://login.microsoftonline.us", "usgovdod", "https://webmail.apps.mil/.default", "https://autodiscover-s-dod.office365.us", "webmail.apps.mil", "outlook.office365.us"},
		{"https://login.partner.microsoftonline.cn", "", "https://partner.outlook.cn/.default", "https://partner.outlook.cn", "partner.outlook.cn", "outlook.office365.com"},
		{"http://127.0.0.1:9999", "", "https://outlook.office365.com/.default", "", "", "outlook.office365.com"},
	}
	for _, tc := range tests {
		t.Run(tc.authority+tc.cloud, func(t *testing.T) {
			t.Parallel()
			cfg := secretConfig(tc.authority)
			cfg.Cloud = tc.cloud
			ts := NewTokenSource(context.Background(), cfg)
			if got := ts.Scope(); got != tc.wantScope {
				t.Errorf("scope: got %q, want %q", got, tc.wantScope)
			}
			cl := ts.Cloud()
			if cl.AutodiscoverURL != tc.wantAutodiscover {
				t.Errorf("autodiscover: got %q, want %q", cl.AutodiscoverURL, tc.wantAutodiscover)
			}
			if tc.exchange != "" && !cl.IsExchangeHost(tc.exchange) {
				t.Errorf("IsExchangeHost(%q): got false, want true", tc.exchange)
			}
			if cl.IsExchangeHost(tc.notExchange) {
				t.Errorf("IsExchangeHost(%q): got true, want false", tc.notExchange)
			}
			if !strings.HasSuffix(ts.TokenURL(), "/"+testTenant+"/oauth2/v2.0/token") {
				t.Errorf("token URL: got %q", ts.TokenURL())
			}
		})
	}
}

func TestClaims(t *testing.T) {
	t.Parallel()
	global, _ := LookupCloud(CloudGlobal)
	tests := []struct {
		name   string
		claims map[string]any
		want   error
	}{
		{"ok", exchangeClaims(), nil},
		{"no roles (no admin consent)", func() map[string]any { c := exchangeClaims(); delete(c, "roles"); return c }(), ErrNoRoles},
		{"other role", func() map[string]any { c := exchangeClaims(); c["roles"] = []string{"Mail.Read"}; return c }(), ErrMissingRole},
		{"exchange app id audience", func() map[string]any { c := exchangeClaims(); c["aud"] = ExchangeAppID; return c }(), nil},
		{"graph audience", func() map[string]any { c := exchangeClaims(); c["aud"] = "https://graph.microsoft.com"; return c }(), ErrWrongAudience},
		{"v2 token with azp and array aud", func() map[string]any {
			c := exchangeClaims()
			delete(c, "appid")
			c["azp"] = testClient
			c["aud"] = []string{"https://outlook.office365.com"}
			return c
		}(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseClaims(fakeJWT(t, tc.claims))
			if err != nil {
				t.Fatal(err)
			}
			if c.AppID != testClient || c.TenantID != testTenant || c.Expiry.IsZero() {
				t.Errorf("claims: got %+v", c)
			}
			err = c.RequireEWS(global)
			if !errorsIs(err, tc.want) {
				t.Errorf("RequireEWS: got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ParseClaims("opaque-token"); !errorsIs(err, ErrNotJWT) {
		t.Errorf("ParseClaims(opaque): got %v, want ErrNotJWT", err)
	}
}
