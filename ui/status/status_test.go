package status

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/ui/tray"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		st                 app.Status
		headline, detail   string
		rows               string
		configured, paused bool
	}{
		{"not configured", app.Status{}, tray.LabelNotSetUp, "", "", false, false},
		{"synced", app.Status{State: app.StateIdle, LastSync: now.Add(-time.Hour), Mailboxes: []app.MailboxStatus{
			{Address: "a@x", State: app.StateIdle, Items: 1, LastSync: now.Add(-time.Hour)}}},
			"Synced 1 mailbox · 1 h ago", "", "a@x OK 1 item synced 1 h ago", true, false},
		{"explained error", app.Status{State: app.StateError, Err: "EWS is blocked for the app.\nAsk the admin to allow it."},
			"EWS is blocked for the app" + tray.OpenSettingsToFix, "Ask the admin to allow it.", "", true, false},
		{"plain error", app.Status{State: app.StateError, Err: "Cannot connect."}, "Error: Cannot connect.", "", "", true, false},
		{"paused", app.Status{State: app.StatePaused, Mailboxes: []app.MailboxStatus{{Address: "b@x", State: app.StateError, Items: 2, Err: "Gone.\nRemove it."}}},
			tray.LabelPaused, "", "b@x Error 2 items not synced yet Gone. Remove it.!", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Build(tt.st, now)
			if m.Headline != tt.headline || m.Detail != tt.detail {
				t.Errorf("got %q / %q, want %q / %q", m.Headline, m.Detail, tt.headline, tt.detail)
			}
			var rows []string
			for _, r := range m.Rows {
				s := strings.Join(strings.Fields(r.Address+" "+r.State+" "+r.Items+" "+r.Synced+" "+r.Err), " ")
				if r.Failing {
					s += "!"
				}
				rows = append(rows, s)
			}
			if got := strings.Join(rows, ";"); got != tt.rows {
				t.Errorf("rows: got %q, want %q", got, tt.rows)
			}
			if m.Configured != tt.configured || m.Paused != tt.paused {
				t.Errorf("configured, paused: got %v, %v, want %v, %v", m.Configured, m.Paused, tt.configured, tt.paused)
			}
		})
	}
}

func TestWindowOpenFolderAndClose(t *testing.T) {
	a := test.NewTempApp(t)
	var got []string
	closed := 0
	w := New(a, Actions{OpenFolder: func(dir string) { got = append(got, dir) }}, func() { closed++ })
	w.Update(Build(app.Status{State: app.StateIdle}, now))
	if !w.OpenFolder.Disabled() {
		t.Errorf("no export folder: got %q enabled, want disabled", tray.LabelOpenFolder)
	}
	if got := w.Folder(); got != "" {
		t.Errorf("no export folder: got the line %q, want none", got)
	}
	w.Update(Build(app.Status{State: app.StateIdle, ExportDir: "/srv/ics"}, now))
	if got, want := w.Folder(), "ICS files in /srv/ics"; got != want {
		t.Errorf("export folder line: got %q, want %q", got, want)
	}
	test.Tap(w.OpenFolder)
	test.Tap(w.SyncNow) // no action set: nothing happens, nothing panics
	if strings.Join(got, ",") != "/srv/ics" {
		t.Errorf("Open export folder: got %q, want %q", got, "/srv/ics")
	}
	w.Show()
	w.closeIntercept()
	if w.Visible() || closed != 1 {
		t.Errorf("closed by the user: got visible %v and onClose run %d times, want hidden and 1", w.Visible(), closed)
	}
}
