package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/exocal/exocal/app/desktop"
	"github.com/exocal/exocal/assets"
)

func init() {
	register(command{name: "desktop", summary: "add ExoCal to the application menu, or start it at login (desktop install | autostart on|off)", run: runDesktop})
}

const desktopUsage = `Usage:
  exocal desktop                    show the application menu entry and the login entry
  exocal desktop install            add ExoCal (this binary) to the application menu, with its icon
      [--exec PATH] [--data-home DIR]   for packaging: the binary's installed path, and where the
                                        entry and icon go instead of $XDG_DATA_HOME
  exocal desktop uninstall          remove the menu entry, the icon and the login entry
      [--data-home DIR]                 where install put the entry and icon, if not $XDG_DATA_HOME
  exocal desktop autostart on|off   start ExoCal (the tray app) at login, or not

The entries follow the freedesktop.org specifications that GNOME, KDE, XFCE
and most other desktops read: the menu entry goes to
$XDG_DATA_HOME/applications (~/.local/share/applications), the login entry to
$XDG_CONFIG_HOME/autostart (~/.config/autostart). They run this binary by its
full path: after moving it, run the command again. The settings window's
"Start at login" box does the same as 'autostart on|off'.
`

func runDesktop(args []string) int {
	sub := ""
	for i, a := range args {
		if a == "-h" || a == "--help" || (i == 0 && a == "help") {
			fmt.Print(desktopUsage)
			return 0
		}
		if i == 0 {
			sub = a
		}
	}
	p, err := desktop.DefaultPaths()
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal desktop: %s\n", cliSentence(err))
		return 2
	}
	switch {
	case sub == "" && len(args) == 0:
		return desktopShow(p)
	case sub == "install":
		fs := flag.NewFlagSet("exocal desktop install", flag.ContinueOnError)
		execPath := fs.String("exec", "", "the binary the entry runs (default: this one); for packaging")
		dataHome := fs.String("data-home", "", "the folder that gets applications/ and icons/ (default: $XDG_DATA_HOME); for packaging, e.g. $DESTDIR/usr/share")
		if code, done := parseFlags(fs, args[1:]); done {
			return code
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(os.Stderr, "exocal desktop install: unexpected argument %q; run 'exocal desktop --help'.\n", fs.Arg(0))
			return 2
		}
		exe := *execPath
		if exe == "" {
			var ok bool
			if exe, ok = thisBinary(); !ok {
				return 2
			}
		} else if !filepath.IsAbs(exe) {
			fmt.Fprintf(os.Stderr, "exocal desktop install: --exec %q is not an absolute path; give the full path the installed binary will have.\n", exe)
			return 2
		}
		if *dataHome != "" {
			if !filepath.IsAbs(*dataHome) {
				fmt.Fprintf(os.Stderr, "exocal desktop install: --data-home %q is not an absolute path.\n", *dataHome)
				return 2
			}
			p.Data = *dataHome
		}
		icon := assets.SVG("icon")
		written, err := desktop.Install(p, exe, icon.Content())
		if err != nil {
			fmt.Fprintf(os.Stderr, "exocal desktop install: %s\n", cliSentence(err))
			return 2
		}
		for _, f := range written {
			fmt.Println("wrote", f)
		}
		fmt.Println("ExoCal is in the application menu (some desktops show it after the next login).")
		return 0
	case sub == "uninstall":
		fs := flag.NewFlagSet("exocal desktop uninstall", flag.ContinueOnError)
		dataHome := fs.String("data-home", "", "the folder install wrote applications/ and icons/ into (default: $XDG_DATA_HOME)")
		if code, done := parseFlags(fs, args[1:]); done {
			return code
		}
		if fs.NArg() > 0 || (*dataHome != "" && !filepath.IsAbs(*dataHome)) {
			fmt.Fprintln(os.Stderr, "exocal desktop uninstall: takes only --data-home DIR, an absolute path; run 'exocal desktop --help'.")
			return 2
		}
		if *dataHome != "" {
			p.Data = *dataHome
		}
		gone, err := desktop.Uninstall(p)
		for _, f := range gone {
			fmt.Println("removed", f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "exocal desktop uninstall: %s\n", cliSentence(err))
			return 2
		}
		if len(gone) == 0 {
			fmt.Println("Nothing to remove: ExoCal was not in the application menu nor started at login.")
		}
		return 0
	case sub == "autostart" && len(args) != 2:
		fmt.Fprintln(os.Stderr, "exocal desktop autostart: say on or off: 'exocal desktop autostart on' starts ExoCal at login, 'off' stops that.")
		return 2
	case sub == "autostart" && (args[1] == "on" || args[1] == "off"):
		on := args[1] == "on"
		exe := ""
		if on {
			var ok bool
			if exe, ok = thisBinary(); !ok {
				return 2
			}
		}
		if err := desktop.SetAutostart(p, exe, on); err != nil {
			fmt.Fprintf(os.Stderr, "exocal desktop autostart: %s\n", cliSentence(err))
			return 2
		}
		if on {
			fmt.Printf("ExoCal starts at login: %s runs %s.\n", p.AutostartEntry(), exe)
		} else {
			fmt.Println("ExoCal does not start at login.")
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "exocal desktop: unknown arguments %q; run 'exocal desktop --help'.\n", strings.Join(args, " "))
	return 2
}

// thisBinary is the running executable's absolute path; it warns when that
// is a temporary build (go run, go test) that will not be there later.
func thisBinary() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal desktop: cannot tell where this binary is (%v); run it by its full path.\n", err)
		return "", false
	}
	if tmp := os.TempDir(); strings.HasPrefix(exe, filepath.Clean(tmp)+string(filepath.Separator)) {
		fmt.Fprintf(os.Stderr, "exocal desktop: note: %s is in the temporary folder %s and may be gone later; install a built binary (make build, then copy bin/exocal to ~/.local/bin) and run this from there.\n", exe, tmp)
	}
	return exe, true
}

func desktopShow(p desktop.Paths) int {
	code := 0
	for _, e := range []struct{ what, path, fix string }{
		{"Application menu", p.MenuEntry(), "exocal desktop install"},
		{"Start at login", p.AutostartEntry(), "exocal desktop autostart on"},
	} {
		in, err := desktop.Read(e.path)
		switch {
		case err != nil:
			fmt.Printf("%s: unreadable: %s\n", e.what, cliSentence(err))
			code = 2
		case !in.Present:
			fmt.Printf("%s: no ('%s' adds it)\n", e.what, e.fix)
		case !in.Enabled:
			fmt.Printf("%s: turned off in %s ('%s' turns it on)\n", e.what, e.path, e.fix)
		case in.Missing:
			fmt.Printf("%s: broken: %s runs %s, which is gone; run '%s' from the binary you use now\n", e.what, e.path, in.Exec, e.fix)
			code = 1
		default:
			fmt.Printf("%s: yes, runs %s (%s)\n", e.what, in.Exec, e.path)
		}
	}
	return code
}
