package app

import "time"

// State is the overall state shown by the tray icon.
type State int

const (
	StateNotConfigured State = iota
	StateIdle                // configured, all mailboxes in step
	StateSyncing
	StateWarning // working, but something needs attention (e.g. one mailbox failing, secret expiring)
	StateError   // nothing works until the user acts (auth rejected, EWS blocked, ...)
	StatePaused
)

func (s State) String() string {
	switch s {
	case StateNotConfigured:
		return "not-configured"
	case StateIdle:
		return "ok"
	case StateSyncing:
		return "syncing"
	case StateWarning:
		return "warning"
	case StateError:
		return "error"
	case StatePaused:
		return "paused"
	}
	return "unknown"
}

// MailboxStatus is one mailbox's sync state.
type MailboxStatus struct {
	Address string
	State   State
	Err     string // one sentence for people; empty when fine
	// Fix is what to change in the settings, the registration or the
	// tenant to cure Err (`exocal check`'s fix); empty when Err needs no
	// such change (a network error's advice is part of Err).
	Fix      string
	LastSync time.Time
	// Attempted is when the last finished sync of this mailbox, successful
	// or not, started (zero before the first); WaitForSync compares it
	// with the time of its request.
	Attempted time.Time
	Items     int
	// Streaming reports a live change stream for this mailbox; without
	// one it is polled every Status.PollInterval.
	Streaming bool
}

// Status is a snapshot of everything the tray shows. It is a value: the
// publisher never mutates a Status after sending it.
type Status struct {
	State State
	// Err is the reason for StateError / StateWarning, one sentence; Fix
	// is the change in the settings, registration or tenant that cures it
	// (empty when none is needed): the tray then ends its first line with
	// "— open Settings to fix" and the status window shows the fix.
	Err, Fix  string
	Mailboxes []MailboxStatus
	LastSync  time.Time
	// Done and Total count mailboxes during a sync ("12/200 mailboxes").
	Done, Total int
	ExportDir   string
	At          time.Time // when this snapshot was taken

	// Streaming reports that every mailbox has a live change stream.
	// StreamingDown counts the mailboxes without one while a change
	// watcher runs (0 without a watcher or while paused); they are polled
	// every PollInterval. StreamErr is why streaming went down, one
	// sentence, and StreamFix its fix as Fix is Err's; StreamErr is empty
	// while the streams are still connecting or all live. The tray says
	// "Streaming down" only when StreamingDown > 0 and StreamErr != "".
	Streaming            bool
	StreamingDown        int
	StreamErr, StreamFix string
	PollInterval         time.Duration
}
