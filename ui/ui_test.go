package ui

// These tests share Fyne's global test app, so they do not run in parallel.

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/ui/tray"
)

type fakeCore struct {
	ch       chan app.Status
	calls    []string
	activate func()
}

func (c *fakeCore) Settings() config.Settings                          { return config.Settings{} }
func (c *fakeCore) Registration() (string, string, bool, error)        { return "", "", false, nil }
func (c *fakeCore) Save(config.Settings, string, string, string) error { return nil }
func (c *fakeCore) Subscribe() (<-chan app.Status, func()) {
	return c.ch, func() { c.calls = append(c.calls, "unsubscribe") }
}
func (c *fakeCore) SyncNow()             { c.calls = append(c.calls, "SyncNow") }
func (c *fakeCore) Pause()               { c.calls = append(c.calls, "Pause") }
func (c *fakeCore) Resume()              { c.calls = append(c.calls, "Resume") }
func (c *fakeCore) OnActivate(fn func()) { c.activate = fn }

// fakeDesk records tray menus; the shell's loop goroutine sets them.
type fakeDesk struct {
	mu    sync.Mutex
	menus []*fyne.Menu
}

func (d *fakeDesk) SetSystemTrayMenu(m *fyne.Menu) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.menus = append(d.menus, fyne.NewMenu(m.Label, append([]*fyne.MenuItem(nil), m.Items...)...)) // Show reuses m
}
func (d *fakeDesk) SetSystemTrayIcon(fyne.Resource) {}
func (d *fakeDesk) SetSystemTrayWindow(fyne.Window) {}

func (d *fakeDesk) last() *fyne.Menu {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.menus[len(d.menus)-1]
}

func (d *fakeDesk) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.menus)
}

func (d *fakeDesk) first() string { return d.last().Items[0].Label }

func (d *fakeDesk) click(t *testing.T, label string) {
	t.Helper()
	for _, it := range d.last().Items {
		if it.Label == label {
			it.Action()
			return
		}
	}
	t.Fatalf("no tray item %q", label)
}

func newTestShell(t *testing.T) (*shell, *fakeCore, *fakeDesk) {
	a := test.NewTempApp(t)
	core := &fakeCore{ch: make(chan app.Status, 1)}
	desk := &fakeDesk{}
	s := newShell(a, desk, true, core, slog.New(slog.DiscardHandler))
	s.now = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	return s, core, desk
}

func TestShellFollowsStatus(t *testing.T) {
	s, core, desk := newTestShell(t)
	if got := desk.first(); got != tray.LabelNotSetUp {
		t.Errorf("before any status: got %q, want %q", got, tray.LabelNotSetUp)
	}
	s.handle(app.Status{State: app.StateIdle, LastSync: s.now().Add(-2 * time.Minute), Mailboxes: make([]app.MailboxStatus, 3)})
	if got := desk.first(); got != "Synced 3 mailboxes · 2 min ago" {
		t.Errorf("idle: got %q, want %q", got, "Synced 3 mailboxes · 2 min ago")
	}
	if s.settings.Visible() {
		t.Errorf("configured: got the settings window open, want it closed")
	}
	desk.click(t, tray.LabelPause)
	s.handle(app.Status{State: app.StatePaused})
	if got := desk.first(); got != tray.LabelPaused {
		t.Errorf("paused: got %q, want %q", got, tray.LabelPaused)
	}
	desk.click(t, tray.LabelResume)
	desk.click(t, tray.LabelSettings)
	if !s.settings.Visible() {
		t.Errorf("Settings…: got the window hidden, want it shown")
	}
	if got, want := join(core.calls), "Pause,Resume"; got != want {
		t.Errorf("core calls: got %q, want %q", got, want)
	}
}

func TestShellOpensSettingsWhenNotConfigured(t *testing.T) {
	s, _, _ := newTestShell(t)
	s.handle(app.Status{State: app.StateNotConfigured})
	if !s.settings.Visible() {
		t.Errorf("got the settings window hidden, want it open when not configured")
	}
	s.settings.Hide()
	s.handle(app.Status{State: app.StateNotConfigured})
	if s.settings.Visible() {
		t.Errorf("got the window reopened by a later snapshot, want only the first one to open it")
	}
}

func TestShellLoopAndActivate(t *testing.T) {
	s, core, desk := newTestShell(t)
	stop := s.start(false, false)
	if core.activate == nil {
		t.Fatalf("got no OnActivate callback, want one")
	}
	core.activate() // a second launch
	if !s.settings.Visible() {
		t.Errorf("after activation: got the settings window hidden, want it shown")
	}
	n := desk.count()
	core.ch <- app.Status{State: app.StatePaused}
	for i := 0; i < 1000 && desk.count() == n; i++ { // the loop goroutine applies it
		time.Sleep(5 * time.Millisecond)
	}
	if got := desk.first(); got != tray.LabelPaused {
		t.Errorf("after a snapshot on the channel: got %q, want %q", got, tray.LabelPaused)
	}
	stop()
	<-s.loopDone
	if got := join(core.calls); got != "unsubscribe" {
		t.Errorf("after stop: got calls %q, want %q", got, "unsubscribe")
	}
}

