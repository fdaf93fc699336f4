package app

import (
	"fmt"
	"os"

	"github.com/exocal/exocal/app/desktop"
)

// Autostart reports whether ExoCal starts at login (its XDG autostart
// entry is there and not turned off), for the settings window's "Start at
// login". ok is false when this App has no desktop folders
// (Options.Desktop nil): the window then hides the choice.
func (a *App) Autostart() (on, ok bool, err error) {
	if a.opts.Desktop == nil {
		return false, false, nil
	}
	in, err := desktop.Read(a.opts.Desktop.AutostartEntry())
	return in.Present && in.Enabled && !in.Missing, true, err
}

// SetAutostart writes the login entry for the running binary (on) or
// removes it (off). Writing it again refreshes the binary's path.
func (a *App) SetAutostart(on bool) error {
	if a.opts.Desktop == nil {
		return fmt.Errorf("app: no desktop folders to put a login entry in")
	}
	exe := ""
	if on {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("app: cannot tell where the exocal binary is: %w", err)
		}
	}
	if err := desktop.SetAutostart(*a.opts.Desktop, exe, on); err != nil {
		return err
	}
	a.log.Info("app: start at login", "on", on, "entry", a.opts.Desktop.AutostartEntry())
	return nil
}
