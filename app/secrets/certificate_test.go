package secrets

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
)

// testCert makes a self-signed certificate valid from notBefore to
// notAfter and returns its PEM bundle (certificate + PKCS#8 key or, with
// pkcs1, an RSA PRIVATE KEY), the key's PEM alone and the DER certificate.
func testCert(t *testing.T, notBefore, notAfter time.Time, pkcs1 bool) (bundle, keyPEM string, der []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "ExoCal test"},
		NotBefore:    notBefore, NotAfter: notAfter,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var kb *pem.Block
	if pkcs1 {
		kb = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	} else {
		p8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		kb = &pem.Block{Type: "PRIVATE KEY", Bytes: p8}
	}
	keyPEM = string(pem.EncodeToMemory(kb))
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) + keyPEM, keyPEM, der
}

func TestNormalizeCertificate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	good, goodKey, goodDER := testCert(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), false)
	pkcs1, _, _ := testCert(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), true)
	soon, _, _ := testCert(t, now.AddDate(0, -1, 0), now.AddDate(0, 0, 10), false)
	expired, _, _ := testCert(t, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1), false)
	future, _, _ := testCert(t, now.AddDate(0, 0, 2), now.AddDate(1, 0, 0), false)
	_, otherKey, _ := testCert(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), false)
	mismatched := good[:strings.Index(good, "-----BEGIN PRIVATE KEY")] + otherKey
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecBundle := good[:strings.Index(good, "-----BEGIN PRIVATE KEY")] + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	encrypted := good[:strings.Index(good, "-----BEGIN PRIVATE KEY")] + "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"
	withNoise := "Bag Attributes\n    localKeyID: 01 02\nsubject=/CN=ExoCal test\n" + good

	sum := sha1.Sum(goodDER) //nolint:gosec
	wantThumb := strings.ToUpper(hex.EncodeToString(sum[:]))

	tests := []struct {
		name     string
		in       string
		wantErr  error
		wantWarn string
	}{
		{"PKCS#8", good, nil, ""},
		{"PKCS#1", pkcs1, nil, ""},
		{"openssl pkcs12 noise", withNoise, nil, ""},
		{"expires in 10 days", soon, nil, "expires on"},
		{"not yet valid", future, nil, "not valid before"},
		{"expired", expired, ErrCertificateExpired, ""},
		{"key of another certificate", mismatched, ErrCertificateInvalid, ""},
		{"EC key", ecBundle, ErrCertificateInvalid, ""},
		{"encrypted key", encrypted, ErrCertificateEncrypted, ""},
		{"key only", goodKey, ErrCertificateInvalid, ""},
		{"not PEM", "Q8Q~just-a-secret", ErrCertificateInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			norm, info, warn, err := NormalizeCertificate(tt.in, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "PRIVATE KEY-----\nMII") || !strings.HasPrefix(err.Error(), "secrets: ") {
					t.Errorf("got %q, want a secrets: sentence without the bundle", err)
				}
				return
			}
			if !strings.Contains(warn, tt.wantWarn) || (tt.wantWarn == "" && warn != "") {
				t.Errorf("got warning %q, want %q", warn, tt.wantWarn)
			}
			if strings.Contains(norm, "Bag Attributes") || strings.Count(norm, "-----BEGIN") != 2 {
				t.Errorf("got normalized bundle with %d blocks (noise kept: %v), want certificate + key only",
					strings.Count(norm, "-----BEGIN"), strings.Contains(norm, "Bag Attributes"))
			}
			cert, info2, err := ParseCertificate(norm)
			if err != nil || cert == nil || info2 != info {
				t.Fatalf("normalized bundle: got %v, %v, want it to parse to the same certificate", info2, err)
			}
			if tt.name == "PKCS#8" && info.Thumbprint != wantThumb {
				t.Errorf("got thumbprint %s, want %s", info.Thumbprint, wantThumb)
			}
			if s := info.String(); !strings.Contains(s, info.Thumbprint) || !strings.Contains(s, info.NotAfter.Format(time.DateOnly)) {
				t.Errorf("got %q, want thumbprint and expiry date", s)
			}
		})
	}
}

