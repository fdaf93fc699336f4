// Package settings is ExoCal's settings window: a Fyne form with the seed's
// fields in the seed's order and words, then ExoCal's own (mailboxes, export
// folder, sync window, privacy). OK hands the values to the app core, which
// validates and saves them (registration to the OS keyring, the rest to
// config.json); a bad value gets a message under its field and nothing is
// saved. Cancel discards. The client secret is write-only: the form never
// reads it back, it only says "stored in keyring".
//
// When the core is also a Diagnoser, "Test connection" runs the setup
// check (app/check) on the values in the form, before saving, and shows a
// live checklist with the fix under each problem; "Find autodiscover
// server" asks Autodiscover V2 for the User's server (see diagnose.go).
package settings

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// Store is what the form needs from the app core; *app.App satisfies it.
type Store interface {
	Settings() config.Settings
	// Registration returns the keyring-held IDs and whether a secret is
	// stored; never the secret itself.
	Registration() (tenantID, clientID string, secretStored bool, err error)
	// Save validates and stores everything, or nothing (returning
	// config.Errors on validation failure). secret "" keeps the stored one.
	Save(s config.Settings, tenantID, clientID, secret string) error
}

// Words of the choices, as the seed shows them.
const (
	SyncTypeDisabled = "Disabled"
	SyncTypeEWS      = "Cloud (Exchange Online, App-Only Authentication)"
	ServerExternal   = "External"
	ServerInternal   = "Internal"
	AccountSingle    = "My organization only"
	AccountMulti     = "Multiple organization"
	PrivacyFull      = "Full details"
	PrivacyFreeBusy  = "Free-busy only"

	SecretStored      = "stored in keyring"
	SecretFromEnv     = "from EXOCAL_CLIENT_SECRET (not stored)"
	SecretPlaceholder = "the secret's Value (not its Secret ID)"
)

var (
	syncTypes = choice{{config.SyncDisabled, SyncTypeDisabled}, {config.SyncEWS, SyncTypeEWS}}
	servers   = choice{{config.ServerExternal, ServerExternal}, {config.ServerInternal, ServerInternal}}
	accounts  = choice{{config.AccountSingle, AccountSingle}, {config.AccountMulti, AccountMulti}}
	privacies = choice{{config.PrivacyFull, PrivacyFull}, {config.PrivacyFreeBusy, PrivacyFreeBusy}}
)

// choice maps config values to the words shown for them.
type choice [][2]string

func (c choice) labels() []string {
	out := make([]string, len(c))
	for i, p := range c {
		out[i] = p[1]
	}
	return out
}

// label returns the words for value; an unknown value is shown as it is.
func (c choice) label(value string) string {
	for _, p := range c {
		if p[0] == value {
			return p[1]
		}
	}
	return value
}

// value returns the config value for the words shown; unknown words pass through.
func (c choice) value(label string) string {
	for _, p := range c {
		if p[1] == label {
			return p[0]
		}
	}
	return label
}

// Form is the settings form. Build it with NewForm, put Content() in a
// window, call Load before showing it.
type Form struct {
	store  Store
	parent fyne.Window // for the folder picker; nil in tests
	done   func()      // after OK succeeded or Cancel

	base config.Settings // what Load read: keeps the keys the form does not show

	syncType         *widget.Select
	user             *widget.Entry
	autodiscoverURL  *widget.Entry
	exchangeServer   *widget.RadioGroup
	clientID         *widget.Entry
	tenantID         *widget.Entry
	supportedAccount *widget.RadioGroup
	secret           *widget.Entry
	secretExpires    *widget.Entry
	certificate      *widget.Label // the stored client certificate (Certifier), read-only
	certHint         *widget.Label
	maxSubs          *widget.Entry
	ewsDebug         *widget.Check
	mailboxes        *widget.Entry
	exportDir        *widget.Entry
	browse           *widget.Button
	pastDays         *widget.Entry
	futureDays       *widget.Entry
	privacy          *widget.RadioGroup
	autostart        *widget.Check // nil when the store cannot start ExoCal at login
	autostarter      Autostarter
	autostartWas     bool // the login entry's state at Load

	errs     map[string]*widget.Label // per JSON key, under its field
	general  *widget.Label            // errors that belong to no field shown
	note     *widget.Label            // information, e.g. "copied"
	manifest *widget.Button
	diag     *diagnosis // nil when the store is no Diagnoser
	ok       *widget.Button
	cancel   *widget.Button

	// guidSecret is the GUID-looking secret the user was warned about; OK
	// with the same value again saves it anyway.
	guidSecret string

	form    *fyne.Container
	scroll  *container.Scroll
	content fyne.CanvasObject
}

