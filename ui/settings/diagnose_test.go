package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// --- the fake core's Diagnoser side (fakeStore is in settings_test.go) -----

type checked struct {
	s                      config.Settings
	tenant, client, secret string
}

func (f *fakeStore) Check(ctx context.Context, s config.Settings, tenant, client, secret string, progress func(check.Step)) check.Report {
	f.calls = append(f.calls, "Check")
	f.checks = append(f.checks, checked{s, tenant, client, secret})
	if f.checkFn != nil {
		return f.checkFn(ctx, s, tenant, client, secret, progress)
	}
	return check.Report{}
}

func (f *fakeStore) FindAutodiscoverServer(_ context.Context, s config.Settings) (string, error) {
	f.calls = append(f.calls, "FindAutodiscoverServer")
	f.finds = append(f.finds, s.User)
	return f.findURL, f.findErr
}

// waitCheck waits for the running "Test connection" to end.
func waitCheck(t *testing.T, f *Form) {
	t.Helper()
	if f.diag.done == nil {
		t.Fatal("no test running")
	}
	select {
	case <-f.diag.done:
	case <-time.After(60 * time.Second):
		t.Fatal("Test connection did not finish")
	}
}

func waitFind(t *testing.T, f *Form) {
	t.Helper()
	if f.diag.found == nil {
		t.Fatal("no lookup running")
	}
	select {
	case <-f.diag.found:
	case <-time.After(60 * time.Second):
		t.Fatal("Find autodiscover server did not finish")
	}
}

// renderedText is every string the window draws (what the renderers put
// on screen, not what the widgets hold), overlays included.
func renderedText(w fyne.Window) string {
	var b strings.Builder
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case nil:
		case *canvas.Text:
			b.WriteString(v.Text)
			b.WriteByte('\n')
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(w.Canvas().Content())
	for _, o := range w.Canvas().Overlays().List() {
		walk(o)
	}
	return b.String()
}

var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)

// assertNothingSecret checks the window's text and the clipboard for the
// secrets, the tokens and anything JWT-shaped.
func assertNothingSecret(t *testing.T, w fyne.Window, secretValues, tokens []string) {
	t.Helper()
	outputs := map[string]string{"window": renderedText(w), "clipboard": fyne.CurrentApp().Clipboard().Content()}
	for name, out := range outputs {
		flat := strings.ReplaceAll(out, "\n", "") // a wrapped line must not hide a secret
		for _, s := range secretValues {
			if s != "" && (strings.Contains(out, s) || strings.Contains(flat, s)) {
				t.Errorf("%s shows the secret %q", name, s)
			}
		}
		for _, tok := range tokens {
			if strings.Contains(flat, tok) {
				t.Errorf("%s shows an access token", name)
			}
			if i := strings.LastIndexByte(tok, '.'); i > 0 && len(tok)-i > 16 && strings.Contains(flat, tok[i+1:]) {
				t.Errorf("%s shows an access token's signature", name)
			}
		}
		if m := jwtShape.FindString(flat); m != "" {
			t.Errorf("%s shows a JWT-shaped string %q", name, m)
		}
		if strings.Contains(strings.ToLower(flat), "bearer ey") {
			t.Errorf("%s shows a bearer credential", name)
		}
	}
}

// rowFor returns the checklist row of a step (by ID, and mailbox when given).
func rowFor(t *testing.T, f *Form, id, mailbox string) stepRow {
	t.Helper()
	for _, r := range f.diag.rows {
		if r.step.ID == id && (mailbox == "" || strings.EqualFold(r.step.Mailbox, mailbox)) {
			return r
		}
	}
	var ids []string
	for _, r := range f.diag.rows {
		ids = append(ids, r.step.ID+"/"+r.step.State.String())
	}
	t.Fatalf("no row for step %s %s; rows: %v", id, mailbox, ids)
	return stepRow{}
}

// --- with the fake core ------------------------------------------------------