func TestRegistrationCredential(t *testing.T) {
	t.Parallel()
	now := time.Now()
	bundle, keyPEM, _ := testCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), false)
	tests := []struct {
		name       string
		r          Registration
		complete   bool
		wantSecret string
		wantCert   bool
		wantErr    bool
	}{
		{"secret only", Registration{TenantID: "t", ClientID: "c", ClientSecret: "s"}, true, "s", false, false},
		{"certificate only", Registration{TenantID: "t", ClientID: "c", ClientCertificate: bundle}, true, "", true, false},
		{"both: the certificate wins", Registration{TenantID: "t", ClientID: "c", ClientSecret: "s", ClientCertificate: bundle}, true, "", true, false},
		{"neither", Registration{TenantID: "t", ClientID: "c"}, false, "", false, false},
		{"broken certificate", Registration{TenantID: "t", ClientID: "c", ClientCertificate: keyPEM}, true, "", false, true},
	}
	for _, tt := range tests {
		if got := tt.r.Complete(); got != tt.complete {
			t.Errorf("%s: Complete: got %v, want %v", tt.name, got, tt.complete)
		}
		secret, cert, err := tt.r.Credential()
		if secret != tt.wantSecret || (cert != nil) != tt.wantCert || (err != nil) != tt.wantErr {
			t.Errorf("%s: Credential: got secret %q, cert %v, err %v; want %q, %v, error %v", tt.name, secret, cert != nil, err, tt.wantSecret, tt.wantCert, tt.wantErr)
		}
		for _, s := range []string{fmt.Sprint(tt.r), fmt.Sprintf("%v %+v %#v %s", tt.r, tt.r, tt.r, tt.r)} {
			if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "MII") {
				t.Errorf("%s: got %q, want no key material", tt.name, s)
			}
		}
	}
}

// TestCertificateRoundTrip stores a certificate next to a secret in the
// memory store, reads it back, removes it again, and overlays
// EXOCAL_CLIENT_CERTIFICATE (read-only).
func TestCertificateRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	bundle, _, _ := testCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), false)
	envBundle, _, _ := testCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), false)
	m := NewMemory()
	want := Registration{TenantID: "t", ClientID: "c", ClientSecret: "s", ClientCertificate: bundle}
	if err := m.Set(ctx, DefaultProfile, want); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Get(ctx, DefaultProfile); err != nil || got != want {
		t.Fatalf("got %v, %v, want %v", got, err, want)
	}

	env := func(k string) string {
		if k == EnvClientCertificate {
			return "\n" + envBundle + "\n"
		}
		return ""
	}
	e := Env{Base: m, Getenv: env}
	got, err := e.Get(ctx, DefaultProfile)
	if err != nil || got.ClientCertificate != strings.TrimSpace(envBundle) || got.ClientSecret != "s" {
		t.Fatalf("env over memory: got %v (env certificate %v), %v", got, got.ClientCertificate == strings.TrimSpace(envBundle), err)
	}
	if !e.CertificateOverridden() {
		t.Errorf("CertificateOverridden: got false, want true")
	}
	// All from the environment: the base is not asked.
	all := Env{Base: failing{}, Getenv: func(k string) string {
		return map[string]string{EnvTenantID: "et", EnvClientID: "ec", EnvClientCertificate: envBundle}[k]
	}}
	if got, err := all.Get(ctx, DefaultProfile); err != nil || !got.Complete() || !got.UsesCertificate() {
		t.Errorf("all from env with a certificate: got %v, %v, want a complete registration using the certificate", got, err)
	}
	// Writes never carry the environment's certificate.
	if err := e.Set(ctx, DefaultProfile, Registration{TenantID: "t", ClientID: "c", ClientSecret: "s"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, DefaultProfile); got.ClientCertificate != "" {
		t.Errorf("got a stored certificate after Set without one, want none")
	}
}

// TestRealKeyringCertificate stores a certificate bundle in a real Secret
// Service and reads it back. Run it with
// .ci/keyring-session.sh env EXOCAL_REAL_KEYRING=1 go test -count=1 -run TestRealKeyring -v ./app/secrets
func TestRealKeyringCertificate(t *testing.T) {
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" {
		t.Skip("set EXOCAL_REAL_KEYRING=1 and run under .ci/keyring-session.sh to test against gnome-keyring")
	}
	secretTool := testenv.LookPath(t, "secret-tool", "libsecret-tools")
	ctx := context.Background()
	k := NewKeyring()
	profile := fmt.Sprintf("test-cert-%d", os.Getpid())
	t.Cleanup(func() { k.Delete(context.Background(), profile) })
	now := time.Now()
	bundle, keyPEM, _ := testCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), false)
	norm, _, _, err := NormalizeCertificate(bundle, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Registration{TenantID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", ClientID: "6e0a3c2b-5b4d-4c1e-8f7a-9d8c7b6a5f4e", ClientCertificate: norm}
	if err := k.Set(ctx, profile, want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := k.Get(ctx, profile)
	if err != nil || got != want {
		t.Fatalf("Get: got %v, %v; want %v", got, err, want)
	}
	if _, cert, err := got.Credential(); err != nil || cert == nil {
		t.Fatalf("Credential of the stored bundle: got %v, %v", cert, err)
	}
	out, err := exec.Command(secretTool, "lookup", "service", KeyringService, "username", profile).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	keyBody := strings.Split(keyPEM, "\n")[1]
	if !strings.Contains(string(out), keyBody) {
		t.Errorf("got a keyring entry without the private key, want the whole bundle in the keyring")
	}
	got.ClientCertificate = ""
	if err := k.Set(ctx, profile, got); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.Get(ctx, profile); got.ClientCertificate != "" {
		t.Errorf("got a certificate after clearing it, want none")
	}
}