func TestStatusWindowFollowsStatus(t *testing.T) {
	s, _, desk := newTestShell(t)
	if s.status.Visible() {
		t.Errorf("with a tray host: got the status window open before asking, want it closed")
	}
	desk.click(t, tray.LabelShowStatus)
	if !s.status.Visible() {
		t.Errorf("Show status…: got the status window hidden, want it shown")
	}
	now := s.now()
	s.handle(app.Status{State: app.StateWarning, ExportDir: "/srv/ics", LastSync: now.Add(-2 * time.Minute), Mailboxes: []app.MailboxStatus{
		{Address: "alice@contoso.com", State: app.StateIdle, Items: 30, LastSync: now.Add(-2 * time.Minute)},
		{Address: "room1@contoso.com", State: app.StateError, Err: "The mailbox does not exist.", Fix: "Remove it in Settings."},
	}})
	want := "alice@contoso.com|OK|30 items · synced 2 min ago|;room1@contoso.com|Error|0 items · not synced yet|The mailbox does not exist. Remove it in Settings."
	if got := strings.Join(s.status.Rows(), ";"); got != want {
		t.Errorf("rows:\ngot  %q,\nwant %q", got, want)
	}
	if got, want := s.status.Headline(), desk.first(); got != want {
		t.Errorf("headline: got %q, want the tray's first line %q", got, want)
	}
	s.handle(app.Status{State: app.StateError, Err: "Entra rejected the client secret: it has expired.", Fix: "Create a new client secret and paste its Value in Settings.",
		Mailboxes: []app.MailboxStatus{{Address: "alice@contoso.com", State: app.StateIdle, Items: 31}}})
	if got := strings.Join(s.status.Rows(), ";"); got != "alice@contoso.com|Waiting|31 items · not synced yet|" {
		t.Errorf("rows after a second snapshot: got %q, want one row with 31 items", got)
	}
	if got, want := s.status.Headline(), "Entra rejected the client secret: it has expired"+tray.OpenSettingsToFix; got != want {
		t.Errorf("headline: got %q, want %q", got, want)
	}
	if got, want := s.status.Detail(), "Create a new client secret and paste its Value in Settings."; got != want {
		t.Errorf("detail: got %q, want the fix %q", got, want)
	}
	desk.click(t, "Entra rejected the client secret: it has expired"+tray.OpenSettingsToFix)
	if !s.settings.Visible() {
		t.Errorf("clicking the explained error: got the settings window hidden, want it shown")
	}
}

func TestStatusWindowButtonsCallTheCore(t *testing.T) {
	s, core, _ := newTestShell(t)
	s.handle(app.Status{State: app.StateIdle, ExportDir: "/srv/ics"})
	for _, b := range []*widget.Button{s.status.SyncNow, s.status.Pause} {
		test.Tap(b)
	}
	s.handle(app.Status{State: app.StatePaused, ExportDir: "/srv/ics"})
	if got := s.status.Pause.Text; got != tray.LabelResume {
		t.Errorf("paused: got the button %q, want %q", got, tray.LabelResume)
	}
	if !s.status.SyncNow.Disabled() {
		t.Errorf("paused: got %q enabled, want disabled", tray.LabelSyncNow)
	}
	test.Tap(s.status.Pause)
	if got, want := join(core.calls), "SyncNow,Pause,Resume"; got != want {
		t.Errorf("core calls: got %q, want %q", got, want)
	}
	test.Tap(s.status.Settings)
	if !s.settings.Visible() {
		t.Errorf("Settings…: got the settings window hidden, want it shown")
	}
	s.handle(app.Status{State: app.StateNotConfigured})
	if !s.status.SyncNow.Disabled() || !s.status.Pause.Disabled() || !s.status.OpenFolder.Disabled() {
		t.Errorf("not configured: got Sync now/Pause/Open export folder enabled, want disabled")
	}
}

func TestStatusWindowOpensWithoutTrayHost(t *testing.T) {
	s, _, _ := newTestShell(t)
	stop := s.start(false, true)
	defer func() {
		stop()
		<-s.loopDone
	}()
	if !s.status.Visible() {
		t.Errorf("got the status window hidden, want it open at start")
	}
}

// recordingApp records the notifications sent through it.
type recordingApp struct {
	fyne.App
	sent []string
}

func (a *recordingApp) SendNotification(n *fyne.Notification) {
	a.sent = append(a.sent, n.Title+": "+n.Content)
}

func TestNotifier(t *testing.T) {
	a := &recordingApp{App: test.NewTempApp(t)}
	var n Notifier
	for i := range maxPending + 1 { // before the app runs: kept, the oldest dropped
		n.Notify("early", strconv.Itoa(i))
	}
	n.bind(a)
	n.Notify("ExoCal: syncing stopped", "The secret expired.")
	n.bind(nil)
	n.Notify("late", "dropped")
	want := "early: 1|early: 2|early: 3|ExoCal: syncing stopped: The secret expired."
	if got := strings.Join(a.sent, "|"); got != want {
		t.Errorf("sent: got %q, want %q", got, want)
	}
}

// FyneApp.toml (used by `fyne package`) and the metadata Run sets agree.
func TestFyneAppTOML(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ID": strconv.Quote(AppID), "Name": strconv.Quote(AppName), "Version": strconv.Quote(Version),
		"Build": strconv.Itoa(Build), "fyneDo": "true"}
	for k, v := range want {
		m := regexp.MustCompile(`(?m)^\s*` + k + `\s*=\s*(.+?)\s*$`).FindSubmatch(b)
		if m == nil || string(m[1]) != v {
			t.Errorf("FyneApp.toml %s: got %q, want %s", k, m, v)
		}
	}
	icon := regexp.MustCompile(`(?m)^\s*Icon\s*=\s*"(.+)"`).FindSubmatch(b)
	if icon == nil {
		t.Fatalf("FyneApp.toml: got no Icon, want one")
	}
	if _, err := os.Stat(filepath.Join("..", string(icon[1]))); err != nil {
		t.Errorf("FyneApp.toml Icon: %v", err)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
