package status

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/ui/tray"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestBuild(t *testing.T) {
	t.Parallel()
	long := "Cannot resolve login.microsoftonline.com (DNS). Check the network connection and DNS settings, or the proxy (HTTPS_PROXY) if one is needed."
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
		{"explained error", app.Status{State: app.StateError, Err: "EWS is blocked for the app.", Fix: "Ask the admin to allow it."},
			"EWS is blocked for the app" + tray.OpenSettingsToFix, "Ask the admin to allow it.", "", true, false},
		{"plain error", app.Status{State: app.StateError, Err: "Cannot connect."}, "Error: Cannot connect.", "", "", true, false},
		{"syncing: the '…' of the headline is no clipped reason", app.Status{State: app.StateSyncing, Done: 1, Total: 3, Err: "One mailbox fails."},
			"Syncing 1/3 mailboxes…", "", "", true, false},
		{"long error: the window shows all of it", app.Status{State: app.StateError, Err: long, Mailboxes: []app.MailboxStatus{{Address: "c@x", State: app.StateIdle}}},
			tray.Headline(app.Status{State: app.StateError, Err: long}, now), long, "c@x Waiting 0 items not synced yet", true, false},
		{"paused", app.Status{State: app.StatePaused, Mailboxes: []app.MailboxStatus{{Address: "b@x", State: app.StateError, Items: 2, Err: "Gone.", Fix: "Remove it."}}},
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

// streaming is a snapshot of n synced mailboxes, the first down of them
// without a live change stream (why: the reason, "" while connecting).
func streaming(state app.State, n, down int, why string) app.Status {
	mb := make([]app.MailboxStatus, n)
	for i := range mb {
		mb[i] = app.MailboxStatus{Address: fmt.Sprintf("m%d@contoso.com", i+1), State: app.StateIdle, Items: 3,
			LastSync: now.Add(-2 * time.Minute), Streaming: i >= down}
	}
	return app.Status{State: state, Mailboxes: mb, LastSync: now.Add(-2 * time.Minute),
		Streaming: down == 0, StreamingDown: down, StreamErr: why, PollInterval: 5 * time.Minute}
}

func TestWindowStreaming(t *testing.T) {
	a := test.NewTempApp(t)
	w := New(a, Actions{}, nil)
	const why = "The streaming subscription expired."
	noWatcher := streaming(app.StateIdle, 2, 0, "")
	noWatcher.Streaming = false
	tests := []struct {
		name     string
		st       app.Status
		headline string
		stream   string
		row0     string // the first mailbox row
	}{
		{"all live", streaming(app.StateIdle, 200, 0, ""), "Synced 200 mailboxes · 2 min ago", LiveOn,
			"m1@contoso.com|OK|3 items · synced 2 min ago · live|"},
		{"some down", streaming(app.StateIdle, 200, 3, why), "Synced 200 mailboxes · 2 min ago",
			"Streaming down for 3 of 200 mailboxes — polling them every 5 min\nThe streaming subscription expired.",
			"m1@contoso.com|OK|3 items · synced 2 min ago · polling|"},
		{"all down", streaming(app.StateIdle, 2, 2, why), "Synced 2 mailboxes · 2 min ago",
			"Streaming down — polling every 5 min\nThe streaming subscription expired.",
			"m1@contoso.com|OK|3 items · synced 2 min ago · polling|"},
		{"connecting", streaming(app.StateIdle, 2, 2, ""), "Synced 2 mailboxes · 2 min ago", "",
			"m1@contoso.com|OK|3 items · synced 2 min ago · polling|"},
		{"no watcher", noWatcher, "Synced 2 mailboxes · 2 min ago", "",
			"m1@contoso.com|OK|3 items · synced 2 min ago|"},
		{"paused", streaming(app.StatePaused, 2, 0, ""), tray.LabelPaused, "",
			"m1@contoso.com|OK|3 items · synced 2 min ago|"},
	}
	// One window, snapshot after snapshot, as the app drives it: each
	// Update must also clear what the previous one showed.
	for _, tt := range tests {
		w.Update(Build(tt.st, now))
		if got := w.Headline(); got != tt.headline {
			t.Errorf("%s: headline: got %q, want %q", tt.name, got, tt.headline)
		}
		if got := w.Streaming(); got != tt.stream {
			t.Errorf("%s: streaming line: got %q, want %q", tt.name, got, tt.stream)
		}
		if got := w.Rows(); len(got) != len(tt.st.Mailboxes) || got[0] != tt.row0 {
			t.Errorf("%s: rows: got %d starting %q, want %d starting %q", tt.name, len(got), got[0], len(tt.st.Mailboxes), tt.row0)
		}
	}
	w.Update(Build(streaming(app.StateIdle, 3, 1, why), now))
	rows := w.Rows()
	if !strings.HasSuffix(rows[0], "· polling|") || !strings.HasSuffix(rows[1], "· live|") {
		t.Errorf("one of three down: got rows %q, want the first polling and the others live", rows)
	}
}

// TestWindowStreamingSnapshots compares the whole window (Fyne's markup of
// what it draws) with reviewed snapshots in testdata/: the live-updates
// line sits under the headline, in warning colours while streams are down,
// and the rows say which mailboxes are polled.
func TestWindowStreamingSnapshots(t *testing.T) {
	a := test.NewTempApp(t)
	w := New(a, Actions{}, nil)
	w.Window().Resize(fyne.NewSize(680, 330))
	for _, tt := range []struct {
		file string
		st   app.Status
	}{
		{"streaming_live.xml", streaming(app.StateIdle, 3, 0, "")},
		{"streaming_down.xml", streaming(app.StateIdle, 3, 1, "The streaming subscription expired.")},
	} {
		st := tt.st
		st.ExportDir = "/srv/ics"
		w.Update(Build(st, now))
		// The GL driver re-lays out containers whose content's size changed
		// at every frame; the test canvas does not, so lay out here.
		w.Window().Content().Refresh()
		test.AssertRendersToMarkup(t, tt.file, w.Window().Canvas())
	}
}
