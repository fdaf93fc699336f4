package settings

// The tests share Fyne's global test app (test.NewTempApp), so they do not
// run in parallel.

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// fakeStore records Save calls; saveErr is what Save returns.
type fakeStore struct {
	settings       config.Settings
	tenant, client string
	secretStored   bool
	regErr         error
	saveErr        error

	saves []saved
	calls []string

	// Diagnoser (diagnose_test.go)
	checkFn func(ctx context.Context, s config.Settings, tenant, client, secret string, progress func(check.Step)) check.Report
	checks  []checked
	findURL string
	findErr error
	finds   []string
}

type saved struct {
	s                      config.Settings
	tenant, client, secret string
}

func (f *fakeStore) Settings() config.Settings {
	f.calls = append(f.calls, "Settings")
	return f.settings
}

func (f *fakeStore) Registration() (string, string, bool, error) {
	f.calls = append(f.calls, "Registration")
	return f.tenant, f.client, f.secretStored, f.regErr
}

func (f *fakeStore) Save(s config.Settings, tenant, client, secret string) error {
	f.calls = append(f.calls, "Save")
	f.saves = append(f.saves, saved{s, tenant, client, secret})
	return f.saveErr
}

func open(t *testing.T, store Store) *Window {
	t.Helper()
	a := test.NewTempApp(t)
	w := NewWindow(a, store, nil)
	w.Show()
	if !w.Visible() {
		t.Fatalf("got a hidden window after Show, want it visible")
	}
	return w
}

func typeLines(e *widget.Entry, lines ...string) {
	for i, l := range lines {
		if i > 0 {
			e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		}
		test.Type(e, l)
	}
}

func TestTypeEveryFieldAndOK(t *testing.T) {
	store := &fakeStore{settings: config.Settings{Version: 1, PollInterval: config.Duration(300e9), AuthorityHost: "http://127.0.0.1:1"}}
	w := open(t, store)
	f := w.Form()

	f.syncType.SetSelected(SyncTypeEWS)
	test.Type(f.user, "admin@contoso.com")
	test.Type(f.autodiscoverURL, "https://autodiscover.contoso.com")
	f.exchangeServer.SetSelected(ServerInternal)
	test.Type(f.clientID, "11111111-2222-3333-4444-555555555555")
	test.Type(f.tenantID, " contoso.onmicrosoft.com ")
	f.supportedAccount.SetSelected(AccountMulti)
	test.Type(f.secret, "s3cr3t~Value.With.Dots")
	test.Type(f.secretExpires, "2027-06-30")
	test.Type(f.maxSubs, "150")
	test.Tap(f.ewsDebug)
	typeLines(f.mailboxes, "alice@contoso.com", "room1@contoso.com ", "")
	test.Type(f.exportDir, "/srv/ics")
	test.Type(f.pastDays, "7")
	test.Type(f.futureDays, "90")
	f.privacy.SetSelected(PrivacyFreeBusy)
	test.Tap(f.ok)

	if len(store.saves) != 1 {
		t.Fatalf("Save calls: got %d, want 1", len(store.saves))
	}
	got := store.saves[0]
	want := saved{
		s: config.Settings{
			Version: 1, SyncType: "ews", User: "admin@contoso.com",
			AutodiscoverURL: "https://autodiscover.contoso.com", ExchangeServer: "internal",
			SupportedAccount: "multi", MaxSubscriptionsPerConnection: 150, EWSDebug: true,
			Mailboxes: []string{"alice@contoso.com", "room1@contoso.com"}, ExportDir: "/srv/ics",
			WindowPastDays: 7, WindowFutureDays: 90, Privacy: "free-busy",
			PollInterval: config.Duration(300e9), AuthorityHost: "http://127.0.0.1:1", SecretExpires: "2027-06-30",
		},
		tenant: "contoso.onmicrosoft.com", client: "11111111-2222-3333-4444-555555555555",
		secret: "s3cr3t~Value.With.Dots",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Save:\n got %+v,\nwant %+v", got, want)
	}
	if w.Visible() {
		t.Errorf("got the window open after a successful OK, want it closed")
	}
	if f.secret.Text != "" {
		t.Errorf("secret field after OK: got %q, want empty", f.secret.Text)
	}
}

