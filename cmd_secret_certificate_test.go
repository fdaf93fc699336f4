package main

import (
	"crypto/x509"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// testBundle is a self-signed certificate and its key as one PEM bundle.
type testBundle struct {
	leaf     *x509.Certificate
	pem      string
	keyLines []string // base64 lines of the private key: never in any output
}

func newTestBundle(t *testing.T, notBefore, notAfter time.Time) testBundle {
	b := testenv.SelfSigned(t, "ExoCal CLI test", notBefore, notAfter)
	return testBundle{leaf: b.Leaf, pem: b.PEM(), keyLines: b.KeyLines}
}

// assertNoKey fails when any of the key's lines shows up in text.
func (b testBundle) assertNoKey(t *testing.T, where, text string) {
	t.Helper()
	for _, l := range b.keyLines {
		if strings.Contains(text, l) {
			t.Errorf("%s holds the certificate's private key", where)
			return
		}
	}
}

// assertTreeHasNoKey greps every file under dir (config, cache, logs, ICS).
func (b testBundle) assertTreeHasNoKey(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		b.assertNoKey(t, p, string(data))
		return nil
	})
}

func TestSecretSetCertificateValidates(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	now := time.Now()
	good := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	soon := newTestBundle(t, now.Add(-time.Hour), now.AddDate(0, 0, 10))
	expired := newTestBundle(t, now.AddDate(-1, 0, 0), now.Add(-time.Hour))
	other := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	mismatched := good.pem[:strings.Index(good.pem, "-----BEGIN PRIVATE KEY")] + other.pem[strings.Index(other.pem, "-----BEGIN PRIVATE KEY"):]
	thumb := secrets.Describe(good.leaf).Thumbprint
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantOut    string // stdout
		wantErr    string // stderr
		noKeyOf    testBundle
		wantStored bool // validated, then refused by the missing keyring
	}{
		{"valid: thumbprint shown, then no keyring", good.pem, nil, "thumbprint " + thumb + ", valid until " + good.leaf.NotAfter.UTC().Format(time.DateOnly), "no D-Bus session bus", good, true},
		{"expires within 30 days", soon.pem, nil, "thumbprint", "warning: the certificate expires on", soon, true},
		{"expired", expired.pem, nil, "", "has expired", expired, false},
		{"key of another certificate", mismatched, nil, "", "does not belong to the certificate", good, false},
		{"empty stdin", "", nil, "", "no certificate on stdin", good, false},
		{"file name as argument", "", []string{"bundle.pem"}, "", "never from a file name", good, false},
	}
	for _, tt := range tests {
		args := append([]string{"secret", "set", "--certificate"}, tt.args...)
		out, errOut, code := c.run(tt.stdin, nil, args...)
		if code != 2 || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("%s: got exit %d, stdout %q, stderr %q; want 2, %q, %q", tt.name, code, out, errOut, tt.wantOut, tt.wantErr)
		}
		if !tt.wantStored && strings.Contains(out, "thumbprint") {
			t.Errorf("%s: got %q, want no certificate accepted", tt.name, out)
		}
		tt.noKeyOf.assertNoKey(t, tt.name+": output", out+errOut)
	}
	if _, errOut, code := c.run("", nil, "secret", "clear-certificate"); code != 2 || !strings.Contains(errOut, "no D-Bus session bus") {
		t.Errorf("clear-certificate without a keyring: got exit %d %q, want 2 and the keyring sentence", code, errOut)
	}
}

// certEmulator starts an emulated tenant whose app has registered (and a
// secret nobody is given) and writes config.json for c pointing at it.
func certEmulator(t *testing.T, c *cli, registered *x509.Certificate) (*emulator.Server, []string) {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 11, Mailboxes: 2, Events: 3, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: cliTenantID, ClientID: cliClientID,
		ClientSecret: "Unused~secret-of-the-certificate-test-0000", Certificate: registered, Seed: 11})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := config.Defaults()
	s.SyncType = config.SyncEWS
	s.User = tn.Mailboxes()[0]
	s.Mailboxes = tn.Mailboxes()
	s.AutodiscoverURL, s.AuthorityHost = srv.URL(), srv.URL()
	s.ExportDir = filepath.Join(c.base, "export")
	s.EWSDebug = true // the debug log must not hold the key either
	if err := config.Save(c.configFile(), s); err != nil {
		t.Fatal(err)
	}
	return srv, tn.Mailboxes()
}

