package backend_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

func certBundle(t *testing.T) (*x509.Certificate, string) {
	b := testenv.SelfSigned(t, "ExoCal backend test", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	return b.Leaf, b.PEM()
}

// TestNewWithCertificate: the backend authenticates with the certificate
// when one is given, even next to a (here: wrong) secret; a certificate
// Entra does not know fails at the token step with AADSTS700027, and an
// unusable bundle is a certificate configuration error.
func TestNewWithCertificate(t *testing.T) {
	t.Parallel()
	const tenantID, clientID = "0f1e2d3c-4b5a-4697-8877-665544332211", "a1b2c3d4-e5f6-4789-9abc-def012345678"
	registered, good := certBundle(t)
	_, other := certBundle(t)
	tn := tenant.Generate(tenant.Config{Seed: 3, Mailboxes: 1, Events: 2, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: tenantID, ClientID: clientID,
		ClientSecret: "Right~secret-0123456789abcdefghij", Certificate: registered, Seed: 3})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	keyOnly := good[strings.Index(good, "-----BEGIN PRIVATE KEY"):]
	tests := []struct {
		name        string
		secret      string
		bundle      string
		wantErr     func(error) bool
		wantErrName string
	}{
		{"registered certificate", "", good, nil, ""},
		{"certificate preferred over a wrong secret", "Wrong~secret-0123456789abcdefghij", good, nil, ""},
		{"unknown certificate", "", other, auth.IsInvalidCertificate, "AADSTS700027"},
		{"key without certificate", "", keyOnly, func(err error) bool {
			var ce *auth.ConfigError
			return errors.As(err, &ce) && ce.Field == "certificate"
		}, "certificate configuration error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := backend.New(context.Background(), backend.Settings{
				AuthorityHost: srv.URL(), TenantID: tenantID, ClientID: clientID,
				ClientSecret: tt.secret, ClientCertificate: tt.bundle,
				User: tn.Mailboxes()[0], AutodiscoverURL: srv.URL(),
				HTTPClient: &http.Client{Transport: &http.Transport{}},
			})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want a backend", err)
				}
				b.Close()
				return
			}
			var se *backend.SetupError
			if !errors.As(err, &se) || se.Step != "token" || !tt.wantErr(err) {
				t.Fatalf("got %v, want a token SetupError (%s)", err, tt.wantErrName)
			}
			if strings.Contains(err.Error(), "-----BEGIN") || strings.Contains(err.Error(), strings.Split(keyOnly, "\n")[1]) {
				t.Errorf("got %q, want no key material in the error", err)
			}
		})
	}
}
