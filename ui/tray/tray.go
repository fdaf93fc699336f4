package tray

import (
	"reflect"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/assets"
)

// Actions are what the menu items run; Fyne calls them on its main goroutine.
// A nil func leaves its item without an action.
type Actions struct {
	SyncNow, Pause, Resume, Settings, ShowStatus func()
	OpenFolder                                   func(dir string)
	// Quit must be set: Fyne fills in a nil Quit action only after the
	// systray has copied the nil (fyne 2.7 refreshSystray), so it would do nothing.
	Quit func()
}

// Icon returns the tray icon for a state.
func Icon(s app.State) fyne.Resource {
	switch s {
	case app.StateIdle:
		return assets.TrayOK
	case app.StateSyncing:
		return assets.TraySyncing
	case app.StateWarning:
		return assets.TrayWarning
	case app.StateError:
		return assets.TrayError
	case app.StatePaused:
		return assets.TrayPaused
	}
	return assets.TrayNotConfigured
}

// Menu turns a model into a Fyne menu wired to act.
func Menu(m Model, act Actions) *fyne.Menu {
	return fyne.NewMenu("ExoCal", menuItems(m.Items, m.ExportDir, act)...)
}

func menuItems(items []Item, dir string, act Actions) []*fyne.MenuItem {
	out := make([]*fyne.MenuItem, 0, len(items))
	for _, it := range items {
		if it.Separator() {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		mi := fyne.NewMenuItem(it.Label, action(it.Action, dir, act))
		mi.Disabled = !it.Enabled
		if it.Action == ActQuit {
			mi.IsQuit = true // keeps Fyne from adding a second Quit
		}
		if len(it.Children) > 0 {
			mi.ChildMenu = fyne.NewMenu(it.Label, menuItems(it.Children, dir, act)...)
		}
		out = append(out, mi)
	}
	return out
}

func action(a Action, dir string, act Actions) func() {
	switch a {
	case ActSyncNow:
		return act.SyncNow
	case ActPause:
		return act.Pause
	case ActResume:
		return act.Resume
	case ActSettings:
		return act.Settings
	case ActShowStatus:
		return act.ShowStatus
	case ActQuit:
		return act.Quit
	case ActOpenFolder:
		if act.OpenFolder != nil {
			return func() { act.OpenFolder(dir) }
		}
	}
	return nil
}

// Tray shows models in the desktop system tray.
type Tray struct {
	desk desktop.App
	act  Actions
	last *Model
	// menu is the one *fyne.Menu handed to the tray, its Items replaced on
	// each Show: fyne 2.7 refreshes the tray once more when it becomes
	// ready, with the menu it was first given, which would bring back a
	// stale snapshot if each Show passed a new menu.
	menu *fyne.Menu
}

// New returns a Tray that draws into desk's system tray.
func New(desk desktop.App, act Actions) *Tray {
	return &Tray{desk: desk, act: act}
}

// Show rebuilds the tray menu and icon from m, unless m is what is shown
// already. Call it on the Fyne goroutine (inside fyne.Do).
func (t *Tray) Show(m Model) {
	if t.last != nil && reflect.DeepEqual(*t.last, m) {
		return
	}
	fresh := Menu(m, t.act)
	if t.menu == nil {
		t.menu = fresh
	} else {
		t.menu.Items = fresh.Items
	}
	t.desk.SetSystemTrayMenu(t.menu)
	if t.last == nil || t.last.Icon != m.Icon {
		t.desk.SetSystemTrayIcon(Icon(m.Icon))
	}
	t.last = &m
}