// NewForm builds the form. parent hosts the folder picker dialog; done runs
// after a successful OK and after Cancel (the window closes itself there).
func NewForm(store Store, parent fyne.Window, done func()) *Form {
	f := &Form{store: store, parent: parent, done: done, errs: map[string]*widget.Label{}}

	f.syncType = widget.NewSelect(syncTypes.labels(), nil)
	f.user = entry("admin@contoso.com")
	f.autodiscoverURL = entry("empty: the cloud's default server") // placeholders fit the field at the default width
	f.exchangeServer = radio(servers)
	f.clientID = entry("Application (client) ID (a GUID)")
	f.tenantID = entry("Directory (tenant) ID or verified domain")
	f.supportedAccount = radio(accounts)
	f.secret = widget.NewPasswordEntry()
	f.certificate = infoLabel("")
	f.certificate.Hide()
	f.certHint = infoLabel(CertificateHint)
	f.secretExpires = entry("YYYY-MM-DD, optional (Entra's Expires)")
	f.maxSubs = entry("1 to 200")
	f.ewsDebug = widget.NewCheck("Log SOAP traffic (credentials redacted)", nil)
	f.mailboxes = widget.NewMultiLineEntry()
	f.mailboxes.SetPlaceHolder("one address per line; empty = the User above")
	f.mailboxes.SetMinRowsVisible(3)
	f.mailboxes.Wrapping = fyne.TextWrapOff
	f.exportDir = entry("folder for the .ics files")
	f.browse = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), f.pickFolder)
	f.pastDays = entry("30")
	f.futureDays = entry("365")
	f.privacy = radio(privacies)
	f.autostarter, f.autostart = newAutostart(store)

	f.general = errLabel()
	f.note = widget.NewLabel("")
	f.note.Wrapping = fyne.TextWrapWord
	f.note.Hide()
	f.manifest = widget.NewButtonWithIcon("Copy manifest snippet", theme.ContentCopyIcon(), f.copyManifest)
	f.ok = widget.NewButtonWithIcon("OK", theme.ConfirmIcon(), func() { f.Submit() })
	f.ok.Importance = widget.HighImportance
	f.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), f.Cancel)

	rows := []fyne.CanvasObject{}
	row := func(label string, field fyne.CanvasObject, keys ...string) {
		cell := []fyne.CanvasObject{field}
		for _, k := range keys {
			l := errLabel()
			f.errs[k] = l
			cell = append(cell, l)
		}
		rows = append(rows, rowLabel(label), container.NewVBox(cell...))
	}
	// The seed's fields, in the seed's order and words.
	row("Sync-Type", f.syncType, "sync_type")
	row("User", f.user, "user")
	adField := fyne.CanvasObject(f.autodiscoverURL)
	if d, ok := store.(Diagnoser); ok {
		f.diag = newDiagnosis(f, d)
		adField = container.NewBorder(nil, nil, nil, f.diag.find, f.autodiscoverURL)
	}
	row("Autodiscover URL", adField, "autodiscover_url")
	row("Exchange server to be used", f.exchangeServer, "exchange_server")
	row("Client ID", f.clientID, "client_id")
	row("Tenant ID", f.tenantID, "tenant_id")
	row("Supported account", f.supportedAccount, "supported_account")
	row("Client Secret", container.NewVBox(f.secret, f.certificate, f.certHint), "client_secret")
	row("Client secret expires on", f.secretExpires, "secret_expires")
	row("Max subscriptions per connection", f.maxSubs, "max_subscriptions_per_connection")
	row("EWS protocol debugging", f.ewsDebug, "ews_debug")
	rows = append(rows, widget.NewSeparator(), widget.NewSeparator())
	// ExoCal's own.
	row("Mailboxes to sync", f.mailboxes, "mailboxes")
	row("Export folder", container.NewBorder(nil, nil, nil, f.browse, f.exportDir), "export_dir")
	row("Sync window", container.NewGridWithColumns(2,
		container.NewBorder(nil, nil, nil, widget.NewLabel("days back"), f.pastDays),
		container.NewBorder(nil, nil, nil, widget.NewLabel("days ahead"), f.futureDays),
	), "window_past_days", "window_future_days")
	row("Privacy", f.privacy, "privacy")
	if f.autostart != nil {
		row("Start at login", f.autostart)
	}

	f.form = container.New(layout.NewFormLayout(), rows...)
	body := fyne.CanvasObject(f.form)
	left := []fyne.CanvasObject{f.manifest}
	if f.diag != nil {
		body = container.NewVBox(f.form, f.diag.panel)
		left = append(left, f.diag.test, f.diag.copy)
	}
	f.scroll = container.NewVScroll(container.NewPadded(body))
	buttons := container.NewHBox(append(left, layout.NewSpacer(), f.cancel, f.ok)...)
	bottom := container.NewVBox(f.general, f.note)
	if f.diag != nil { // the test's verdict stays in view while the checklist scrolls
		bottom.Add(f.diag.status)
	}
	bottom.Add(buttons)
	f.content = container.NewBorder(nil, container.NewPadded(bottom), nil, nil, f.scroll)
	return f
}

