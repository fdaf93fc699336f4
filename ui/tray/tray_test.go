package tray

import (
	"testing"

	"fyne.io/fyne/v2"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/assets"
)

type fakeDesk struct {
	given []*fyne.Menu // the menu objects handed over
	menus []*fyne.Menu // copies of their items at the time
	icons []fyne.Resource
}

func (d *fakeDesk) SetSystemTrayMenu(m *fyne.Menu) {
	d.given = append(d.given, m)
	d.menus = append(d.menus, fyne.NewMenu(m.Label, append([]*fyne.MenuItem(nil), m.Items...)...))
}
func (d *fakeDesk) SetSystemTrayIcon(r fyne.Resource) { d.icons = append(d.icons, r) }
func (d *fakeDesk) SetSystemTrayWindow(fyne.Window)   {}

func find(m *fyne.Menu, label string) *fyne.MenuItem {
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}

func TestMenuActions(t *testing.T) {
	t.Parallel()
	var got []string
	act := Actions{
		SyncNow:    func() { got = append(got, "sync") },
		Pause:      func() { got = append(got, "pause") },
		Resume:     func() { got = append(got, "resume") },
		Settings:   func() { got = append(got, "settings") },
		ShowStatus: func() { got = append(got, "status") },
		OpenFolder: func(dir string) { got = append(got, "open "+dir) },
		Quit:       func() { got = append(got, "quit") },
	}
	m := Menu(Build(app.Status{State: app.StateIdle, ExportDir: "/srv/ics"}, now), act)
	for _, l := range []string{LabelSyncNow, LabelPause, LabelOpenFolder, LabelShowStatus, LabelSettings, LabelQuit} {
		it := find(m, l)
		if it == nil || it.Action == nil {
			t.Fatalf("item %q: got no action, want one", l)
		}
		it.Action()
	}
	want := "sync,pause,open /srv/ics,status,settings,quit"
	if s := join(got); s != want {
		t.Errorf("got %q, want %q", s, want)
	}
	q := find(m, LabelQuit)
	if q == nil || !q.IsQuit || m.Items[len(m.Items)-1] != q {
		t.Errorf("got quit item %+v, want the last item with IsQuit", q)
	}

	got = nil
	pm := Menu(Build(app.Status{State: app.StatePaused}, now), act)
	if find(pm, LabelPause) != nil {
		t.Errorf("paused menu: got a %q item, want only %q", LabelPause, LabelResume)
	}
	find(pm, LabelResume).Action()
	if !find(pm, LabelSyncNow).Disabled {
		t.Errorf("paused menu: got %q enabled, want disabled", LabelSyncNow)
	}
	if s := join(got); s != "resume" {
		t.Errorf("got %q, want %q", s, "resume")
	}
}

func TestMenuSubmenu(t *testing.T) {
	t.Parallel()
	mb := []app.MailboxStatus{{Address: "a@x", Err: "Gone."}}
	m := Menu(Build(app.Status{State: app.StateWarning, Mailboxes: mb}, now), Actions{})
	p := find(m, LabelProblems)
	if p == nil || p.ChildMenu == nil || len(p.ChildMenu.Items) != 1 || p.ChildMenu.Items[0].Label != "a@x: Gone." {
		t.Fatalf("got problems item %+v, want a submenu with %q", p, "a@x: Gone.")
	}
}

func TestTrayShow(t *testing.T) {
	t.Parallel()
	d := &fakeDesk{}
	tr := New(d, Actions{})
	idle := Build(app.Status{State: app.StateIdle}, now)
	tr.Show(idle)
	tr.Show(idle) // unchanged: no rebuild
	tr.Show(Build(app.Status{State: app.StatePaused}, now))
	if len(d.menus) != 2 {
		t.Errorf("menus set: got %d, want 2", len(d.menus))
	}
	if len(d.icons) != 2 || d.icons[0] != assets.TrayOK || d.icons[1] != assets.TrayPaused {
		t.Errorf("icons: got %v, want [TrayOK TrayPaused]", d.icons)
	}
	if got := d.menus[1].Items[0].Label; got != LabelPaused {
		t.Errorf("first label after pause: got %q, want %q", got, LabelPaused)
	}
	// Fyne refreshes the tray with the first menu object once it is ready;
	// that object must carry the latest items.
	if d.given[0] != d.given[1] || d.given[0].Items[0].Label != LabelPaused {
		t.Errorf("got a new menu object per Show (first now says %q), want one object with the latest items", d.given[0].Items[0].Label)
	}
}

func TestIconPerState(t *testing.T) {
	t.Parallel()
	seen := map[fyne.Resource]app.State{}
	for s := app.StateNotConfigured; s <= app.StatePaused; s++ {
		r := Icon(s)
		if prev, dup := seen[r]; dup {
			t.Errorf("state %v: got the same icon as %v, want one per state", s, prev)
		}
		seen[r] = s
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
