package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

const (
	emuTenant = "8a5c3d7e-1f2b-4c6d-9e0f-a1b2c3d4e5f6"
	emuClient = "3f2e1d0c-b9a8-4765-8432-10fedcba9876"
	emuSecret = "Xq8~integration-secret-value-0123456789"
)

func startEmulator(t *testing.T, cert *x509.Certificate, modes ...emulator.Mode) *emulator.Server {
	t.Helper()
	ten := tenant.Generate(tenant.Config{Seed: 3, Mailboxes: 2, Events: 2, Now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)})
	srv := emulator.New(emulator.Options{Tenant: ten, TenantID: emuTenant, ClientID: emuClient, ClientSecret: emuSecret,
		Certificate: cert, Modes: modes, Seed: 3})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// Against the independently written emulator: each setup mistake it can
// produce decodes to the right predicate, and a good setup passes the
// claims check.
func TestAgainstEmulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		modes []emulator.Mode
		mod   func(*auth.Config)
		check func(t *testing.T, ts *auth.TokenSource)
	}{
		{"good setup", nil, nil, func(t *testing.T, ts *auth.TokenSource) {
			c, err := ts.CheckEWS()
			if err != nil || !c.HasRole(auth.RoleFullAccessAsApp) || c.AppID != emuClient || c.TenantID != emuTenant {
				t.Errorf("CheckEWS: got %+v, %v; want full_access_as_app for the app", c, err)
			}
		}},
		{"wrong secret", nil, func(c *auth.Config) { c.ClientSecret = "wrong-value" }, wantErr(auth.IsInvalidSecret)},
		{"secret ID pasted", nil, func(c *auth.Config) { c.ClientSecret = "0f5c2d94-8f3e-4f6a-9b1e-2a7d9c4b1e00" }, func(t *testing.T, ts *auth.TokenSource) {
			_, err := ts.Token()
			var ee *auth.EntraError
			if !errors.As(err, &ee) || !ee.SecretLooksLikeID {
				t.Errorf("got %v, want AADSTS7000215 flagged as a secret ID", err)
			}
		}},
		{"expired secret", []emulator.Mode{emulator.ModeExpiredSecret}, nil, wantErr(auth.IsSecretExpired)},
		{"unknown app", nil, func(c *auth.Config) { c.ClientID = "11111111-2222-3333-4444-555555555555" }, wantErr(auth.IsAppNotFound)},
		{"unknown tenant", nil, func(c *auth.Config) { c.TenantID = "99999999-2222-3333-4444-555555555555" }, wantErr(auth.IsTenantNotFound)},
		{"bad scope", nil, func(c *auth.Config) { c.Scope = "https://graph.microsoft.com/.default" }, wantErr(auth.IsBadScope)},
		{"delegated scope", nil, func(c *auth.Config) { c.Scope = "https://outlook.office365.com/EWS.AccessAsUser.All" }, wantErr(auth.IsBadScope)},
		{"no admin consent", []emulator.Mode{emulator.ModeNoConsent}, nil, func(t *testing.T, ts *auth.TokenSource) {
			if _, err := ts.CheckEWS(); !errors.Is(err, auth.ErrNoRoles) {
				t.Errorf("CheckEWS: got %v, want ErrNoRoles", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startEmulator(t, nil, tc.modes...)
			cfg := auth.Config{AuthorityHost: srv.URL(), TenantID: emuTenant, ClientID: emuClient, ClientSecret: emuSecret}
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			tc.check(t, auth.NewTokenSource(context.Background(), cfg))
		})
	}
}

func wantErr(pred func(error) bool) func(*testing.T, *auth.TokenSource) {
	return func(t *testing.T, ts *auth.TokenSource) {
		t.Helper()
		_, err := ts.Token()
		if err == nil || !pred(err) {
			t.Fatalf("got %v, want a matching error", err)
		}
		if strings.Contains(err.Error(), emuSecret) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestCertificateAgainstEmulator(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ExoCal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	srv := startEmulator(t, leaf)
	cert := &auth.Certificate{Leaf: leaf, Key: key}
	ts := auth.NewTokenSource(context.Background(), auth.Config{AuthorityHost: srv.URL(), TenantID: emuTenant, ClientID: emuClient, Certificate: cert})
	if _, err := ts.CheckEWS(); err != nil {
		t.Fatalf("certificate credential: got %v, want a token with full_access_as_app", err)
	}
}
