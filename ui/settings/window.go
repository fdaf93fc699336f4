package settings

import "fyne.io/fyne/v2"

// Title is the settings window's title.
const Title = "ExoCal Settings"

// Window is the settings window. It is created once and hidden, not
// destroyed, when closed; every Show reloads the form from the store.
type Window struct {
	win     fyne.Window
	form    *Form
	onHide  func()
	visible bool
}

// NewWindow creates the (hidden) settings window. onHide, if not nil, runs
// whenever the window closes (e.g. to quit when there is no tray to bring
// it back).
func NewWindow(a fyne.App, store Store, onHide func()) *Window {
	w := &Window{win: a.NewWindow(Title), onHide: onHide}
	w.form = NewForm(store, w.win, w.Hide)
	w.win.SetContent(w.form.Content())
	w.win.Resize(fyne.NewSize(720, 680))
	w.win.SetCloseIntercept(w.form.Cancel)
	return w
}

// Show reloads the form and shows the window in front; when the window is
// open already it only comes forward, keeping the edits. Call it on the Fyne
// goroutine.
func (w *Window) Show() {
	if !w.visible {
		w.form.Load()
		w.visible = true
	}
	w.win.Show()
	w.win.RequestFocus()
}

// Visible reports whether the window is shown.
func (w *Window) Visible() bool { return w.visible }

// Hide hides the window (Cancel and a successful OK end here).
func (w *Window) Hide() {
	w.visible = false
	w.win.Hide()
	if w.onHide != nil {
		w.onHide()
	}
}

// Form returns the window's form (for tests).
func (w *Window) Form() *Form { return w.form }

// Window returns the underlying Fyne window.
func (w *Window) Window() fyne.Window { return w.win }
