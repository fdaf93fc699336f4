package tray

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func mailboxes(addrs ...string) []app.MailboxStatus {
	out := make([]app.MailboxStatus, len(addrs))
	for i, a := range addrs {
		out[i] = app.MailboxStatus{Address: a, State: app.StateIdle}
	}
	return out
}

func TestHeadline(t *testing.T) {
	t.Parallel()
	failing := mailboxes("a@contoso.com", "b@contoso.com", "c@contoso.com")
	failing[1].Err = "The mailbox does not exist."
	tests := []struct {
		name string
		st   app.Status
		want string
	}{
		{"not configured", app.Status{State: app.StateNotConfigured}, "Not set up — open Settings"},
		{"synced", app.Status{State: app.StateIdle, Mailboxes: mailboxes("a@x", "b@x", "c@x"), LastSync: now.Add(-2 * time.Minute)}, "Synced 3 mailboxes · 2 min ago"},
		{"synced one just now", app.Status{State: app.StateIdle, Mailboxes: mailboxes("a@x"), LastSync: now.Add(-10 * time.Second)}, "Synced 1 mailbox · just now"},
		{"synced hours", app.Status{State: app.StateIdle, Mailboxes: mailboxes("a@x"), LastSync: now.Add(-5 * time.Hour)}, "Synced 1 mailbox · 5 h ago"},
		{"synced days", app.Status{State: app.StateIdle, Mailboxes: mailboxes("a@x"), LastSync: now.Add(-72 * time.Hour)}, "Synced 1 mailbox · 3 days ago"},
		{"configured, never synced", app.Status{State: app.StateIdle}, "Ready — waiting for the first sync"},
		{"syncing", app.Status{State: app.StateSyncing, Done: 12, Total: 200}, "Syncing 12/200 mailboxes…"},
		{"syncing unknown total", app.Status{State: app.StateSyncing}, "Syncing…"},
		{"paused", app.Status{State: app.StatePaused, LastSync: now}, "Paused"},
		{"error", app.Status{State: app.StateError, Err: "The client secret was rejected; create a new secret in Entra and paste its value."}, "Error: The client secret was rejected; create a new secret in Entra and paste its value."},
		{"error without words", app.Status{State: app.StateError}, "Error: open Settings to check the setup"},
		{"warning with reason", app.Status{State: app.StateWarning, Err: "The client secret expires in 3 days."}, "Warning: The client secret expires in 3 days."},
		{"warning from mailboxes", app.Status{State: app.StateWarning, Mailboxes: failing}, "1 of 3 mailboxes has problems"},
		{"explained error", app.Status{State: app.StateError, Err: "Entra rejected the client secret: it has expired.", Fix: "Create a new client secret and paste its Value in Settings."},
			"Entra rejected the client secret: it has expired — open Settings to fix"},
		{"explained warning", app.Status{State: app.StateWarning, Err: "EWS is blocked for the app.", Fix: "Ask the Exchange admin to allow it."},
			"EWS is blocked for the app — open Settings to fix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Headline(tt.st, now); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := Build(tt.st, now).Items[0].Label; got != tt.want {
				t.Errorf("first item: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHeadlineClipsLongErrors(t *testing.T) {
	t.Parallel()
	got := Headline(app.Status{State: app.StateError, Err: strings.Repeat("x", 300)}, now)
	if n := len([]rune(got)); n != maxLabel || !strings.HasSuffix(got, "…") {
		t.Errorf("got %d runes ending %q, want %d ending in …", n, got[len(got)-5:], maxLabel)
	}
}

func TestHeadlineKeepsOpenSettingsWhenClipping(t *testing.T) {
	t.Parallel()
	got := Headline(app.Status{State: app.StateError, Err: strings.Repeat("x", 300), Fix: "The fix."}, now)
	if n := len([]rune(got)); n != maxLabel || !strings.HasSuffix(got, "…"+OpenSettingsToFix) {
		t.Errorf("got %d runes: %q, want %d ending in …%s", n, got, maxLabel, OpenSettingsToFix)
	}
}

// labels flattens the top level of a model to "label[+-]" (+ enabled, - disabled, | separator).
func labels(m Model) []string {
	var out []string
	for _, it := range m.Items {
		switch {
		case it.Separator():
			out = append(out, "|")
		case it.Enabled:
			out = append(out, it.Label+"+")
		default:
			out = append(out, it.Label+"-")
		}
	}
	return out
}

func TestBuildItems(t *testing.T) {
	t.Parallel()
	failing := mailboxes("a@contoso.com", "b@contoso.com")
	failing[0].Err = "Access denied."
	tests := []struct {
		name string
		st   app.Status
		want string
	}{
		{"not configured", app.Status{State: app.StateNotConfigured},
			"Not set up — open Settings+ | Sync now- Pause- Open export folder- | Show status…+ Settings…+ Quit+"},
		{"idle with folder", app.Status{State: app.StateIdle, ExportDir: "/tmp/ics"},
			"Ready — waiting for the first sync- | Sync now+ Pause+ Open export folder+ | Show status…+ Settings…+ Quit+"},
		{"paused", app.Status{State: app.StatePaused, ExportDir: "/tmp/ics"},
			"Paused- | Sync now- Resume+ Open export folder+ | Show status…+ Settings…+ Quit+"},
		{"warning lists problems", app.Status{State: app.StateWarning, Mailboxes: failing},
			"1 of 2 mailboxes has problems- Mailboxes with problems+ | Sync now+ Pause+ Open export folder- | Show status…+ Settings…+ Quit+"},
		{"error opens settings", app.Status{State: app.StateError, Err: "Consent missing."},
			"Error: Consent missing.+ | Sync now+ Pause+ Open export folder- | Show status…+ Settings…+ Quit+"},
		{"warning with a reason opens settings", app.Status{State: app.StateWarning, Err: "The secret expires soon.", Fix: "Paste a new one."},
			"The secret expires soon — open Settings to fix+ | Sync now+ Pause+ Open export folder- | Show status…+ Settings…+ Quit+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Build(tt.st, now)
			if got := strings.Join(labels(m), " "); got != tt.want {
				t.Errorf("got  %q,\nwant %q", got, tt.want)
			}
			if m.Icon != tt.st.State {
				t.Errorf("icon: got %v, want %v", m.Icon, tt.st.State)
			}
		})
	}
}

func TestProblemsSubmenu(t *testing.T) {
	t.Parallel()
	mb := mailboxes("a@contoso.com", "b@contoso.com", "room1@contoso.com")
	mb[0].Err = "The mailbox does not exist."
	mb[2].Err, mb[2].Fix = "Access is denied.", "Grant the app access."
	m := Build(app.Status{State: app.StateWarning, Mailboxes: mb}, now)
	if m.Items[1].Label != LabelProblems {
		t.Fatalf("second item: got %q, want %q", m.Items[1].Label, LabelProblems)
	}
	var got []string
	for _, c := range m.Items[1].Children {
		got = append(got, c.Label)
	}
	want := "a@contoso.com: The mailbox does not exist.|room1@contoso.com: Access is denied."
	if strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
}

// streamingStatus is a snapshot of n synced mailboxes two minutes ago, the
// first down of them without a live change stream.
func streamingStatus(state app.State, n, down int, why string) app.Status {
	mb := make([]app.MailboxStatus, n)
	for i := range mb {
		mb[i] = app.MailboxStatus{Address: fmt.Sprintf("m%d@contoso.com", i+1), State: app.StateIdle, Streaming: i >= down}
	}
	return app.Status{State: state, Mailboxes: mb, LastSync: now.Add(-2 * time.Minute),
		Streaming: down == 0, StreamingDown: down, StreamErr: why, PollInterval: 5 * time.Minute}
}

func TestStreamingLine(t *testing.T) {
	t.Parallel()
	const why = "The streaming subscription expired."
	hourly := streamingStatus(app.StateIdle, 2, 2, why)
	hourly.PollInterval = time.Hour
	unknown := streamingStatus(app.StateIdle, 2, 1, why)
	unknown.PollInterval = 0
	tests := []struct {
		name string
		st   app.Status
		want string // the menu's first lines, "|"-joined
	}{
		{"all live", streamingStatus(app.StateIdle, 200, 0, ""), "Synced 200 mailboxes · 2 min ago"},
		{"all down", streamingStatus(app.StateIdle, 200, 200, why), "Synced 200 mailboxes · 2 min ago|Streaming down — polling every 5 min"},
		{"some down", streamingStatus(app.StateIdle, 200, 3, why), "Synced 200 mailboxes · 2 min ago|Streaming down for 3 of 200 mailboxes — polling them every 5 min"},
		{"hourly", hourly, "Synced 2 mailboxes · 2 min ago|Streaming down — polling every 1 h"},
		{"interval unknown", unknown, "Synced 2 mailboxes · 2 min ago|Streaming down for 1 of 2 mailboxes — polling them meanwhile"},
		{"still connecting", streamingStatus(app.StateIdle, 200, 200, ""), "Synced 200 mailboxes · 2 min ago"},
		{"syncing", func() app.Status {
			s := streamingStatus(app.StateSyncing, 4, 4, why)
			s.Done, s.Total = 1, 4
			return s
		}(), "Syncing 1/4 mailboxes…|Streaming down — polling every 5 min"},
		{"paused", streamingStatus(app.StatePaused, 2, 2, why), "Paused"},
		{"error says more", func() app.Status {
			s := streamingStatus(app.StateError, 2, 2, why)
			s.Err = "Cannot connect."
			return s
		}(), "Error: Cannot connect."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Build(tt.st, now)
			var got []string
			for _, it := range m.Items {
				if it.Separator() {
					break
				}
				if it.Enabled && len(got) > 0 {
					t.Errorf("line %q: got enabled, want a disabled information line", it.Label)
				}
				got = append(got, it.Label)
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("got  %q,\nwant %q", strings.Join(got, "|"), tt.want)
			}
		})
	}
}

func TestEvery(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30 s", time.Minute: "1 min", 5 * time.Minute: "5 min",
		90 * time.Minute: "90 min", time.Hour: "1 h", 2 * time.Hour: "2 h",
	} {
		if got := Every(d); got != want {
			t.Errorf("Every(%v): got %q, want %q", d, got, want)
		}
	}
}