func entry(placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	return e
}

func radio(c choice) *widget.RadioGroup {
	r := widget.NewRadioGroup(c.labels(), nil)
	r.Horizontal = true
	r.Required = true
	return r
}

func rowLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Alignment = fyne.TextAlignTrailing
	l.TextStyle = fyne.TextStyle{Bold: true}
	return l
}

func errLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// Content is the form's canvas object, buttons included.
func (f *Form) Content() fyne.CanvasObject { return f.content }

// Load fills every widget from the store, clears the messages and empties
// the secret field. Call it before each showing: what Cancel left behind is
// gone.
func (f *Form) Load() {
	s := f.store.Settings()
	f.base = s
	f.clearErrors()
	f.guidSecret = ""

	f.syncType.SetSelected(syncTypes.label(s.SyncType))
	f.user.SetText(s.User)
	f.autodiscoverURL.SetText(s.AutodiscoverURL)
	f.exchangeServer.SetSelected(servers.label(s.ExchangeServer))
	f.supportedAccount.SetSelected(accounts.label(s.SupportedAccount))
	f.maxSubs.SetText(itoa(s.MaxSubscriptionsPerConnection))
	f.ewsDebug.SetChecked(s.EWSDebug)
	f.mailboxes.SetText(strings.Join(s.Mailboxes, "\n"))
	f.exportDir.SetText(s.ExportDir)
	f.pastDays.SetText(itoa(s.WindowPastDays))
	f.futureDays.SetText(itoa(s.WindowFutureDays))
	f.privacy.SetSelected(privacies.label(s.Privacy))

	tenant, client, stored, err := f.store.Registration()
	f.tenantID.SetText(tenant)
	f.clientID.SetText(client)
	f.secret.SetText("")
	f.secretExpires.SetText(s.SecretExpires)
	f.loadCertificate()
	f.loadAutostart()
	if f.diag != nil {
		f.diag.reset()
	}
	if stored {
		f.secret.SetPlaceHolder(SecretStored)
		if os.Getenv(secrets.EnvClientSecret) != "" {
			f.secret.SetPlaceHolder(SecretFromEnv)
		}
	} else {
		f.secret.SetPlaceHolder(SecretPlaceholder)
	}
	if err != nil {
		f.showGeneral("The registration could not be read from the keyring: " + err.Error())
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Submit validates and saves the form; it reports whether it saved. On any
// error the messages are shown, nothing is saved and the window stays open.
func (f *Form) Submit() bool {
	f.clearErrors()
	s, tenant, client, secret, bad := f.values()
	if len(bad) > 0 {
		f.showErrors(bad, "Not saved")
		return false
	}
	if secret != "" && config.IsGUID(secret) && secret != f.guidSecret {
		f.guidSecret = secret
		// The other fields' problems show at once too, not one OK later
		// (the store validates them again on saving).
		es := config.AsErrors(s.ValidateReadOnly())
		if s.SyncType != config.SyncDisabled || tenant != "" || client != "" {
			es = append(es, config.ValidateRegistration(tenant, client)...)
		}
		es = append(es, config.FieldError{Key: "client_secret", Label: config.Labels["client_secret"],
			Message: "this looks like the secret's ID, not its Value. In Entra > Certificates & secrets copy the Value column (shown only right after the secret is created); press OK again to save it anyway."})
		f.showErrors(es, "Not saved")
		return false
	}

	if err := f.store.Save(s, tenant, client, secret); err != nil {
		if es := config.AsErrors(err); len(es) > 0 {
			f.showErrors(es, "Not saved")
		} else {
			f.showGeneral("Not saved: " + sentence(err))
		}
		return false
	}
	f.secret.SetText("")
	f.guidSecret = ""
	if err := f.applyAutostart(); err != nil {
		// The settings are saved; the window stays open to say so.
		f.showGeneral("Settings saved, but starting at login could not be changed: " + sentence(err))
		return false
	}
	f.autostartWas = f.autostart != nil && f.autostart.Checked
	if f.diag != nil {
		f.diag.stop()
	}
	if f.done != nil {
		f.done()
	}
	return true
}

// values reads the form: the settings (over what Load read), the
// registration, and the fields that are not even numbers.
func (f *Form) values() (s config.Settings, tenant, client, secret string, bad config.Errors) {
	s = f.base
	s.Mailboxes = nil

	s.SyncType = syncTypes.value(f.syncType.Selected)
	s.User = strings.TrimSpace(f.user.Text)
	s.AutodiscoverURL = strings.TrimSpace(f.autodiscoverURL.Text)
	s.ExchangeServer = servers.value(f.exchangeServer.Selected)
	s.SupportedAccount = accounts.value(f.supportedAccount.Selected)
	s.MaxSubscriptionsPerConnection = number(f.maxSubs.Text, "max_subscriptions_per_connection", "from 1 to 200, e.g. 200", &bad)
	s.EWSDebug = f.ewsDebug.Checked
	s.Mailboxes = config.SplitList(f.mailboxes.Text)
	s.ExportDir = strings.TrimSpace(f.exportDir.Text)
	s.WindowPastDays = number(f.pastDays.Text, "window_past_days", "of days, e.g. 30", &bad)
	s.WindowFutureDays = number(f.futureDays.Text, "window_future_days", "of days, e.g. 365", &bad)
	s.Privacy = privacies.value(f.privacy.Selected)
	s.SecretExpires = strings.TrimSpace(f.secretExpires.Text)
	tenant = strings.TrimSpace(f.tenantID.Text)
	client = strings.TrimSpace(f.clientID.Text)
	secret = strings.TrimSpace(f.secret.Text)
	return s, tenant, client, secret, bad
}

// number parses a whole number field; empty means 0 (the core's validation
// names the field then).
func number(text, key, example string, bad *config.Errors) int {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		*bad = append(*bad, config.FieldError{Key: key, Label: config.Labels[key],
			Message: fmt.Sprintf("%q is not a whole number; enter a number %s.", text, example)})
	}
	return n
}

// sentence makes an error read as a sentence for people.
func sentence(err error) string {
	s := err.Error()
	if s == "" {
		return "unknown error."
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Cancel discards the edits and closes the window.
func (f *Form) Cancel() {
	if f.diag != nil {
		f.diag.stop()
	}
	f.secret.SetText("")
	f.clearErrors()
	if f.done != nil {
		f.done()
	}
}

func (f *Form) clearErrors() {
	for _, l := range f.errs {
		l.SetText("")
		l.Hide()
	}
	f.general.SetText("")
	f.general.Hide()
	f.note.SetText("")
	f.note.Hide()
	f.relayout()
}

// relayout makes room for the messages shown (or hidden) under the fields.
func (f *Form) relayout() {
	f.form.Refresh()
	f.scroll.Refresh()
	if c, ok := f.content.(*fyne.Container); ok {
		c.Refresh()
	}
}

// showErrors puts each message under its field; messages for keys the form
// does not show (e.g. poll_interval) go to the line above the buttons,
// after verb ("Not saved", "Not tested").
func (f *Form) showErrors(es config.Errors, verb string) {
	var other []string
	for _, e := range es {
		if l, ok := f.errs[e.Key]; ok {
			l.SetText(e.Error())
			l.Show()
			continue
		}
		other = append(other, e.Error())
	}
	msg := fmt.Sprintf("%s: %d %s to fix (see the messages above).", verb, len(es), plural(len(es), "value", "values"))
	if len(other) > 0 {
		msg = verb + ": " + strings.Join(other, " ")
	}
	f.showGeneral(msg)
	f.relayout()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (f *Form) showGeneral(msg string) {
	f.general.SetText(msg)
	f.general.Show()
	f.relayout()
}

// Message returns the message shown under the field with the JSON key, or
// the general message for key "" (for tests and the integration checks).
func (f *Form) Message(key string) string {
	if key == "" {
		return f.general.Text
	}
	if l, ok := f.errs[key]; ok {
		return l.Text
	}
	return ""
}

// ManifestSnippet is the requiredResourceAccess entry of an Entra app
// manifest that asks for Exchange Online's full_access_as_app application
// permission (resource 00000002-0000-0ff1-ce00-000000000000 is Office 365
// Exchange Online; role dc890d15-… is full_access_as_app).
const ManifestSnippet = `"requiredResourceAccess": [
	{
		"resourceAppId": "00000002-0000-0ff1-ce00-000000000000",
		"resourceAccess": [
			{
				"id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
				"type": "Role"
			}
		]
	}
]`

// copyManifest puts ManifestSnippet on the clipboard.
func (f *Form) copyManifest() {
	a := fyne.CurrentApp()
	if a == nil {
		return
	}
	a.Clipboard().SetContent(ManifestSnippet)
	f.note.SetText("Copied the manifest entry for Exchange's full_access_as_app role: in Entra > App registrations > your app > Manifest, put it in place of \"requiredResourceAccess\", save, then grant admin consent under API permissions.")
	f.note.Show()
	f.relayout()
}

func (f *Form) pickFolder() {
	if f.parent == nil {
		return
	}
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			f.errs["export_dir"].SetText(config.Labels["export_dir"] + ": " + sentence(err))
			f.errs["export_dir"].Show()
			return
		}
		if u != nil {
			f.exportDir.SetText(u.Path())
		}
	}, f.parent)
	d.Resize(fyne.NewSize(700, 500))
	d.Show()
}
