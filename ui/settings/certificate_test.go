package settings

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
)

// The real core tells the form about the certificate.
var _ Certifier = (*app.App)(nil)

// certStore is the fake core with a certificate (a Certifier).
type certStore struct {
	*fakeStore
	info   secrets.CertificateInfo
	stored bool
	err    error
	asked  int
}

func (c *certStore) ClientCertificate() (secrets.CertificateInfo, bool, error) {
	c.asked++
	return c.info, c.stored, c.err
}

func TestCertificateLine(t *testing.T) {
	info := secrets.CertificateInfo{Thumbprint: "0A1B2C3D4E5F60718293A4B5C6D7E8F901234567", NotAfter: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)}
	tests := []struct {
		name  string
		store Store
		want  string
	}{
		{"no certifier", &fakeStore{secretStored: true}, ""},
		{"none stored", &certStore{fakeStore: &fakeStore{secretStored: true}}, ""},
		{"stored", &certStore{fakeStore: &fakeStore{secretStored: true}, info: info, stored: true},
			"Client certificate: stored (thumbprint 0A1B2C3D4E5F60718293A4B5C6D7E8F901234567, expires 2027-03-01)"},
		{"unreadable", &certStore{fakeStore: &fakeStore{secretStored: true}, stored: true, err: errors.New("secrets: invalid PEM MIIBkTCB+w")},
			"Client certificate: stored, but it cannot be used; set it again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := open(t, tt.store).Form()
			if got := f.Certificate(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !f.certHint.Visible() || f.certHint.Text != CertificateHint {
				t.Errorf("hint: got %q (visible %v), want %q shown", f.certHint.Text, f.certHint.Visible(), CertificateHint)
			}
		})
	}
}

// Load asks again: a certificate set (or removed) while the app runs shows
// at the next opening.
func TestCertificateLineReloads(t *testing.T) {
	store := &certStore{fakeStore: &fakeStore{}}
	w := open(t, store)
	if got := w.Form().Certificate(); got != "" {
		t.Fatalf("none stored: got %q, want no line", got)
	}
	store.info, store.stored = secrets.CertificateInfo{Thumbprint: "AB", NotAfter: time.Date(2028, 1, 2, 0, 0, 0, 0, time.UTC)}, true
	w.Form().Load()
	if got, want := w.Form().Certificate(), CertificatePrefix+" (thumbprint AB, expires 2028-01-02)"; got != want {
		t.Errorf("after storing: got %q, want %q", got, want)
	}
	store.stored = false
	w.Form().Load()
	if got := w.Form().Certificate(); got != "" {
		t.Errorf("after removing: got %q, want no line", got)
	}
	if store.asked < 3 {
		t.Errorf("got %d questions, want one per Load", store.asked)
	}
}

// The real core reads the certificate from the secret store; the PEM
// never reaches a widget.
func TestCertificateLineRealCore(t *testing.T) {
	for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret, secrets.EnvClientCertificate} {
		t.Setenv(env, "")
	}
	notAfter := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	bundle := testenv.SelfSigned(t, "exocal-settings-test", time.Now().Add(-time.Hour), notAfter).PEM()
	mem := secrets.NewMemory()
	if err := mem.Set(context.Background(), secrets.DefaultProfile,
		secrets.Registration{TenantID: "contoso.onmicrosoft.com", ClientID: "c", ClientCertificate: bundle}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	core, err := app.New(app.Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: mem, SocketPath: filepath.Join(dir, "s.sock")})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWindow(test.NewTempApp(t), core, nil)
	w.Show()
	_, info, err := secrets.ParseCertificate(bundle)
	if err != nil {
		t.Fatal(err)
	}
	want := "Client certificate: stored (thumbprint " + info.Thumbprint + ", expires " + notAfter.Format(time.DateOnly) + ")"
	if got := w.Form().Certificate(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	body := strings.TrimSpace(strings.Split(bundle, "\n")[1])
	for _, o := range test.LaidOutObjects(w.Form().Content()) {
		text := ""
		switch w := o.(type) {
		case *widget.Label:
			text = w.Text
		case *widget.Entry:
			text = w.Text + w.PlaceHolder
		}
		if strings.Contains(text, body[:20]) || strings.Contains(text, "BEGIN CERTIFICATE-") {
			t.Errorf("got a widget showing %q, want the PEM nowhere in the form", text)
		}
	}
}