func TestTestConnectionFakeCore(t *testing.T) {
	steps := []check.Step{
		{ID: check.StepSettings, Title: "Settings are valid", State: check.StateOK, Required: true, Finding: "User a@contoso.com."},
		{ID: check.StepToken, Title: "Token from Microsoft Entra ID", State: check.StateFailed, Required: true, Cause: check.CauseInvalidSecret,
			Finding: "Entra refused the client secret (AADSTS7000215).", Fix: "In Certificates & secrets copy the Value.\n  exocal secret set"},
		{ID: check.StepClaims, Title: "Token permissions", State: check.StateSkipped, Required: true, Finding: "Skipped: \"Token\" did not pass.", Fix: "not shown"},
		{ID: check.StepSubscription, Title: "Streaming notifications", State: check.StateWarning, Finding: "Exchange refused a subscription.", Fix: "Set-Something -Identity x"},
	}
	var progressAt []int // rows shown when each step was reported
	store := &fakeStore{settings: config.Settings{Version: 1, AuthorityHost: "https://login.microsoftonline.com"}, tenant: "t-id", client: "c-id", secretStored: true}
	var f *Form
	store.checkFn = func(_ context.Context, _ config.Settings, _, _, _ string, progress func(check.Step)) check.Report {
		for _, s := range steps {
			progressAt = append(progressAt, len(f.diag.rows))
			progress(s)
		}
		return check.Report{TenantID: "t-id", ClientID: "c-id", User: "a@contoso.com", Steps: steps}
	}
	w := open(t, store)
	f = w.Form()
	test.Type(f.user, "a@contoso.com")
	test.Type(f.secret, "typed~secret.value")
	test.Type(f.secretExpires, "2027-06-30")
	test.Type(f.maxSubs, "7")
	store.calls = nil
	test.Tap(f.diag.test)
	waitCheck(t, f)

	if len(store.checks) != 1 {
		t.Fatalf("Check calls: got %d, want 1", len(store.checks))
	}
	got := store.checks[0]
	if got.s.User != "a@contoso.com" || got.secret != "typed~secret.value" || got.tenant != "t-id" || got.client != "c-id" ||
		got.s.MaxSubscriptionsPerConnection != 7 || got.s.SecretExpires != "2027-06-30" || got.s.AuthorityHost != "https://login.microsoftonline.com" {
		t.Errorf("Check got %+v, want the form's unsaved values over the loaded settings", got)
	}
	for _, c := range store.calls {
		if c == "Save" {
			t.Errorf("store calls: got %v, want no Save", store.calls)
		}
	}
	for i, n := range progressAt {
		if n != i {
			t.Errorf("step %d: got %d rows shown before it was reported, want %d (live progress)", i, n, i)
		}
	}
	if len(f.diag.rows) != len(steps) {
		t.Fatalf("rows: got %d, want %d", len(f.diag.rows), len(steps))
	}
	wantIcons := []string{"success_", "error_", "disabled_", "warning_"}
	for i, r := range f.diag.rows {
		if r.step.Title != steps[i].Title || r.finding.Text != steps[i].Finding {
			t.Errorf("row %d: got %q / %q, want %q / %q", i, r.step.Title, r.finding.Text, steps[i].Title, steps[i].Finding)
		}
		if name := r.icon.Resource.Name(); !strings.HasPrefix(name, wantIcons[i]) {
			t.Errorf("row %d (%s): got icon %q, want a %s* themed icon", i, r.step.State, name, wantIcons[i])
		}
		wantFix := steps[i].State == check.StateFailed || steps[i].State == check.StateWarning
		if (r.fix != nil) != wantFix || wantFix && r.fix.Text != steps[i].Fix {
			t.Errorf("row %d (%s): got fix %v, want shown %v with %q", i, r.step.State, r.fix, wantFix, steps[i].Fix)
		}
		if !r.finding.Selectable || r.fix != nil && (!r.fix.Selectable || r.fix.Wrapping != fyne.TextWrapWord) {
			t.Errorf("row %d: got finding/fix not selectable or not wrapping, want both", i)
		}
	}
	text := renderedText(w.Window())
	for _, want := range []string{"AADSTS7000215", "exocal secret set", "Set-Something -Identity x", "Token from Microsoft Entra ID"} {
		if !strings.Contains(text, want) {
			t.Errorf("window: got no %q on screen", want)
		}
	}
	if strings.Contains(text, "not shown") {
		t.Errorf("window: got the fix of a skipped step shown, want it hidden")
	}
	if f.diag.copy.Disabled() || f.diag.test.Disabled() {
		t.Errorf("buttons: got copy disabled %v, test disabled %v; want both enabled", f.diag.copy.Disabled(), f.diag.test.Disabled())
	}
	if !strings.Contains(f.diag.status.Text, "Failed at \"Token from Microsoft Entra ID\"") {
		t.Errorf("status: got %q, want the failed step named", f.diag.status.Text)
	}
	test.Tap(f.diag.copy)
	clip := fyne.CurrentApp().Clipboard().Content()
	for _, want := range []string{"Tenant ID: t-id", "AADSTS7000215", "exocal secret set", "[failed] Token from Microsoft Entra ID"} {
		if !strings.Contains(clip, want) {
			t.Errorf("copied details: got\n%s\nwant %q", clip, want)
		}
	}
	assertNothingSecret(t, w.Window(), []string{"typed~secret.value"}, nil)
	if w.Form().Message("") != "" {
		t.Errorf("general line: got %q, want none", w.Form().Message(""))
	}
}

