// Package status is ExoCal's status window: the tray's first line, one row
// per mailbox and the tray's actions as buttons. Desktops without a tray
// host (GNOME, a bare X server) show it instead of the tray; `exocal demo`
// always shows it.
//
// As in ui/tray, Build computes a pure model from one app.Status snapshot,
// so the words are tested without Fyne; Window draws the model.
package status

import (
	"fmt"
	"strings"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/ui/tray"
)

// Row is one mailbox line.
type Row struct {
	Address string
	State   string // "OK", "Syncing", "Error", …
	Items   string // "30 items"
	Synced  string // "synced 2 min ago", "not synced yet"
	Err     string // the whole sentence with its fix; empty when fine
	Failing bool
	Live    string // "live" (change stream up) or "polling" while a watcher runs; else ""
}

// Model is what the window shows for one snapshot.
type Model struct {
	Icon     app.State
	Headline string // the tray's first line
	Detail   string // the fix of the reason (app.Status.Fix)
	// Streaming is the live-updates line: LiveOn while every change
	// stream is up, tray.StreamingLine while some are down (with the
	// reason in StreamReason), else "".
	Streaming    string
	StreamReason string
	StreamDown   bool // Streaming reports a problem
	Rows         []Row
	Configured   bool
	Paused       bool
	ExportDir    string
}

// LiveOn is the live-updates line while every change stream is up.
const LiveOn = "Live updates on (streaming)"

// Build computes the window's model for st as seen at now.
func Build(st app.Status, now time.Time) Model {
	m := Model{
		Icon: st.State, Headline: tray.Headline(st, now),
		Configured: st.State != app.StateNotConfigured, Paused: st.State == app.StatePaused,
		ExportDir: st.ExportDir,
	}
	m.Detail = strings.TrimSpace(st.Fix)
	if finding := strings.Join(strings.Fields(st.Err), " "); (st.State == app.StateError || st.State == app.StateWarning) &&
		finding != "" && !strings.Contains(m.Headline, strings.TrimSuffix(finding, ".")) {
		// The tray's line clipped the reason; the window has room for all of it.
		m.Detail = strings.TrimSpace(finding + "\n" + m.Detail)
	}
	active := m.Configured && !m.Paused && st.State != app.StateError
	watching := active && (st.Streaming || st.StreamingDown > 0)
	if line := tray.StreamingLine(st); line != "" {
		m.Streaming, m.StreamDown = line, true
		m.StreamReason = strings.Join(strings.Fields(st.StreamErr), " ")
	} else if active && st.Streaming {
		m.Streaming = LiveOn
	}
	for _, mb := range st.Mailboxes {
		word := stateWord(mb.State)
		if mb.State == app.StateIdle && mb.LastSync.IsZero() {
			word = "Waiting" // never synced: not "OK" (e.g. while the setup fails)
		}
		r := Row{Address: mb.Address, State: word, Items: fmt.Sprintf("%d %s", mb.Items, plural(mb.Items, "item", "items")),
			Synced: "not synced yet", Err: strings.Join(strings.Fields(mb.Err+" "+mb.Fix), " "), Failing: mb.Err != ""}
		if !mb.LastSync.IsZero() {
			r.Synced = "synced " + tray.Ago(now.Sub(mb.LastSync))
		}
		switch {
		case watching && mb.Streaming:
			r.Live = "live"
		case watching:
			r.Live = "polling"
		}
		m.Rows = append(m.Rows, r)
	}
	return m
}

func stateWord(s app.State) string {
	switch s {
	case app.StateNotConfigured:
		return "Not set up"
	case app.StateIdle:
		return "OK"
	case app.StateSyncing:
		return "Syncing"
	case app.StateWarning:
		return "Warning"
	case app.StateError:
		return "Error"
	case app.StatePaused:
		return "Paused"
	}
	return s.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
