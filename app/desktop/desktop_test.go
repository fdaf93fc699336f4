package desktop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
)

func TestQuoteExec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/usr/bin/exocal", `"/usr/bin/exocal"`},
		{"/home/a b/exocal", `"/home/a b/exocal"`},
		{`/x/"q"/exocal`, `"/x/\\"q\\"/exocal"`},
		{"/x/$HOME/`id`/exocal", "\"/x/\\\\$HOME/\\\\`id\\\\`/exocal\""},
		{`/x/back\slash/exocal`, `"/x/back\\\\slash/exocal"`},
	} {
		if got := QuoteExec(tc.in); got != tc.want {
			t.Errorf("QuoteExec(%q): got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestEntryRefusesBadPaths(t *testing.T) {
	t.Parallel()
	for _, exe := range []string{"exocal", "bin/exocal", "/x/new\nline/exocal", "/x/100%/exocal", "/x/caf\xe9/exocal"} {
		if _, err := Entry(exe, false); err == nil {
			t.Errorf("Entry(%q): got nil error, want a refusal", exe)
		}
	}
}

// oddPaths are executable paths a desktop entry must still name exactly.
var oddPaths = []string{
	"exocal",
	"with space/exocal",
	`quote "q" dollar $HOME tick ` + "`id`" + ` back\slash semi;colon/exocal`,
}

// fakeExocal writes an executable shell script at dir/rel that appends its
// own path ($0) to marker when run.
func fakeExocal(t *testing.T, dir, rel, marker string) string {
	t.Helper()
	exe := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$0\" >> '" + marker + "'\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestEntriesValidate runs desktop-file-validate (Debian's
// desktop-file-utils, the freedesktop.org reference checker) over the menu
// and login entries for plain and awkward paths.
func TestEntriesValidate(t *testing.T) {
	t.Parallel()
	validate := testenv.LookPath(t, "desktop-file-validate", "desktop-file-utils")
	dir := t.TempDir()
	for i, rel := range oddPaths {
		for _, auto := range []bool{false, true} {
			b, err := Entry(filepath.Join(dir, rel), auto)
			if err != nil {
				t.Fatalf("Entry(%q): %v", rel, err)
			}
			f := filepath.Join(dir, "e", "n"+string(rune('a'+i))+map[bool]string{false: "-menu", true: "-auto"}[auto], ID+".desktop")
			os.MkdirAll(filepath.Dir(f), 0o755)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(validate, f).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("desktop-file-validate on the entry for %q (autostart %v): %v\n%s\nentry:\n%s", rel, auto, err, out, b)
			}
		}
	}
}

// TestEntriesLaunchThroughGio installs the menu entry and the login entry
// for a stand-in exocal at awkward paths, then has GLib's GIO (the code
// GNOME and most desktops launch entries with, through python3-gi) load
// and launch each; the stand-in records the path it was started as.
func TestEntriesLaunchThroughGio(t *testing.T) {
	t.Parallel()
	py := testenv.DebianPython(t, map[string]string{"gi": "python3-gi"})
	const launcher = `
import sys, gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio
info = Gio.DesktopAppInfo.new_from_filename(sys.argv[1])
if info is None:
    sys.exit("GIO refused the entry (bad syntax, or TryExec names no executable)")
if not info.launch([], None):
    sys.exit("GIO could not launch the entry")
`
	for _, rel := range oddPaths {
		dir := t.TempDir()
		marker := filepath.Join(dir, "started")
		exe := fakeExocal(t, dir, rel, marker)
		p := Paths{Data: filepath.Join(dir, "data"), Config: filepath.Join(dir, "config")}
		if _, err := Install(p, exe, []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")); err != nil {
			t.Fatalf("Install: %v", err)
		}
		if err := SetAutostart(p, exe, true); err != nil {
			t.Fatalf("SetAutostart on: %v", err)
		}
		for _, entry := range []string{p.MenuEntry(), p.AutostartEntry()} {
			os.Remove(marker)
			if out, err := exec.Command(py, "-c", launcher, entry).CombinedOutput(); err != nil {
				b, _ := os.ReadFile(entry)
				t.Fatalf("launching %s for %q: %v\n%s\nentry:\n%s", filepath.Base(filepath.Dir(entry)), rel, err, out, b)
			}
			got := waitForFile(t, marker)
			if got != exe+"\n" {
				t.Errorf("the %s entry for %q started %q, want %q", filepath.Base(filepath.Dir(entry)), rel, got, exe+"\n")
			}
		}
	}
}

// waitForFile returns marker's content once the launched child wrote it
// (GIO spawns asynchronously); it fails after a generous bound.
func waitForFile(t *testing.T, marker string) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(marker); err == nil && strings.HasSuffix(string(b), "\n") {
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the launched entry never ran the stand-in (no %s after 10 s)", marker)
	return ""
}

func TestInstallReadUninstall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := fakeExocal(t, dir, oddPaths[2], filepath.Join(dir, "m"))
	p := Paths{Data: filepath.Join(dir, "data"), Config: filepath.Join(dir, "config")}

	if in, err := Read(p.AutostartEntry()); err != nil || in.Present {
		t.Fatalf("Read before install: got %+v, %v; want not present", in, err)
	}
	written, err := Install(p, exe, []byte("<svg/>"))
	if err != nil || len(written) != 2 {
		t.Fatalf("Install: got %v, %v; want the entry and the icon", written, err)
	}
	for _, f := range written {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: got %v, %v; want mode 0644", f, fi.Mode().Perm(), err)
		}
	}
	if err := SetAutostart(p, exe, true); err != nil {
		t.Fatal(err)
	}
	in, err := Read(p.AutostartEntry())
	if err != nil || !in.Present || !in.Enabled || in.Exec != exe || in.Missing {
		t.Errorf("Read login entry: got %+v, %v; want present, enabled, Exec %q", in, err, exe)
	}
	if in, _ := Read(p.MenuEntry()); in.Exec != exe {
		t.Errorf("Read menu entry: Exec %q, want %q", in.Exec, exe)
	}

	// A desktop's own "off" switch (Hidden=true) is seen.
	b, _ := os.ReadFile(p.AutostartEntry())
	os.WriteFile(p.AutostartEntry(), append(b, "Hidden=true\n"...), 0o644)
	if in, _ := Read(p.AutostartEntry()); !in.Present || in.Enabled {
		t.Errorf("Read with Hidden=true: got %+v, want present and not enabled", in)
	}

	// A moved binary is noticed.
	os.Remove(exe)
	if in, _ := Read(p.MenuEntry()); !in.Missing {
		t.Errorf("Read after the binary was removed: got %+v, want Missing", in)
	}

	if err := SetAutostart(p, exe, false); err != nil {
		t.Fatalf("SetAutostart off: %v", err)
	}
	if _, err := os.Stat(p.AutostartEntry()); !os.IsNotExist(err) {
		t.Errorf("login entry after off: %v, want it gone", err)
	}
	if err := SetAutostart(p, exe, false); err != nil {
		t.Errorf("SetAutostart off twice: %v, want nil", err)
	}
	gone, err := Uninstall(p)
	if err != nil || len(gone) != 2 {
		t.Errorf("Uninstall: got %v, %v; want the menu entry and the icon removed", gone, err)
	}
	if gone, err := Uninstall(p); err != nil || len(gone) != 0 {
		t.Errorf("Uninstall again: got %v, %v; want nothing, no error", gone, err)
	}
}

func TestDefaultPaths(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "relative/ignored")
	p, err := DefaultPaths()
	if err != nil || p.Data != "/home/u/.local/share" || p.Config != "/home/u/.config" {
		t.Errorf("DefaultPaths: got %+v, %v; want the $HOME defaults", p, err)
	}
	t.Setenv("XDG_DATA_HOME", "/d")
	t.Setenv("XDG_CONFIG_HOME", "/c")
	p, _ = DefaultPaths()
	if p.MenuEntry() != "/d/applications/"+ID+".desktop" || p.AutostartEntry() != "/c/autostart/"+ID+".desktop" ||
		p.Icon() != "/d/icons/hicolor/scalable/apps/"+ID+".svg" {
		t.Errorf("paths under XDG: got %s, %s, %s", p.MenuEntry(), p.AutostartEntry(), p.Icon())
	}
}