func TestTestConnectionBadNumberDoesNotRun(t *testing.T) {
	store := &fakeStore{}
	f := open(t, store).Form()
	test.Type(f.pastDays, "3o")
	test.Tap(f.diag.test)
	if len(store.checks) != 0 {
		t.Errorf("Check calls: got %d, want 0", len(store.checks))
	}
	if got := f.Message(""); !strings.HasPrefix(got, "Not tested: 1 value") {
		t.Errorf("general line: got %q, want \"Not tested: 1 value…\"", got)
	}
	if got := f.Message("window_past_days"); !strings.Contains(got, "not a whole number") {
		t.Errorf("message: got %q, want the field's problem", got)
	}
}

// Reopening the window forgets the last test; a test still running when
// the window is cancelled is abandoned.
func TestTestConnectionResetOnReopen(t *testing.T) {
	store := &fakeStore{checkFn: func(ctx context.Context, _ config.Settings, _, _, _ string, progress func(check.Step)) check.Report {
		return check.Report{Steps: []check.Step{{ID: check.StepSettings, Title: "Settings are valid", State: check.StateOK, Required: true}}}
	}}
	w := open(t, store)
	f := w.Form()
	test.Tap(f.diag.test)
	waitCheck(t, f)
	if len(f.diag.rows) != 1 || !f.diag.panel.Visible() {
		t.Fatalf("got %d rows, panel visible %v; want 1 row shown", len(f.diag.rows), f.diag.panel.Visible())
	}
	test.Tap(f.cancel)
	w.Show()
	if len(f.diag.rows) != 0 || f.diag.panel.Visible() || !f.diag.copy.Disabled() {
		t.Errorf("after reopening: got %d rows, panel visible %v, copy disabled %v; want none, hidden, disabled",
			len(f.diag.rows), f.diag.panel.Visible(), f.diag.copy.Disabled())
	}
}

func TestFindAutodiscoverServerFake(t *testing.T) {
	tests := []struct {
		name      string
		user      string
		url       string
		err       error
		use       bool
		wantField string
		wantMsg   string // under the Autodiscover URL field
		wantCalls int
	}{
		{name: "found and used", user: "a@contoso.com", url: "https://autodiscover.contoso.com/autodiscover/autodiscover.svc", use: true,
			wantField: "https://autodiscover.contoso.com/autodiscover/autodiscover.svc", wantCalls: 1},
		{name: "found and kept", user: "a@contoso.com", url: "https://autodiscover.contoso.com/autodiscover/autodiscover.svc", use: false,
			wantField: "https://mine.contoso.com", wantCalls: 1},
		{name: "error inline", user: "a@contoso.com", err: errors.New("autodiscover: v2: 404 Not Found"),
			wantField: "https://mine.contoso.com", wantMsg: "Autodiscover URL: Autodiscover V2 found no server for a@contoso.com: autodiscover: v2: 404 Not Found.", wantCalls: 1},
		{name: "no user", user: "", wantField: "https://mine.contoso.com", wantMsg: "Autodiscover URL: enter the User first", wantCalls: 0},
		{name: "bad user", user: "alice", wantField: "https://mine.contoso.com", wantMsg: "User: ", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{findURL: tt.url, findErr: tt.err}
			w := open(t, store)
			f := w.Form()
			test.Type(f.user, tt.user)
			test.Type(f.autodiscoverURL, "https://mine.contoso.com")
			test.Tap(f.diag.find)
			if tt.wantCalls > 0 {
				waitFind(t, f)
			}
			if len(store.finds) != tt.wantCalls {
				t.Fatalf("FindAutodiscoverServer calls: got %d, want %d", len(store.finds), tt.wantCalls)
			}
			if tt.wantCalls > 0 {
				if store.finds[0] != tt.user {
					t.Errorf("looked up %q, want %q", store.finds[0], tt.user)
				}
			}
			if tt.url != "" {
				if f.diag.confirm == nil {
					t.Fatal("got no confirm dialog, want one offering the URL")
				}
				if text := renderedText(w.Window()); !strings.Contains(text, tt.url) {
					t.Errorf("dialog: got no %q on screen", tt.url)
				}
				label := KeepServer
				if tt.use {
					label = UseServer
				}
				tapButton(t, w.Window(), label)
			}
			if f.autodiscoverURL.Text != tt.wantField {
				t.Errorf("Autodiscover URL: got %q, want %q", f.autodiscoverURL.Text, tt.wantField)
			}
			msg := f.Message("autodiscover_url")
			if tt.name == "bad user" {
				msg = f.Message("autodiscover_url") + f.Message("user")
			}
			if tt.wantMsg == "" && msg != "" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message: got %q, want %q", msg, tt.wantMsg)
			}
			if len(store.saves) != 0 {
				t.Errorf("Save calls: got %d, want 0", len(store.saves))
			}
		})
	}
}

// tapButton taps the button with that text in the window's top overlay.
func tapButton(t *testing.T, w fyne.Window, text string) {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			test.Tap(b)
			return
		}
	}
	t.Fatalf("no button %q in the dialog", text)
}