func TestLoadShowsStoredValues(t *testing.T) {
	store := &fakeStore{
		settings: config.Settings{SyncType: "ews", User: "u@contoso.com", ExchangeServer: "external",
			SupportedAccount: "single", MaxSubscriptionsPerConnection: 200, Mailboxes: []string{"a@x", "b@x"},
			ExportDir: "/e", WindowPastDays: 30, WindowFutureDays: 365, Privacy: "full", SecretExpires: "2027-06-30"},
		tenant: "t-id", client: "c-id", secretStored: true,
	}
	f := open(t, store).Form()
	checks := []struct{ name, got, want string }{
		{"sync type", f.syncType.Selected, SyncTypeEWS},
		{"user", f.user.Text, "u@contoso.com"},
		{"exchange server", f.exchangeServer.Selected, ServerExternal},
		{"supported account", f.supportedAccount.Selected, AccountSingle},
		{"max subscriptions", f.maxSubs.Text, "200"},
		{"mailboxes", f.mailboxes.Text, "a@x\nb@x"},
		{"export dir", f.exportDir.Text, "/e"},
		{"past", f.pastDays.Text, "30"},
		{"future", f.futureDays.Text, "365"},
		{"privacy", f.privacy.Selected, PrivacyFull},
		{"tenant", f.tenantID.Text, "t-id"},
		{"client", f.clientID.Text, "c-id"},
		{"secret text", f.secret.Text, ""},
		{"secret expires", f.secretExpires.Text, "2027-06-30"},
		{"secret placeholder", f.secret.PlaceHolder, SecretStored},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if !f.secret.Password {
		t.Errorf("secret field: got unmasked, want a password entry")
	}
}

func TestSecretPlaceholderWhenNotStored(t *testing.T) {
	f := open(t, &fakeStore{}).Form()
	if f.secret.PlaceHolder != SecretPlaceholder || f.secret.Text != "" {
		t.Errorf("got text %q placeholder %q, want empty and %q", f.secret.Text, f.secret.PlaceHolder, SecretPlaceholder)
	}
}

func TestSaveErrorKeepsWindowOpen(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		key     string // where the message must appear ("" = general line)
		want    string
		general string
	}{
		{"field error", config.Errors{{Key: "max_subscriptions_per_connection", Label: "Max subscriptions per connection", Message: "must be from 1 to 200."}},
			"max_subscriptions_per_connection", "Max subscriptions per connection: must be from 1 to 200.", "Not saved: 1 value to fix"},
		{"two fields", config.Errors{
			{Key: "tenant_id", Label: "Tenant ID", Message: "\"common\" is refused for app-only; enter your tenant's ID."},
			{Key: "window_future_days", Label: "Sync window (days ahead)", Message: "enter 0 to 3650."}},
			"window_future_days", "Sync window (days ahead): enter 0 to 3650.", "Not saved: 2 values to fix"},
		{"field not in the form", config.Errors{{Key: "poll_interval", Label: "Poll interval", Message: "enter at least 30s."}},
			"", "Not saved: Poll interval: enter at least 30s.", "Not saved: Poll interval"},
		{"keyring error", errString("secrets: no Secret Service on the session bus; install GNOME Keyring"),
			"", "Not saved: secrets: no Secret Service on the session bus; install GNOME Keyring.", "Not saved: secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{saveErr: tt.err}
			w := open(t, store)
			f := w.Form()
			test.Type(f.secret, "new-secret")
			test.Tap(f.ok)
			if len(store.saves) != 1 {
				t.Fatalf("Save calls: got %d, want 1", len(store.saves))
			}
			if !w.Visible() {
				t.Errorf("got the window closed, want it open after a failed save")
			}
			if got := f.Message(tt.key); got != tt.want {
				t.Errorf("message for %q: got %q, want %q", tt.key, got, tt.want)
			}
			if got := f.Message(""); !strings.HasPrefix(got, tt.general) {
				t.Errorf("general line: got %q, want it to start with %q", got, tt.general)
			}
			if f.errs[tt.key] != nil && !f.errs[tt.key].Visible() {
				t.Errorf("message for %q: got hidden, want shown", tt.key)
			}
			// Fixing and pressing OK again clears the messages.
			store.saveErr = nil
			test.Tap(f.ok)
			if f.Message(tt.key) != "" || f.Message("") != "" || w.Visible() {
				t.Errorf("after a good OK: got message %q / %q, visible %v; want none, closed", f.Message(tt.key), f.Message(""), w.Visible())
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestBadNumberNeverReachesSave(t *testing.T) {
	for _, tt := range []struct{ field, key string }{
		{"max", "max_subscriptions_per_connection"}, {"past", "window_past_days"}, {"future", "window_future_days"},
	} {
		t.Run(tt.field, func(t *testing.T) {
			store := &fakeStore{}
			w := open(t, store)
			f := w.Form()
			e := map[string]*widget.Entry{"max": f.maxSubs, "past": f.pastDays, "future": f.futureDays}[tt.field]
			test.Type(e, "12x")
			test.Tap(f.ok)
			if len(store.saves) != 0 {
				t.Errorf("Save calls: got %d, want 0", len(store.saves))
			}
			got := f.Message(tt.key)
			if !strings.HasPrefix(got, config.Labels[tt.key]+": \"12x\" is not a whole number") {
				t.Errorf("got %q, want the field's name and the fix", got)
			}
			if !w.Visible() {
				t.Errorf("got the window closed, want it open")
			}
		})
	}
}

func TestGUIDSecretWarnsOnce(t *testing.T) {
	store := &fakeStore{}
	f := open(t, store).Form()
	test.Type(f.secret, "9b2c6f9e-1d2a-4c3b-8f1e-0a1b2c3d4e5f")
	test.Tap(f.ok)
	if len(store.saves) != 0 || !strings.Contains(f.Message("client_secret"), "secret's ID, not its Value") {
		t.Fatalf("first OK: got %d saves, message %q; want 0 and the ID warning", len(store.saves), f.Message("client_secret"))
	}
	test.Tap(f.ok)
	if len(store.saves) != 1 || store.saves[0].secret != "9b2c6f9e-1d2a-4c3b-8f1e-0a1b2c3d4e5f" {
		t.Errorf("second OK: got %+v, want the secret saved anyway", store.saves)
	}
}

func TestCancelCallsNothing(t *testing.T) {
	store := &fakeStore{settings: config.Settings{User: "old@contoso.com"}}
	w := open(t, store)
	f := w.Form()
	store.calls = nil
	test.Type(f.user, "-edited")
	test.Type(f.secret, "typed-but-cancelled")
	test.Tap(f.cancel)
	if len(store.calls) != 0 {
		t.Errorf("store calls on Cancel: got %v, want none", store.calls)
	}
	if w.Visible() {
		t.Errorf("got the window open after Cancel, want it closed")
	}
	w.Show() // the edits are gone
	if f.user.Text != "old@contoso.com" || f.secret.Text != "" {
		t.Errorf("after Cancel and Show: got user %q secret %q, want %q and empty", f.user.Text, f.secret.Text, "old@contoso.com")
	}
}

func TestShowWhileOpenKeepsEdits(t *testing.T) {
	store := &fakeStore{}
	w := open(t, store)
	test.Type(w.Form().user, "half-typed")
	w.Show() // a second launch brings the window forward
	if got := w.Form().user.Text; got != "half-typed" {
		t.Errorf("got %q, want the edit kept", got)
	}
}

func TestRegistrationErrorShown(t *testing.T) {
	f := open(t, &fakeStore{regErr: errString("secrets: the keyring is locked; unlock it")}).Form()
	if got := f.Message(""); !strings.Contains(got, "the keyring is locked") {
		t.Errorf("got %q, want the keyring error", got)
	}
}

// The field labels are the seed's words, in the seed's order.
func TestFieldOrder(t *testing.T) {
	f := open(t, &fakeStore{}).Form()
	var got []string
	for _, o := range test.LaidOutObjects(f.Content()) {
		if l, ok := o.(*widget.Label); ok && l.TextStyle.Bold {
			got = append(got, l.Text)
		}
	}
	want := []string{"Sync-Type", "User", "Autodiscover URL", "Exchange server to be used", "Client ID", "Tenant ID",
		"Supported account", "Client Secret", "Client secret expires on", "Max subscriptions per connection", "EWS protocol debugging",
		"Mailboxes to sync", "Export folder", "Sync window", "Privacy"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q,\nwant %q", got, want)
	}
}

func TestCopyManifestSnippet(t *testing.T) {
	store := &fakeStore{}
	f := open(t, store).Form()
	store.calls = nil
	test.Tap(f.manifest)
	got := fyne.CurrentApp().Clipboard().Content()
	for _, want := range []string{`"resourceAppId": "00000002-0000-0ff1-ce00-000000000000"`, `"id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40"`, `"type": "Role"`} {
		if !strings.Contains(got, want) {
			t.Errorf("clipboard: got %q, want it to contain %s", got, want)
		}
	}
	if !json.Valid([]byte("{" + got + "}")) {
		t.Errorf("clipboard: got %q, want a JSON member that pastes into the manifest", got)
	}
	if !strings.Contains(f.note.Text, "admin consent") || !f.note.Visible() {
		t.Errorf("note: got %q (visible %v), want the next steps shown", f.note.Text, f.note.Visible())
	}
	if len(store.calls) != 0 {
		t.Errorf("store calls: got %v, want none", store.calls)
	}
}

// A GUID-looking secret's warning comes with the other fields' problems,
// not one OK later.
func TestGUIDSecretWarningShowsOtherProblems(t *testing.T) {
	store := &fakeStore{}
	f := open(t, store).Form()
	f.syncType.SetSelected(SyncTypeEWS)
	setType(f.tenantID, "common")
	test.Type(f.secret, "9b2c6f9e-1d2a-4c3b-8f1e-0a1b2c3d4e5f")
	test.Tap(f.ok)
	if len(store.saves) != 0 {
		t.Fatalf("got %d saves, want none", len(store.saves))
	}
	if !strings.Contains(f.Message("client_secret"), "secret's ID, not its Value") || f.Message("tenant_id") == "" {
		t.Errorf("first OK: secret %q, tenant %q; want the ID warning and the tenant's problem together", f.Message("client_secret"), f.Message("tenant_id"))
	}
}

// A secret that EXOCAL_CLIENT_SECRET supplies is not called "stored".
func TestSecretFromEnvironmentIsNotCalledStored(t *testing.T) {
	t.Setenv(secrets.EnvClientSecret, "Env~secret-value")
	store := &fakeStore{secretStored: true}
	f := open(t, store).Form()
	if f.secret.PlaceHolder != SecretFromEnv {
		t.Errorf("secret placeholder: got %q, want %q", f.secret.PlaceHolder, SecretFromEnv)
	}
}
