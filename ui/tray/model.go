// Package tray renders an app.Status snapshot as ExoCal's tray icon and menu.
//
// The menu is a pure model (Build) computed from one snapshot and the current
// time, so its words are tested without Fyne; Apply turns the model into a
// *fyne.Menu and hands it to the system tray. The whole menu is rebuilt from
// every snapshot (as tailscale's systray client does): there is no item state
// to keep in step.
package tray

import (
	"fmt"
	"strings"
	"time"

	"github.com/exocal/exocal/app"
)

// Action is what a menu item does when clicked.
type Action int

const (
	ActNone Action = iota
	ActSyncNow
	ActPause
	ActResume
	ActOpenFolder
	ActSettings
	ActQuit
	ActShowStatus
)

// Item is one tray menu entry. A zero Label means a separator.
type Item struct {
	Label    string
	Enabled  bool
	Action   Action
	Children []Item // a submenu when not empty
}

// Separator reports whether the item is a separator line.
func (i Item) Separator() bool { return i.Label == "" }

// Model is everything the tray shows for one snapshot.
type Model struct {
	Icon      app.State // which tray icon to show
	Items     []Item
	ExportDir string // what "Open export folder" opens
}

// Item labels, shared with the Fyne glue and the tests.
const (
	LabelProblems   = "Mailboxes with problems"
	LabelSyncNow    = "Sync now"
	LabelPause      = "Pause"
	LabelResume     = "Resume"
	LabelOpenFolder = "Open export folder"
	LabelSettings   = "Settings…"
	LabelShowStatus = "Show status…"
	LabelQuit       = "Quit"
	LabelNotSetUp   = "Not set up — open Settings"
	LabelPaused     = "Paused"
	// OpenSettingsToFix ends the first line when the reason has a fix
	// (app.Status.Fix, `exocal check`'s words).
	OpenSettingsToFix = " — open Settings to fix"
)

// maxLabel keeps long error sentences from making the menu screen-wide.
const maxLabel = 90

// Build computes the tray menu for st as seen at now.
func Build(st app.Status, now time.Time) Model {
	configured := st.State != app.StateNotConfigured
	paused := st.State == app.StatePaused

	head := Item{Label: Headline(st, now)}
	// The first line is actionable when the user has to act (tailscale style).
	if st.State == app.StateNotConfigured || st.State == app.StateError ||
		(st.State == app.StateWarning && st.Err != "") {
		head.Enabled, head.Action = true, ActSettings
	}
	items := []Item{head}
	if line := StreamingLine(st); line != "" {
		items = append(items, Item{Label: clip(line)})
	}

	var problems []Item
	for _, m := range st.Mailboxes {
		if m.Err == "" {
			continue
		}
		problems = append(problems, Item{Label: clip(m.Address + ": " + oneLine(m.Err)), Enabled: true})
	}
	if len(problems) > 0 {
		items = append(items, Item{Label: LabelProblems, Enabled: true, Children: problems})
	}

	pause := Item{Label: LabelPause, Enabled: configured, Action: ActPause}
	if paused {
		pause = Item{Label: LabelResume, Enabled: true, Action: ActResume}
	}
	items = append(items,
		Item{},
		Item{Label: LabelSyncNow, Enabled: configured && !paused, Action: ActSyncNow},
		pause,
		Item{Label: LabelOpenFolder, Enabled: st.ExportDir != "", Action: ActOpenFolder},
		Item{},
		Item{Label: LabelShowStatus, Enabled: true, Action: ActShowStatus},
		Item{Label: LabelSettings, Enabled: true, Action: ActSettings},
		Item{Label: LabelQuit, Enabled: true, Action: ActQuit},
	)
	return Model{Icon: st.State, Items: items, ExportDir: st.ExportDir}
}

// Headline is the first menu line: the state in words.
func Headline(st app.Status, now time.Time) string {
	switch st.State {
	case app.StateNotConfigured:
		return LabelNotSetUp
	case app.StatePaused:
		return LabelPaused
	case app.StateSyncing:
		if st.Total > 0 {
			return fmt.Sprintf("Syncing %d/%d %s…", st.Done, st.Total, plural(st.Total, "mailbox", "mailboxes"))
		}
		return "Syncing…"
	case app.StateError:
		if st.Err == "" {
			return "Error: open Settings to check the setup"
		}
		return reason("Error: ", st.Err, st.Fix)
	case app.StateWarning:
		if st.Err != "" {
			return reason("Warning: ", st.Err, st.Fix)
		}
		bad := 0
		for _, m := range st.Mailboxes {
			if m.Err != "" {
				bad++
			}
		}
		return fmt.Sprintf("%d of %d %s %s problems", bad, len(st.Mailboxes),
			plural(len(st.Mailboxes), "mailbox", "mailboxes"), plural(bad, "has", "have"))
	case app.StateIdle:
		n := len(st.Mailboxes)
		if st.LastSync.IsZero() {
			return "Ready — waiting for the first sync"
		}
		return fmt.Sprintf("Synced %d %s · %s", n, plural(n, "mailbox", "mailboxes"), ago(now.Sub(st.LastSync)))
	}
	return "Unknown state: " + st.State.String()
}

// StreamingLine is the second menu line about live updates: empty while
// every change stream is up, while the streams are still connecting (no
// StreamErr yet), without a change watcher, and when the state says more
// pressing things (not set up, paused, error). Otherwise it says which
// mailboxes are polled instead, and how often.
func StreamingLine(st app.Status) string {
	switch st.State {
	case app.StateNotConfigured, app.StatePaused, app.StateError:
		return ""
	}
	if st.StreamingDown <= 0 || st.StreamErr == "" {
		return ""
	}
	poll := "polling meanwhile"
	if st.PollInterval > 0 {
		poll = "polling every " + Every(st.PollInterval)
	}
	n := len(st.Mailboxes)
	if st.StreamingDown >= n {
		return "Streaming down — " + poll
	}
	poll = strings.Replace(poll, "polling", "polling them", 1)
	return fmt.Sprintf("Streaming down for %d of %d %s — %s", st.StreamingDown, n, plural(n, "mailbox", "mailboxes"), poll)
}

// Every says a poll interval in the tray's words: "5 min", "1 h", "30 s".
func Every(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}

// reason is the first line for an error or warning: err, one sentence;
// with a fix (app.Status.Fix) it is the finding alone, ending in
// OpenSettingsToFix (kept when the finding is clipped), and the status
// window shows the fix.
func reason(prefix, err, fix string) string {
	finding := oneLine(err)
	if strings.TrimSpace(fix) == "" {
		return clip(prefix + finding)
	}
	finding = strings.TrimSuffix(finding, ".")
	r := []rune(finding)
	if room := maxLabel - len([]rune(OpenSettingsToFix)); len(r) > room {
		finding = string(r[:room-1]) + "…"
	}
	return finding + OpenSettingsToFix
}

// oneLine joins a sentence's lines and spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Ago says how long ago d was, in the coarse words a tray line needs.
func Ago(d time.Duration) string { return ago(d) }

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}