// --- with the real app core against the emulator -----------------------------

const (
	emuTenantID = "5d1c0a2b-3e4f-4a5b-8c6d-7e8f90a1b2c3"
	emuClientID = "9b8a7c6d-5e4f-4321-8fed-cba987654321"
	emuSecret   = "Qz7~settings-test-secret-value.AbCdEf0123456789"
)

type emuTenant struct {
	srv       *emulator.Server
	mailboxes []string
}

func startEmulator(t *testing.T, modes ...emulator.Mode) emuTenant {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 5, Mailboxes: 2, Events: 2, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: emuSecret,
		Seed: 5, Heartbeat: 200 * time.Millisecond, Modes: modes})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return emuTenant{srv: srv, mailboxes: tn.Mailboxes()}
}

// emuSettings are saved settings pointing at the emulator.
func (e emuTenant) settings(t *testing.T) config.Settings {
	s := config.Defaults()
	s.SyncType = config.SyncEWS
	s.User = e.mailboxes[0]
	s.Mailboxes = append([]string(nil), e.mailboxes...)
	s.AutodiscoverURL = e.srv.URL()
	s.AuthorityHost = e.srv.URL()
	s.ExportDir = filepath.Join(t.TempDir(), "calendars")
	return s
}

// realEmuWindow opens the settings window on the real app core whose
// config.json and (in-memory) keyring point at the emulator.
func realEmuWindow(t *testing.T, e emuTenant) *Window {
	t.Helper()
	return realEmuWindowAt(t, e, nil)
}

