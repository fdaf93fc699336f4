package settings

import "fyne.io/fyne/v2/widget"

// Autostarter is optionally implemented by the Store (as Diagnoser is):
// the form then shows "Start at login", read at each Load and applied by
// OK after the settings are saved.
type Autostarter interface {
	// Autostart reports whether ExoCal starts at login; ok false hides
	// the choice; err says the login entry could not be read.
	Autostart() (on, ok bool, err error)
	// SetAutostart writes or removes the login entry.
	SetAutostart(on bool) error
}

// StartAtLogin is the words of the "Start at login" box.
const StartAtLogin = "Start ExoCal when I log in"

// newAutostart returns the box when store can start ExoCal at login, else nil.
func newAutostart(store Store) (Autostarter, *widget.Check) {
	a, ok := store.(Autostarter)
	if !ok {
		return nil, nil
	}
	if _, avail, _ := a.Autostart(); !avail {
		return nil, nil
	}
	return a, widget.NewCheck(StartAtLogin, nil)
}

// loadAutostart sets the box from the login entry.
func (f *Form) loadAutostart() {
	if f.autostart == nil {
		return
	}
	on, _, err := f.autostarter.Autostart()
	f.autostartWas = on
	f.autostart.SetChecked(on)
	if err != nil {
		f.showGeneral("Whether ExoCal starts at login could not be read: " + sentence(err))
	}
}

// applyAutostart writes or removes the login entry after a successful
// save; checked writes it again, which refreshes the binary's path.
func (f *Form) applyAutostart() error {
	if f.autostart == nil || (!f.autostart.Checked && !f.autostartWas) {
		return nil
	}
	return f.autostarter.SetAutostart(f.autostart.Checked)
}

// AutostartBox is the "Start at login" box, nil when hidden (for tests).
func (f *Form) AutostartBox() *widget.Check { return f.autostart }
