package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDesktopCommand runs `exocal desktop` as a user would: status, install,
// autostart on and off, uninstall; the entries land under the XDG folders
// and name the running binary. (app/desktop's tests check the entries with
// desktop-file-validate and launch them through GIO.)
func TestDesktopCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	dataHome, cfgHome := "", c.cfgHome
	for _, e := range c.env {
		if v, ok := strings.CutPrefix(e, "XDG_DATA_HOME="); ok {
			dataHome = v
		}
	}
	menu := filepath.Join(dataHome, "applications", "com.exocal.app.desktop")
	icon := filepath.Join(dataHome, "icons", "hicolor", "scalable", "apps", "com.exocal.app.svg")
	login := filepath.Join(cfgHome, "autostart", "com.exocal.app.desktop")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	out, _, code := c.run("", nil, "desktop")
	if code != 0 || !strings.Contains(out, "Application menu: no ('exocal desktop install' adds it)") ||
		!strings.Contains(out, "Start at login: no ('exocal desktop autostart on' adds it)") {
		t.Errorf("desktop before install: got exit %d\n%s", code, out)
	}

	out, errOut, code := c.run("", nil, "desktop", "install")
	if code != 0 || !strings.Contains(out, "wrote "+menu) || !strings.Contains(out, "wrote "+icon) {
		t.Fatalf("desktop install: got exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(icon); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("icon: got %d bytes, %v; want the app's SVG", len(b), err)
	}
	if b, err := os.ReadFile(menu); err != nil || !strings.Contains(string(b), "Exec=\""+exe+"\"\n") {
		t.Errorf("menu entry: got\n%s%v\nwant Exec naming %s", b, err, exe)
	}
	// The test binary lives in a temporary folder: the command says so.
	if !strings.Contains(errOut, "temporary folder") {
		t.Errorf("desktop install from a temporary binary: stderr %q, want a note about the temporary folder", errOut)
	}

	if out, _, code := c.run("", nil, "desktop", "autostart", "on"); code != 0 || !strings.Contains(out, "starts at login") {
		t.Errorf("autostart on: got exit %d %q", code, out)
	}
	if b, err := os.ReadFile(login); err != nil || !strings.Contains(string(b), "X-GNOME-Autostart-enabled=true") {
		t.Errorf("login entry: got\n%s%v", b, err)
	}
	out, _, code = c.run("", nil, "desktop")
	if code != 0 || !strings.Contains(out, "Application menu: yes, runs "+exe) || !strings.Contains(out, "Start at login: yes, runs "+exe) {
		t.Errorf("desktop after install: got exit %d\n%s", code, out)
	}

	if out, _, code := c.run("", nil, "desktop", "autostart", "off"); code != 0 || !strings.Contains(out, "does not start at login") {
		t.Errorf("autostart off: got exit %d %q", code, out)
	}
	if _, err := os.Stat(login); !os.IsNotExist(err) {
		t.Errorf("login entry after off: %v, want it gone", err)
	}

	out, _, code = c.run("", nil, "desktop", "uninstall")
	if code != 0 || !strings.Contains(out, "removed "+menu) || !strings.Contains(out, "removed "+icon) {
		t.Errorf("desktop uninstall: got exit %d\n%s", code, out)
	}
	if out, _, code := c.run("", nil, "desktop", "uninstall"); code != 0 || !strings.Contains(out, "Nothing to remove") {
		t.Errorf("second uninstall: got exit %d %q", code, out)
	}

	if _, errOut, code := c.run("", nil, "desktop", "autostart"); code != 2 || !strings.Contains(errOut, "say on or off") {
		t.Errorf("desktop autostart without on/off: got exit %d %q, want 2 and 'say on or off'", code, errOut)
	}

	// Packaging: the entry names the installed path and goes where asked.
	stage := filepath.Join(c.base, "stage", "usr", "share")
	if out, errOut, code := c.run("", nil, "desktop", "install", "--exec", "/usr/bin/exocal", "--data-home", stage); code != 0 || strings.Contains(errOut, "temporary folder") {
		t.Errorf("desktop install --exec --data-home: got exit %d %q %q", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(stage, "applications", "com.exocal.app.desktop")); err != nil || !strings.Contains(string(b), "Exec=\"/usr/bin/exocal\"\n") {
		t.Errorf("packaged entry: got\n%s%v\nwant Exec naming /usr/bin/exocal", b, err)
	}
	if _, err := os.Stat(menu); !os.IsNotExist(err) {
		t.Errorf("packaging wrote the user's menu entry too: %v", err)
	}
	if _, errOut, code := c.run("", nil, "desktop", "install", "--bogus"); code != 2 || !strings.Contains(errOut, "Usage: exocal desktop install [flags]") {
		t.Errorf("desktop install --bogus: got exit %d %q, want 2 and the flags' usage", code, errOut)
	}
	for _, args := range [][]string{{"desktop", "install", "--exec", "bin/exocal"}, {"desktop", "install", "--data-home", "share"}} {
		if _, errOut, code := c.run("", nil, args...); code != 2 || !strings.Contains(errOut, "not an absolute path") {
			t.Errorf("exocal %v: got exit %d %q, want 2 and 'not an absolute path'", args, code, errOut)
		}
	}

	for _, args := range [][]string{{"desktop", "autostart", "maybe"}, {"desktop", "frobnicate"}} {
		if _, errOut, code := c.run("", nil, args...); code != 2 || !strings.Contains(errOut, "exocal desktop --help") {
			t.Errorf("exocal %v: got exit %d %q, want 2 and a pointer to --help", args, code, errOut)
		}
	}
	if out, _, code := c.run("", nil, "desktop", "--help"); code != 0 || !strings.Contains(out, "Usage") {
		t.Errorf("desktop --help: got exit %d %q", code, out)
	}
}