// realEmuWindowAt is realEmuWindow with the core's clock (nil: the real one).
func realEmuWindowAt(t *testing.T, e emuTenant, now func() time.Time) *Window {
	t.Helper()
	for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret} {
		t.Setenv(env, "")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := config.Save(cfg, e.settings(t)); err != nil {
		t.Fatal(err)
	}
	mem := secrets.NewMemory()
	if err := mem.Set(context.Background(), secrets.DefaultProfile,
		secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: emuSecret}); err != nil {
		t.Fatal(err)
	}
	core, err := app.New(app.Options{ConfigPath: cfg, Secrets: mem, SocketPath: filepath.Join(dir, "s.sock"), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWindow(test.NewTempApp(t), core, nil)
	w.Show()
	if w.Form().diag == nil {
		t.Fatal("got no Test connection with *app.App, want it (app.App must satisfy Diagnoser)")
	}
	return w
}

// finding is one case of app/check's TestFindings (emulator_test.go),
// driven through the settings window instead of check.Input: the same
// emulator mode or per-mailbox state, or the same mistake typed into the
// form, and the same expected phrases (from app/check/findings.go).
// {user} and {mb1} in mailbox, finding and fix are the emulator's first
// (the User) and second mailbox.
type finding struct {
	name    string
	modes   []emulator.Mode
	edit    func(f *Form, e emuTenant) // form edits and emulator state, before the test runs
	now     func() time.Time           // the core's clock (nil: the real one)
	step    string
	mailbox string
	state   check.State
	finding []string
	fix     []string
	secret  string // a secret typed into the form, never to be shown
}

// otherGUID is a well-formed ID the emulated tenant does not know.
const otherGUID = "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"

var findings = []finding{
	{name: "wrong secret", edit: func(f *Form, _ emuTenant) { test.Type(f.secret, "Wrong~secret-value-0000000000000000000") },
		step: check.StepToken, state: check.StateFailed, finding: []string{"AADSTS7000215"},
		fix: []string{"Certificates & secrets", "Value", emuClientID, "exocal secret set"}, secret: "Wrong~secret-value-0000000000000000000"},
	{name: "secret ID pasted", edit: func(f *Form, _ emuTenant) { test.Type(f.secret, "7c1e2d3f-4a5b-4c6d-8e7f-901a2b3c4d5e") },
		step: check.StepToken, state: check.StateFailed, finding: []string{"AADSTS7000215", "GUID", "ID, not its Value"},
		fix: []string{"Value column", "Secret ID"}, secret: "7c1e2d3f-4a5b-4c6d-8e7f-901a2b3c4d5e"},
	{name: "Client ID pasted as the secret", edit: func(f *Form, _ emuTenant) { test.Type(f.secret, emuClientID) },
		step: check.StepRegistration, state: check.StateFailed, finding: []string{"holds the Client ID"},
		fix: []string{"Value column", emuClientID}},
	{name: "expired secret", modes: []emulator.Mode{emulator.ModeExpiredSecret},
		step: check.StepToken, state: check.StateFailed, finding: []string{"expired", "AADSTS7000222"},
		fix: []string{"Certificates & secrets", "New client secret", "Value", "certificate"}},
	{name: "unknown app, single tenant", edit: func(f *Form, _ emuTenant) { f.clientID.SetText(otherGUID) },
		step: check.StepToken, state: check.StateFailed, finding: []string{"AADSTS700016", otherGUID, emuTenantID},
		fix: []string{"Application (client) ID", "Directory (tenant) ID", "Supported account is \"single\""}},
	{name: "unknown app, multi-tenant without consent", edit: func(f *Form, _ emuTenant) {
		f.clientID.SetText(otherGUID)
		f.supportedAccount.SetSelected(AccountMulti)
	}, step: check.StepToken, state: check.StateFailed, finding: []string{"AADSTS700016"},
		fix: []string{"Supported account is \"multi\"", "/adminconsent?client_id=" + otherGUID}},
	{name: "unknown tenant", edit: func(f *Form, _ emuTenant) { f.tenantID.SetText(otherGUID) },
		step: check.StepToken, state: check.StateFailed, finding: []string{"AADSTS90002", otherGUID},
		fix: []string{"Directory (tenant) ID", "exocal config set tenant_id"}},
	{name: "tenant given as common", edit: func(f *Form, _ emuTenant) { f.tenantID.SetText("common") },
		step: check.StepRegistration, state: check.StateFailed, finding: []string{"\"common\"", "alias"},
		fix: []string{"Directory (tenant) ID", "exocal config set tenant_id"}},
	{name: "tenant given as organizations", edit: func(f *Form, _ emuTenant) { f.tenantID.SetText("organizations") },
		step: check.StepRegistration, state: check.StateFailed, finding: []string{"\"organizations\""},
		fix: []string{"Directory (tenant) ID"}},
	{name: "no admin consent", modes: []emulator.Mode{emulator.ModeNoConsent},
		step: check.StepClaims, state: check.StateFailed, finding: []string{"no roles", "admin consent"},
		fix: []string{"API permissions", "Grant admin consent for", emuTenantID, "Wait a few minutes"}},
	{name: "EWS disabled", modes: []emulator.Mode{emulator.ModeEWSDisabled},
		step: check.StepEWS, state: check.StateFailed, finding: []string{"403", "X-EWS-Policy-Reason"},
		fix: []string{"Connect-ExchangeOnline", "Format-List EwsEnabled,EwsAllowedAppIDs", "Set-OrganizationConfig -EwsEnabled $true",
			"Set-OrganizationConfig -EwsAllowedAppIDs", "'" + emuClientID + "'", "24 hours", "1 Apr 2027", "Graph"}},
	{name: "app not allow-listed", modes: []emulator.Mode{emulator.ModeNotAllowlisted},
		step: check.StepEWS, state: check.StateFailed, finding: []string{"EwsAllowedAppIDs", "403"},
		fix: []string{"Set-OrganizationConfig -EwsAllowedAppIDs", emuClientID, "24 hours", "1 Apr 2027"}},
	{name: "autodiscover 401, V2 fallback", modes: []emulator.Mode{emulator.ModeAutodiscover401},
		step: check.StepAutodiscover, state: check.StateWarning,
		finding: []string{"refused the token", "security defaults", "Autodiscover V2", "/EWS/Exchange.asmx"},
		fix:     []string{"exocal config set ews_url http://127.0.0.1:", "exocal config set autodiscover_url http://127.0.0.1:", "/autodiscover/autodiscover.xml"}},
	{name: "conditional access blocks the app", modes: []emulator.Mode{emulator.ModeConditionalAccess},
		step: check.StepToken, state: check.StateFailed, finding: []string{"Conditional Access", "AADSTS53003"},
		fix: []string{"workload identities", "Service principal sign-ins", emuClientID, "correlation ID"}},
	{name: "tenant in another cloud", modes: []emulator.Mode{emulator.ModeWrongCloud},
		step: check.StepToken, state: check.StateFailed, finding: []string{"another Microsoft cloud", "AADSTS90038", emuTenantID},
		fix: []string{"https://login.microsoftonline.us", "exocal config set authority_host"}},
	{name: "app disabled", modes: []emulator.Mode{emulator.ModeAppDisabled},
		step: check.StepToken, state: check.StateFailed, finding: []string{"disabled", "AADSTS7000112", emuClientID},
		fix: []string{"Enterprise applications", emuClientID, "Enabled for users to sign in?"}},
	{name: "consent required (AADSTS65001)", modes: []emulator.Mode{emulator.ModeConsentRequired},
		step: check.StepToken, state: check.StateFailed, finding: []string{"AADSTS65001", "no consent", emuTenantID},
		fix: []string{"API permissions", "Grant admin consent for", emuTenantID, "Wait a few minutes"}},
	{name: "roles without full_access_as_app", modes: []emulator.Mode{emulator.ModeMissingRole},
		step: check.StepClaims, state: check.StateFailed, finding: []string{"Calendars.Read", "not full_access_as_app", "manifest"},
		fix: []string{"Manifest", `"resourceAppId": "00000002-0000-0ff1-ce00-000000000000"`, `"id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40"`, `"type": "Role"`, "Grant admin consent"}},
	{name: "consent not yet in Exchange (EWS 401 2000008)", modes: []emulator.Mode{emulator.ModeConsentPropagating},
		step: check.StepEWS, state: check.StateFailed,
		finding: []string{"HTTP 401", "2000008", "carries full_access_as_app", "has not reached Exchange Online yet"},
		fix:     []string{"Grant admin consent for", emuTenantID, "Wait a few minutes"}},
	{name: "Entra's Date ten minutes ahead", modes: []emulator.Mode{emulator.ModeSkewedDate},
		step: check.StepToken, state: check.StateWarning, finding: []string{"behind", "Entra", "server Date"},
		fix: []string{"timedatectl set-ntp true"}},
	{name: "clock ten minutes fast", now: func() time.Time { return time.Now().Add(10 * time.Minute) },
		step: check.StepToken, state: check.StateWarning, finding: []string{"ahead of", "Entra"}, fix: []string{"timedatectl"}},
	{name: "User's mailbox without an EWS licence", edit: func(_ *Form, e emuTenant) { e.srv.SetUnlicensedMailboxes(e.mailboxes[0]) },
		step: check.StepUserCalendar, state: check.StateFailed,
		finding: []string{"403", "{user}", "without X-EWS-Policy-Reason", "Inferred", "F1/F3/Kiosk"},
		fix:     []string{"Licenses", "Get-CASMailbox -Identity {user}", "Set-CASMailbox -Identity {user} -EwsEnabled $true"}},
	{name: "other mailbox without an EWS licence", edit: func(_ *Form, e emuTenant) { e.srv.SetUnlicensedMailboxes(e.mailboxes[1]) },
		step: check.StepMailbox, mailbox: "{mb1}", state: check.StateFailed,
		finding: []string{"403", "{mb1}", "F1/F3/Kiosk"}, fix: []string{"Get-CASMailbox -Identity {mb1}"}},
	{name: "in-tenant mailbox outside the application access policy", edit: func(_ *Form, e emuTenant) { e.srv.SetOutOfScopeMailboxes(e.mailboxes[1]) },
		step: check.StepMailbox, mailbox: "{mb1}", state: check.StateFailed,
		finding: []string{"{mb1}", "ErrorAccessDenied"},
		fix: []string{"Test-ApplicationAccessPolicy -Identity {mb1} -AppId " + emuClientID, "RBAC for Applications",
			"Test-ServicePrincipalAuthorization -Identity " + emuClientID + " -Resource {mb1}"}},
	{name: "User's mailbox outside the app's scope", edit: func(_ *Form, e emuTenant) { e.srv.SetOutOfScopeMailboxes(e.mailboxes[0]) },
		step: check.StepUserCalendar, state: check.StateFailed,
		finding: []string{"{user}", "ErrorAccessDenied"}, fix: []string{"Test-ApplicationAccessPolicy -Identity {user}"}},
	{name: "unknown mailbox", edit: func(f *Form, e emuTenant) {
		f.mailboxes.SetText(strings.Join(e.mailboxes, "\n") + "\nnobody@contoso.onmicrosoft.com")
	}, step: check.StepMailbox, mailbox: "nobody@contoso.onmicrosoft.com", state: check.StateFailed,
		finding: []string{"nobody@contoso.onmicrosoft.com", "ErrorNonExistentMailbox"},
		fix:     []string{"primary SMTP address", "Get-Mailbox -Identity nobody@contoso.onmicrosoft.com"}},
	{name: "mailbox in another tenant", edit: func(f *Form, e emuTenant) {
		f.mailboxes.SetText(strings.Join(e.mailboxes, "\n") + "\nceo@fabrikam.com")
	}, step: check.StepMailbox, mailbox: "ceo@fabrikam.com", state: check.StateFailed,
		finding: []string{"ceo@fabrikam.com", "ErrorImpersonateUserDenied"},
		fix:     []string{"Test-ApplicationAccessPolicy -Identity ceo@fabrikam.com -AppId " + emuClientID, "RBAC for Applications", "Test-ServicePrincipalAuthorization"}},
	{name: "unknown User", edit: func(f *Form, _ emuTenant) { f.user.SetText("ghost@contoso.onmicrosoft.com") },
		step: check.StepAutodiscover, state: check.StateFailed, finding: []string{"ghost@contoso.onmicrosoft.com"},
		fix: []string{"exocal config set user"}},
}

// filled is tt with {user} and {mb1} replaced by the emulator's mailboxes.
func (tt finding) filled(e emuTenant) finding {
	pairs := []string{"{user}", e.mailboxes[0]}
	for i, m := range e.mailboxes[1:] {
		pairs = append(pairs, fmt.Sprintf("{mb%d}", i+1), m)
	}
	r := strings.NewReplacer(pairs...)
	fill := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = r.Replace(s)
		}
		return out
	}
	tt.mailbox = r.Replace(tt.mailbox)
	tt.finding, tt.fix = fill(tt.finding), fill(tt.fix)
	return tt
}

