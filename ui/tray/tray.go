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
	SyncNow, Pause, Resume, Settings func()
	OpenFolder                       func(dir string)
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
			mi.IsQuit = true // Fyne supplies the action: quit the app
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
	t.desk.SetSystemTrayMenu(Menu(m, t.act))
	if t.last == nil || t.last.Icon != m.Icon {
		t.desk.SetSystemTrayIcon(Icon(m.Icon))
	}
	t.last = &m
}
