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
	Address  string
	State    State
	Err      string // one sentence for people; empty when fine
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
	State     State
	Err       string // the reason for StateError / StateWarning, one sentence with the fix
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
	// sentence (possibly a finding and its fix on two lines); empty while
	// the streams are still connecting or all live. The tray says
	// "Streaming down" only when StreamingDown > 0 and StreamErr != "".
	Streaming     bool
	StreamingDown int
	StreamErr     string
	PollInterval  time.Duration
}