// onScreen reports whether the window draws the phrase; a wrapped line
// may have split it at a space or, for a long word, inside it.
func onScreen(text, phrase string) bool {
	squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	return strings.Contains(squash(text), squash(phrase)) ||
		strings.Contains(strings.ReplaceAll(text, "\n", ""), phrase)
}

// assertFinding checks the row of the deciding step and the screen: its
// title, its finding and its fix are drawn, with the state's icon, and
// no step before it failed.
func assertFinding(t *testing.T, w *Window, tt finding) {
	t.Helper()
	f := w.Form()
	r := rowFor(t, f, tt.step, tt.mailbox)
	if r.step.State != tt.state {
		t.Fatalf("step %s: got %s (%s), want %s", tt.step, r.step.State, r.finding.Text, tt.state)
	}
	wantIcon := map[check.State]string{check.StateFailed: "error_", check.StateWarning: "warning_"}[tt.state]
	if name := r.icon.Resource.Name(); !strings.HasPrefix(name, wantIcon) {
		t.Errorf("step %s: got icon %q, want a %s* themed icon", tt.step, name, wantIcon)
	}
	for _, prev := range f.diag.rows {
		if prev.step.ID == r.step.ID && prev.step.Mailbox == r.step.Mailbox {
			break
		}
		if prev.step.State == check.StateFailed || prev.step.State == check.StateSkipped {
			t.Errorf("step %s before %s: got %s (%s), want it to pass", prev.step.ID, tt.step, prev.step.State, prev.finding.Text)
		}
	}
	text := renderedText(w.Window())
	if r.step.Title == "" || !onScreen(text, r.step.Title) {
		t.Errorf("window: got no title %q on screen", r.step.Title)
	}
	for _, want := range tt.finding {
		if !strings.Contains(r.finding.Text, want) {
			t.Errorf("finding: got %q, want it to contain %q", r.finding.Text, want)
		} else if !onScreen(text, want) {
			t.Errorf("window: got no %q (the finding) on screen:\n%s", want, text)
		}
	}
	if r.fix == nil {
		t.Fatalf("step %s: got no fix shown, want one", tt.step)
	}
	for _, want := range tt.fix {
		if !strings.Contains(r.fix.Text, want) {
			t.Errorf("fix: got\n%s\nwant it to contain %q", r.fix.Text, want)
		} else if !onScreen(text, want) {
			t.Errorf("window: got no %q (the fix) on screen:\n%s", want, text)
		}
	}
}

