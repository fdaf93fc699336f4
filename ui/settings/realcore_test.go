package settings

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// realForm opens the settings window on the real app core (in-memory
// keyring, config.json in a temp dir) and fills every field with good values.
func realForm(t *testing.T) (*Window, string, *secrets.Memory) {
	t.Helper()
	for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret} {
		t.Setenv(env, "")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	mem := secrets.NewMemory()
	core, err := app.New(app.Options{ConfigPath: cfg, Secrets: mem, SocketPath: filepath.Join(dir, "s.sock")})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWindow(test.NewTempApp(t), core, nil)
	w.Show()
	f := w.Form()
	f.syncType.SetSelected(SyncTypeEWS)
	setType(f.user, "admin@contoso.com")
	setType(f.autodiscoverURL, "")
	setType(f.clientID, "2f6a1c4e-8b1d-4c1e-9a53-6d0e7f4b2a91")
	setType(f.tenantID, "contoso.onmicrosoft.com")
	setType(f.secret, "Zx8Q~good.secret.value")
	setType(f.maxSubs, "200")
	f.mailboxes.SetText("alice@contoso.com\nroom1@contoso.com")
	setType(f.exportDir, filepath.Join(dir, "calendars"))
	setType(f.pastDays, "30")
	setType(f.futureDays, "365")
	return w, cfg, mem
}

// Every bad value typed into the form, checked by the real app core, gets a
// message under its field that names the field, and nothing is saved.
func TestRealCoreBadValues(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		edit func(f *Form)
	}{
		{"user", func(f *Form) { setType(f.user, "not-an-address") }},
		{"autodiscover_url", func(f *Form) { setType(f.autodiscoverURL, "http://autodiscover.contoso.com") }},
		{"client_id", func(f *Form) { setType(f.clientID, "my-app") }},
		{"tenant_id", func(f *Form) { setType(f.tenantID, "common") }},
		{"client_secret", func(f *Form) { setType(f.secret, "") }},
		{"max_subscriptions_per_connection", func(f *Form) { setType(f.maxSubs, "201") }},
		{"max_subscriptions_per_connection", func(f *Form) { setType(f.maxSubs, "lots") }},
		{"mailboxes", func(f *Form) { f.mailboxes.SetText("alice@contoso.com\nbob@") }},
		{"export_dir", func(f *Form) { setType(f.exportDir, filepath.Join(blocker, "calendars")) }},
		{"window_past_days", func(f *Form) { setType(f.pastDays, "-1") }},
		{"window_future_days", func(f *Form) { setType(f.futureDays, "99999") }},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			w, cfg, mem := realForm(t)
			f := w.Form()
			tt.edit(f)
			test.Tap(f.ok)
			msg := f.Message(tt.key)
			t.Log(msg)
			if !strings.HasPrefix(msg, config.Labels[tt.key]+": ") || len(msg) < len(config.Labels[tt.key])+15 {
				t.Errorf("message under %s: got %q, want the field's name and the fix", tt.key, msg)
			}
			for k, l := range f.errs {
				if k != tt.key && l.Text != "" {
					t.Errorf("message under %s: got %q, want none (only %s is bad)", k, l.Text, tt.key)
				}
			}
			if !w.Visible() {
				t.Errorf("got the window closed, want it open")
			}
			if _, err := os.Stat(cfg); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("config.json: got %v, want it not written", err)
			}
			if _, err := mem.Get(context.Background(), secrets.DefaultProfile); !errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("keyring: got %v, want nothing stored", err)
			}
		})
	}
}

// The good values save: the baseline of TestRealCoreBadValues is valid.
func TestRealCoreGoodValuesSave(t *testing.T) {
	w, cfg, mem := realForm(t)
	f := w.Form()
	f.privacy.SetSelected(PrivacyFreeBusy)
	test.Tap(f.ok)
	if w.Visible() {
		t.Fatalf("got the window open (messages %q / %v), want it closed after saving", f.Message(""), shownErrors(f))
	}
	s, err := config.Load(cfg)
	if err != nil || s.Privacy != config.PrivacyFreeBusy || len(s.Mailboxes) != 2 {
		t.Errorf("config.json: got %+v, %v; want privacy free-busy and 2 mailboxes", s, err)
	}
	r, err := mem.Get(context.Background(), secrets.DefaultProfile)
	if err != nil || r.ClientSecret != "Zx8Q~good.secret.value" || r.TenantID != "contoso.onmicrosoft.com" {
		t.Errorf("keyring: got %v, %v; want the registration", r, err)
	}
}
