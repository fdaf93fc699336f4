package settings

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// TestRealKeyringSettingsWindow types every field of the settings window
// (Fyne's test driver) against the real app core and the real OS keyring,
// presses OK, and checks where each value went: the registration into the
// keyring (secret-tool sees it), the rest into config.json, and the secret
// into no file, log line or command line. Run it inside a throw-away keyring:
//
//	.ci/keyring-session.sh env EXOCAL_REAL_KEYRING=1 go test -tags migrated_fynedo -run RealKeyring ./ui/settings
func TestRealKeyringSettingsWindow(t *testing.T) {
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" {
		t.Skip("set EXOCAL_REAL_KEYRING=1 and run inside .ci/keyring-session.sh")
	}
	for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret} {
		t.Setenv(env, "") // the keyring, not the environment, must supply the registration
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	cfgPath := filepath.Join(dir, "config", "exocal", "config.json")
	exportDir := filepath.Join(dir, "calendars")
	profile := "ui-test-" + randHex(t, 4)
	secret := "Zx8Q~real.keyring." + randHex(t, 12) // shaped like an Entra secret value
	const tenant, client = "contoso.onmicrosoft.com", "2f6a1c4e-8b1d-4c1e-9a53-6d0e7f4b2a91"

	var logs bytes.Buffer
	newCore := func() *app.App {
		core, err := app.New(app.Options{
			ConfigPath: cfgPath, Secrets: secrets.Default(), Profile: profile,
			Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			SocketPath: filepath.Join(dir, "exocal.sock"),
		})
		if err != nil {
			t.Fatalf("app.New: %v", err)
		}
		return core
	}
	t.Cleanup(func() { _ = secrets.NewKeyring().Delete(context.Background(), profile) })

	a := test.NewTempApp(t)
	w := NewWindow(a, newCore(), nil)
	w.Show()
	f := w.Form()
	if f.secret.PlaceHolder != SecretPlaceholder {
		t.Errorf("fresh keyring: got secret placeholder %q, want %q", f.secret.PlaceHolder, SecretPlaceholder)
	}
	f.syncType.SetSelected(SyncTypeEWS)
	setType(f.user, "admin@contoso.com")
	setType(f.autodiscoverURL, "https://autodiscover.contoso.com")
	f.exchangeServer.SetSelected(ServerInternal)
	setType(f.clientID, client)
	setType(f.tenantID, tenant)
	f.supportedAccount.SetSelected(AccountMulti)
	setType(f.secret, secret)
	setType(f.maxSubs, "150")
	test.Tap(f.ewsDebug)
	f.mailboxes.SetText("")
	typeLines(f.mailboxes, "alice@contoso.com", "room1@contoso.com")
	setType(f.exportDir, exportDir)
	setType(f.pastDays, "7")
	setType(f.futureDays, "90")
	f.privacy.SetSelected(PrivacyFreeBusy)
	test.Tap(f.ok)
	if w.Visible() {
		t.Fatalf("OK did not save: general %q, fields %v", f.Message(""), shownErrors(f))
	}

	// The keyring holds the registration; secret-tool (another client of the Secret Service) sees it.
	out, err := exec.Command("secret-tool", "search", "--all", "service", secrets.KeyringService, "username", profile).CombinedOutput()
	if err != nil {
		t.Fatalf("secret-tool search: %v", err)
	}
	for _, want := range []string{secret, tenant, client} {
		if !strings.Contains(string(out), want) {
			t.Errorf("secret-tool search service %s username %s: the entry lacks a value typed into the form (values not printed)", secrets.KeyringService, profile)
		}
	}

	// config.json holds the rest, and nothing of the registration.
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var got config.Settings
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	want := config.Settings{SyncType: "ews", User: "admin@contoso.com", AutodiscoverURL: "https://autodiscover.contoso.com",
		ExchangeServer: "internal", SupportedAccount: "multi", MaxSubscriptionsPerConnection: 150, EWSDebug: true,
		Mailboxes: []string{"alice@contoso.com", "room1@contoso.com"}, ExportDir: exportDir,
		WindowPastDays: 7, WindowFutureDays: 90, Privacy: "free-busy"}
	got.Version, got.PollInterval, got.AuthorityHost, got.EWSURL = 0, 0, "", ""
	if !config.Equal(got, want) {
		t.Errorf("config.json:\n got %+v,\nwant %+v", got, want)
	}
	for _, leak := range []string{secret, tenant, client} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("config.json contains %q; the registration belongs in the keyring only", leak)
		}
	}
	// Nor in the logs, any file under the test's folders, or this process's command line.
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log contains the secret:\n%s", logs.String())
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains the secret", p)
			}
		}
		return nil
	})
	if cmd, _ := os.ReadFile("/proc/self/cmdline"); bytes.Contains(cmd, []byte(secret)) {
		t.Errorf("/proc/self/cmdline contains the secret")
	}

	// A new start reads it all back; the secret stays write-only.
	w2 := NewWindow(a, newCore(), nil)
	w2.Show()
	f2 := w2.Form()
	if f2.tenantID.Text != tenant || f2.clientID.Text != client || f2.user.Text != "admin@contoso.com" {
		t.Errorf("reloaded: got tenant %q client %q user %q, want %q %q %q", f2.tenantID.Text, f2.clientID.Text, f2.user.Text, tenant, client, "admin@contoso.com")
	}
	if f2.secret.Text != "" || f2.secret.PlaceHolder != SecretStored {
		t.Errorf("reloaded secret field: got text %q placeholder %q, want empty and %q", f2.secret.Text, f2.secret.PlaceHolder, SecretStored)
	}
	// OK with the secret left empty keeps the stored one.
	test.Tap(f2.ok)
	if out, _ := exec.Command("secret-tool", "search", "--all", "service", secrets.KeyringService, "username", profile).CombinedOutput(); !strings.Contains(string(out), secret) {
		t.Errorf("after OK with an empty secret field: the keyring entry no longer holds the stored secret")
	}
}

// setType replaces an entry's text by typing s into it.
func setType(e *widget.Entry, s string) {
	e.SetText("")
	test.Type(e, s)
}

func shownErrors(f *Form) map[string]string {
	out := map[string]string{}
	for k, l := range f.errs {
		if l.Text != "" {
			out[k] = l.Text
		}
	}
	return out
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