// TestTestConnectionRealCoreFindings: every finding of app/check's
// TestFindings that the emulator (or the form) can produce renders in the
// settings window on the real core.
func TestTestConnectionRealCoreFindings(t *testing.T) {
	for _, tt := range findings {
		t.Run(tt.name, func(t *testing.T) {
			e := startEmulator(t, tt.modes...)
			tt := tt.filled(e)
			w := realEmuWindowAt(t, e, tt.now)
			f := w.Form()
			if tt.edit != nil {
				tt.edit(f, e)
			}
			test.Tap(f.diag.test)
			waitCheck(t, f)
			assertFinding(t, w, tt)
			test.Tap(f.diag.copy)
			clip := fyne.CurrentApp().Clipboard().Content()
			r := rowFor(t, f, tt.step, tt.mailbox)
			if !strings.Contains(clip, r.step.Title) || !strings.Contains(clip, r.finding.Text) {
				t.Errorf("copied details: got\n%s\nwant the step %q and its finding", clip, r.step.Title)
			}
			assertNothingSecret(t, w.Window(), []string{emuSecret, tt.secret}, nil)
		})
	}
}

func TestTestConnectionRealCoreAllOK(t *testing.T) {
	e := startEmulator(t)
	w := realEmuWindow(t, e)
	f := w.Form()
	test.Type(f.secretExpires, time.Now().AddDate(1, 0, 0).Format(time.DateOnly))
	test.Tap(f.diag.test)
	waitCheck(t, f)
	if len(f.diag.rows) < 8 {
		t.Fatalf("rows: got %d, want every step", len(f.diag.rows))
	}
	for _, r := range f.diag.rows {
		if r.step.State != check.StateOK || r.fix != nil {
			t.Errorf("step %s: got %s (%s), want ok without a fix", r.step.ID, r.step.State, r.finding.Text)
		}
		if name := r.icon.Resource.Name(); !strings.HasPrefix(name, "success_") {
			t.Errorf("step %s: got icon %q, want the success icon", r.step.ID, name)
		}
	}
	if got := f.diag.status.Text; !strings.HasPrefix(got, "All required steps passed.") {
		t.Errorf("status: got %q, want all passed", got)
	}
	if reg := rowFor(t, f, check.StepRegistration, ""); !strings.Contains(reg.finding.Text, "expires on") {
		t.Errorf("registration: got %q, want the noted expiry date", reg.finding.Text)
	}
	test.Tap(f.diag.copy)
	assertNothingSecret(t, w.Window(), []string{emuSecret}, nil)
}

