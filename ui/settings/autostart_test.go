package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/desktop"
	"github.com/exocal/exocal/app/secrets"
)

// "Start at login" on the real app core: ticking it and pressing OK writes
// the XDG login entry for this binary, the next Load shows it ticked, and
// unticking removes it. A core without desktop folders hides the box.
func TestStartAtLogin(t *testing.T) {
	for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret} {
		t.Setenv(env, "")
	}
	dir := t.TempDir()
	paths := desktop.Paths{Data: filepath.Join(dir, "data"), Config: filepath.Join(dir, "config")}
	core, err := app.New(app.Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: secrets.NewMemory(),
		SocketPath: filepath.Join(dir, "s.sock"), Desktop: &paths})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWindow(test.NewTempApp(t), core, nil)
	w.Show()
	f := w.Form()
	box := f.AutostartBox()
	if box == nil || box.Text != StartAtLogin {
		t.Fatalf("Start at login box: got %v, want one labelled %q", box, StartAtLogin)
	}
	if box.Checked {
		t.Error("box ticked before any login entry exists")
	}
	fill := func() {
		f.syncType.SetSelected(SyncTypeDisabled)
		setType(f.exportDir, filepath.Join(dir, "calendars"))
	}
	fill()
	test.Tap(box)
	test.Tap(f.ok)
	if w.Visible() {
		t.Fatalf("OK did not save: %q %v", f.Message(""), shownErrors(f))
	}
	exe, _ := os.Executable()
	b, err := os.ReadFile(paths.AutostartEntry())
	if err != nil || !strings.Contains(string(b), "Exec=\""+exe+"\"\n") {
		t.Fatalf("login entry after OK: got\n%s%v\nwant one running %s", b, err, exe)
	}

	w.Show()
	if !f.AutostartBox().Checked {
		t.Error("box not ticked on the next showing, with the login entry in place")
	}
	fill()
	test.Tap(f.AutostartBox())
	test.Tap(f.ok)
	if _, err := os.Stat(paths.AutostartEntry()); !os.IsNotExist(err) {
		t.Errorf("login entry after unticking and OK: %v, want it gone", err)
	}

	// Cancel changes nothing.
	w.Show()
	test.Tap(f.AutostartBox())
	test.Tap(f.cancel)
	if _, err := os.Stat(paths.AutostartEntry()); !os.IsNotExist(err) {
		t.Errorf("login entry after ticking and Cancel: %v, want none", err)
	}

	// A login entry that cannot be written: saved, but the window says so.
	w.Show()
	fill()
	blocked := filepath.Join(paths.Config, "autostart")
	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocked, nil, 0o600); err != nil { // a file where the folder goes
		t.Fatal(err)
	}
	test.Tap(f.AutostartBox())
	test.Tap(f.ok)
	if !w.Visible() || !strings.HasPrefix(f.Message(""), "Settings saved, but starting at login could not be changed: ") {
		t.Errorf("unwritable login entry: visible %v, message %q; want the window open saying so", w.Visible(), f.Message(""))
	}

	noDesktop, err := app.New(app.Options{ConfigPath: filepath.Join(dir, "c2.json"), Secrets: secrets.NewMemory(), SocketPath: filepath.Join(dir, "s2.sock")})
	if err != nil {
		t.Fatal(err)
	}
	if box := NewWindow(test.NewTempApp(t), noDesktop, nil).Form().AutostartBox(); box != nil {
		t.Error("a core without desktop folders shows the Start at login box")
	}
}