// TestCertificateSyncAndCheck runs `sync --once`, `check` and `config show`
// with the registration's certificate in EXOCAL_CLIENT_CERTIFICATE against
// an emulator that knows the certificate, and again with a certificate it
// does not know (AADSTS700027 at the token step).
func TestCertificateSyncAndCheck(t *testing.T) {
	t.Parallel()
	now := time.Now()
	good := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	unknown := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	thumb := secrets.Describe(good.leaf).Thumbprint

	c := newCLI(t, false)
	_, mailboxes := certEmulator(t, c, good.leaf)
	envFor := func(b testBundle) []string {
		return []string{secrets.EnvTenantID + "=" + cliTenantID, secrets.EnvClientID + "=" + cliClientID, secrets.EnvClientCertificate + "=" + b.pem}
	}

	out, errOut, code := c.run("", envFor(good), "sync", "--once", "-v")
	if code != 0 {
		t.Fatalf("sync --once with the registered certificate: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, m := range mailboxes {
		if !strings.Contains(out, m) || !strings.Contains(out, "ok") {
			t.Errorf("sync --once: want an ok line for %s in\n%s", m, out)
		}
	}
	good.assertNoKey(t, "sync --once output", out+errOut)

	out, errOut, code = c.run("", envFor(good), "check")
	if code != 0 || !strings.Contains(out, "client certificate set (thumbprint "+thumb) || !strings.Contains(out, "for the certificate (thumbprint "+thumb) {
		t.Errorf("check with the registered certificate: got exit %d, want 0 and the certificate named\n%s\n%s", code, out, errOut)
	}
	good.assertNoKey(t, "check output", out+errOut)

	out, errOut, code = c.run("", envFor(good), "config", "show")
	var shownDoc struct {
		ClientSecret      string `json:"client_secret"`
		ClientCertificate string `json:"client_certificate"`
	}
	if err := json.Unmarshal([]byte(out), &shownDoc); code != 0 || err != nil {
		t.Fatalf("config show: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if want := "from " + secrets.EnvClientCertificate + " (thumbprint " + thumb + ", expires " + good.leaf.NotAfter.UTC().Format(time.DateOnly); !strings.HasPrefix(shownDoc.ClientCertificate, want) {
		t.Errorf("config show: got client_certificate %q, want it to start with %q", shownDoc.ClientCertificate, want)
	}
	good.assertNoKey(t, "config show output", out+errOut)

	// A certificate Entra does not know: the token step fails with 700027.
	out, errOut, code = c.run("", envFor(unknown), "sync", "--once")
	if code != exitSetup || !strings.Contains(errOut, "AADSTS700027") || !strings.Contains(errOut, "Upload certificate") {
		t.Errorf("sync --once with an unknown certificate: got exit %d, want %d and the AADSTS700027 finding with its fix\n%s\n%s", code, exitSetup, out, errOut)
	}
	unknown.assertNoKey(t, "sync --once output", out+errOut)
	out, errOut, code = c.run("", envFor(unknown), "check", "--json")
	var doc struct {
		Steps []struct{ ID, State, Cause, Finding, Fix string } `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitSetup {
		t.Fatalf("check --json with an unknown certificate: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	found := false
	for _, s := range doc.Steps {
		if s.ID == "token" {
			found = true
			if s.State != "failed" || s.Cause != "invalid-certificate" || !strings.Contains(s.Finding, "AADSTS700027") ||
				!strings.Contains(s.Finding, secrets.Describe(unknown.leaf).Thumbprint) || !strings.Contains(s.Fix, "Certificates & secrets > Certificates") {
				t.Errorf("token step: got %s %s %q / %q, want failed invalid-certificate with the thumbprint and the upload fix", s.State, s.Cause, s.Finding, s.Fix)
			}
		}
	}
	if !found {
		t.Errorf("check --json: no token step in\n%s", out)
	}
	unknown.assertNoKey(t, "check --json output", out+errOut)

	// Nothing on disk — config.json, the state database, the EWS debug
	// log, the ICS files — holds either key.
	root := c.base
	good.assertTreeHasNoKey(t, root)
	unknown.assertTreeHasNoKey(t, root)
}

// TestRealKeyringCertificateCLI stores a certificate with `secret set
// --certificate` in a real, throw-away gnome-keyring, syncs and checks with
// it, and clears it again. It writes the "default" profile, so it runs only
// inside a keyring session:
//
//	.ci/keyring-session.sh env EXOCAL_REAL_KEYRING=1 go test -tags migrated_fynedo -count=1 -run RealKeyring -v .
func TestRealKeyringCertificateCLI(t *testing.T) {
	inSession := os.Getenv("EXOCAL_KEYRING_SESSION") == "1" || os.Getenv("KEYRING_SESSION_ACTIVE") == "1"
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" || !inSession {
		t.Skip("run under .ci/keyring-session.sh with EXOCAL_REAL_KEYRING=1 (it writes the default profile)")
	}
	secretTool := testenv.LookPath(t, "secret-tool", "libsecret-tools")
	t.Cleanup(func() { exec.Command(secretTool, "clear", "service", "exocal", "username", "default").Run() })
	now := time.Now()
	good := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	unknown := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	thumb := secrets.Describe(good.leaf).Thumbprint
	c := newCLI(t, true)
	certEmulator(t, c, good.leaf)
	for _, args := range [][]string{{"config", "set", "tenant_id", cliTenantID}, {"config", "set", "client_id", cliClientID}} {
		if _, errOut, code := c.run("", nil, args...); code != 0 {
			t.Fatalf("exocal %v: exit %d %s", args, code, errOut)
		}
	}
	// A secret too, which the certificate must win over (Entra would reject it).
	if _, errOut, code := c.run("Wrong~secret-the-certificate-wins-over-00\n", nil, "secret", "set"); code != 0 {
		t.Fatalf("secret set: exit %d %s", code, errOut)
	}
	out, errOut, code := c.run(good.pem, nil, "secret", "set", "--certificate")
	if code != 0 || !strings.Contains(out, "thumbprint "+thumb) || !strings.Contains(out, "not used while a certificate is stored") {
		t.Fatalf("secret set --certificate: exit %d\n%s\n%s", code, out, errOut)
	}
	good.assertNoKey(t, "secret set --certificate output", out+errOut)
	raw, err := exec.Command(secretTool, "lookup", "service", "exocal", "username", "default").Output()
	if err != nil || !strings.Contains(string(raw), good.keyLines[0]) {
		t.Fatalf("keyring entry: %v; want the bundle in it", err)
	}
	out, errOut, code = c.run("", nil, "config", "show")
	if code != 0 || !strings.Contains(out, `"client_certificate": "stored (thumbprint `+thumb) {
		t.Errorf("config show: exit %d, want the stored certificate's thumbprint\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code = c.run("", nil, "sync", "--once"); code != 0 {
		t.Errorf("sync --once with the stored certificate: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code = c.run("", nil, "check"); code != 0 || !strings.Contains(out, "for the certificate (thumbprint "+thumb) {
		t.Errorf("check with the stored certificate: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code = c.run(unknown.pem, nil, "secret", "set", "--certificate"); code != 0 {
		t.Fatalf("secret set --certificate (unknown): exit %d %s", code, errOut)
	}
	if out, errOut, code = c.run("", nil, "check"); code != exitSetup || !strings.Contains(out, "AADSTS700027") {
		t.Errorf("check with an unknown certificate: got exit %d, want %d and AADSTS700027\n%s\n%s", code, exitSetup, out, errOut)
	}
	if out, errOut, code = c.run("", nil, "secret", "clear-certificate"); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("clear-certificate: exit %d %s %s", code, out, errOut)
	}
	if out, _, _ = c.run("", nil, "config", "show"); !strings.Contains(out, `"client_certificate": "none"`) {
		t.Errorf("config show after clear-certificate: want none in\n%s", out)
	}
	good.assertTreeHasNoKey(t, c.base)
	unknown.assertTreeHasNoKey(t, c.base)
}

// TestSyncRefusesExpiredCertificate: `sync --once` names an expired or
// unusable certificate before sending anything.
func TestSyncRefusesExpiredCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	expired := newTestBundle(t, now.AddDate(-1, 0, 0), now.Add(-time.Hour))
	good := newTestBundle(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	c := newCLI(t, false)
	certEmulator(t, c, expired.leaf)
	keyOnly := good.pem[strings.Index(good.pem, "-----BEGIN PRIVATE KEY"):]
	tests := []struct {
		name, bundle, want, fix string
	}{
		// The certificate comes from EXOCAL_CLIENT_CERTIFICATE: the fix says so.
		{"expired", expired.pem, "has expired", "put the new PEM text in EXOCAL_CLIENT_CERTIFICATE"},
		{"key without certificate", keyOnly, "cannot be used", "exocal secret set --certificate"},
	}
	for _, tt := range tests {
		env := []string{secrets.EnvTenantID + "=" + cliTenantID, secrets.EnvClientID + "=" + cliClientID, secrets.EnvClientCertificate + "=" + tt.bundle}
		out, errOut, code := c.run("", env, "sync", "--once")
		if code != exitSetup || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, tt.fix) {
			t.Errorf("%s: got exit %d %q %q, want %d and %q with the fix", tt.name, code, out, errOut, exitSetup, tt.want)
		}
		expired.assertNoKey(t, tt.name, out+errOut)
		good.assertNoKey(t, tt.name, out+errOut)
	}
}