// An expired date is valid input: it saves, and the test warns.
func TestSecretExpiresPastWarns(t *testing.T) {
	e := startEmulator(t)
	w := realEmuWindow(t, e)
	f := w.Form()
	test.Type(f.secretExpires, "2020-01-31")
	test.Tap(f.diag.test)
	waitCheck(t, f)
	r := rowFor(t, f, check.StepRegistration, "")
	if r.step.State != check.StateWarning || !strings.Contains(r.finding.Text, "2020-01-31") || r.fix == nil {
		t.Errorf("registration: got %s %q, want a warning naming 2020-01-31 with a fix", r.step.State, r.finding.Text)
	}
	test.Tap(f.ok)
	if w.Visible() {
		t.Errorf("got the window open (%q / %v), want an expired date saved", f.Message(""), shownErrors(f))
	}
}

func TestSecretExpiresBadDateNotSaved(t *testing.T) {
	w, _, _ := realForm(t)
	f := w.Form()
	test.Type(f.secretExpires, "30/06/2027")
	test.Tap(f.ok)
	if got := f.Message("secret_expires"); !strings.HasPrefix(got, "Client secret expires on: ") || !strings.Contains(got, "YYYY-MM-DD") {
		t.Errorf("message: got %q, want the field named and the format", got)
	}
	if !w.Visible() {
		t.Errorf("got the window closed, want it open")
	}
}

func TestFindAutodiscoverServerRealCore(t *testing.T) {
	e := startEmulator(t)
	w := realEmuWindow(t, e)
	f := w.Form()
	test.Tap(f.diag.find)
	waitFind(t, f)
	if msg := f.Message("autodiscover_url"); msg != "" {
		t.Fatalf("got message %q, want a server found", msg)
	}
	if f.diag.confirm == nil {
		t.Fatal("got no confirm dialog")
	}
	text := renderedText(w.Window())
	if !strings.Contains(text, e.srv.URL()) {
		t.Errorf("dialog: got\n%s\nwant the emulator's URL %s", text, e.srv.URL())
	}
	tapButton(t, w.Window(), UseServer)
	if !strings.HasPrefix(f.autodiscoverURL.Text, e.srv.URL()) {
		t.Errorf("Autodiscover URL: got %q, want the server found at %s", f.autodiscoverURL.Text, e.srv.URL())
	}
}

// --- a core that runs the real chain with a token recorder ----------------

type tokenRecorder = testenv.TokenRecorder

// recordingCore is a fake core whose Check runs the real chain through a
// token recorder, so the test knows every token that could leak.
type recordingCore struct {
	fakeStore
	rec *tokenRecorder
}

func (c *recordingCore) Check(ctx context.Context, s config.Settings, tenantID, clientID, secret string, progress func(check.Step)) check.Report {
	if secret == "" {
		secret = emuSecret
	}
	return check.Run(ctx, check.Input{Settings: s, Registration: secrets.Registration{TenantID: tenantID, ClientID: clientID, ClientSecret: secret},
		HTTPClient: &http.Client{Transport: c.rec}, Getenv: func(string) string { return "" }}, progress)
}

func TestNoTokenShownOrCopied(t *testing.T) {
	for _, tt := range []struct {
		name  string
		modes []emulator.Mode
	}{{"all ok", nil}, {"no consent", []emulator.Mode{emulator.ModeNoConsent}}, {"EWS disabled", []emulator.Mode{emulator.ModeEWSDisabled}}} {
		t.Run(tt.name, func(t *testing.T) {
			e := startEmulator(t, tt.modes...)
			c := &recordingCore{fakeStore: fakeStore{settings: e.settings(t), tenant: emuTenantID, client: emuClientID, secretStored: true},
				rec: testenv.NewTokenRecorder(&http.Transport{})}
			w := open(t, c)
			f := w.Form()
			test.Tap(f.diag.test)
			waitCheck(t, f)
			test.Tap(f.diag.copy)
			tokens := c.rec.All()
			if len(tokens) == 0 {
				t.Fatal("no token was recorded; the assertion would be empty")
			}
			if clip := fyne.CurrentApp().Clipboard().Content(); !strings.Contains(clip, "ExoCal setup check") {
				t.Fatalf("clipboard: got %q, want the details", clip)
			}
			assertNothingSecret(t, w.Window(), []string{emuSecret}, tokens)
		})
	}
}
