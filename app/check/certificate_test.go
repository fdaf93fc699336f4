package check

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/emulator"
)

// selfSigned makes a certificate valid from notBefore to notAfter and
// returns it, its PEM bundle (certificate + PKCS#8 key) and the key's
// base64 lines (which no output may hold).
func selfSigned(t *testing.T, notBefore, notAfter time.Time) (*x509.Certificate, string, []string) {
	b := testenv.SelfSigned(t, "ExoCal check test", notBefore, notAfter)
	return b.Leaf, b.PEM(), b.KeyLines
}

func TestCertificateChain(t *testing.T) {
	t.Parallel()
	now := time.Now()
	registered, good, goodKey := selfSigned(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	_, other, otherKey := selfSigned(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	_, expired, _ := selfSigned(t, now.AddDate(-1, 0, 0), now.Add(-time.Hour))
	soonLeaf, soon, _ := selfSigned(t, now.Add(-time.Hour), now.AddDate(0, 0, 10))
	goodInfo := secrets.Describe(registered)
	keyOnly := good[strings.Index(good, "-----BEGIN PRIVATE KEY"):]

	tests := []struct {
		name        string
		secret      string // stored next to the certificate ("" none)
		bundle      string
		ok          bool
		stepID      string
		state       State
		cause       Cause
		finding     []string
		fix         []string
		keyMaterial []string
		emuCert     *x509.Certificate // registered on the app; nil: registered
	}{
		{"registered certificate", "", good, true, StepToken, StateOK, CauseNone,
			[]string{"for the certificate (thumbprint " + goodInfo.Thumbprint}, nil, goodKey, nil},
		{"certificate preferred over a stored secret", "Wrong~secret-that-entra-would-reject-0000", good, true, StepRegistration, StateOK, CauseNone,
			[]string{"client certificate set (thumbprint " + goodInfo.Thumbprint, "a client secret is stored too and not used"}, nil, goodKey, nil},
		{"certificate not uploaded", "", other, false, StepToken, StateFailed, CauseInvalidCertificate,
			[]string{"AADSTS700027", "not registered on app " + emuClientID},
			[]string{"Certificates & secrets > Certificates", "Upload certificate", "openssl x509", "exocal secret set --certificate"}, otherKey, nil},
		{"expired", "", expired, false, StepRegistration, StateFailed, CauseCertificateExpired,
			[]string{"has expired"}, []string{"openssl req -x509", "exocal secret set --certificate"}, nil, nil},
		{"expires in 10 days", "", soon, true, StepRegistration, StateWarning, CauseCertificateExpiring,
			[]string{"expires on", "(in 9 day(s))"}, []string{"Upload certificate"}, nil, soonLeaf},
		{"key without certificate", "", keyOnly, false, StepRegistration, StateFailed, CauseCertificateInvalid,
			[]string{"cannot be used"}, []string{"exocal secret set --certificate < bundle.pem"}, goodKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emuCert := registered
			if tt.emuCert != nil {
				emuCert = tt.emuCert
			}
			f := newFixture(t, func(o *emulator.Options) { o.Certificate = emuCert })
			f.setRegistration(t, func(r *secrets.Registration) { r.ClientSecret, r.ClientCertificate = tt.secret, tt.bundle })
			rep := Run(context.Background(), f.in, nil)
			if rep.OK() != tt.ok {
				t.Fatalf("OK: got %v, want %v\n%s", rep.OK(), tt.ok, stepsSummary(rep))
			}
			st, found := rep.Step(tt.stepID)
			if !found || st.State != tt.state || st.Cause != tt.cause {
				t.Fatalf("step %s: got %v %q, want %v %q\n%s", tt.stepID, st.State, st.Cause, tt.state, tt.cause, stepsSummary(rep))
			}
			assertWording(t, st, tt.finding, tt.fix)
			if tt.cause == CauseInvalidCertificate && rep.ExitCode() != ExitSetup {
				t.Errorf("exit code: got %d, want %d", rep.ExitCode(), ExitSetup)
			}
			assertNoSecrets(t, rep, append(append([]string{tt.secret}, tt.keyMaterial...), tt.bundle), f.rec.All())
		})
	}
}

// TestExplainCertificate: the words the tray and `sync --once` use (via
// Explain, without the chain's facts) for a certificate Entra does not know
// and for an unusable bundle.
func TestExplainCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	registered, _, _ := selfSigned(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	_, other, _ := selfSigned(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	f := newFixture(t, func(o *emulator.Options) { o.Certificate = registered })
	cert, err := auth.ParseCertificatePEM([]byte(other))
	if err != nil {
		t.Fatal(err)
	}
	ts := auth.NewTokenSource(context.Background(), auth.Config{AuthorityHost: f.srv.URL(), TenantID: emuTenantID, ClientID: emuClientID,
		Certificate: cert, HTTPClient: f.in.HTTPClient})
	_, tokErr := ts.Token()
	tests := []struct {
		name  string
		err   error
		cause Cause
		words []string
	}{
		{"AADSTS700027", tokErr, CauseInvalidCertificate, []string{"AADSTS700027", "exocal config show", "Upload certificate"}},
		{"unusable bundle", &auth.ConfigError{Field: "certificate", Reason: "the private key does not belong to the certificate"},
			CauseCertificateInvalid, []string{"does not belong", "exocal secret set --certificate"}},
	}
	for _, tt := range tests {
		ex := Explain(tt.err, f.in.Settings, emuTenantID, emuClientID, "")
		if ex.Cause != tt.cause || !ex.Setup {
			t.Errorf("%s: got %q (setup %v), want %q (setup)", tt.name, ex.Cause, ex.Setup, tt.cause)
		}
		for _, w := range tt.words {
			if !strings.Contains(ex.Finding+ex.Fix, w) {
				t.Errorf("%s: got %q / %q, want %q in it", tt.name, ex.Finding, ex.Fix, w)
			}
		}
	}
}
