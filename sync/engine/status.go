package engine

import (
	"sync"
	"time"
)

// MailboxState is one mailbox's sync state.
type MailboxState int

const (
	// MailboxPending: not synced since the engine started.
	MailboxPending MailboxState = iota
	// MailboxIdle: the last sync succeeded; the ICS file is in step.
	MailboxIdle
	// MailboxQueued: waiting for a worker.
	MailboxQueued
	// MailboxSyncing: a worker is syncing it.
	MailboxSyncing
	// MailboxError: the last sync failed (see MailboxStatus.Err); it is
	// retried with capped doubling backoff.
	MailboxError
)

func (s MailboxState) String() string {
	switch s {
	case MailboxPending:
		return "pending"
	case MailboxIdle:
		return "idle"
	case MailboxQueued:
		return "queued"
	case MailboxSyncing:
		return "syncing"
	case MailboxError:
		return "error"
	}
	return "unknown"
}

// State is the engine's overall state.
type State int

const (
	// StateStarting: Serve has not run a sync yet.
	StateStarting State = iota
	// StateIdle: every mailbox is in step.
	StateIdle
	// StateSyncing: at least one mailbox is queued or syncing.
	StateSyncing
	// StateWarning: some (not all) mailboxes failed their last sync.
	StateWarning
	// StateError: every mailbox failed its last sync (typically
	// authentication, EWS blocked, network down).
	StateError
	// StatePaused: Pause was called; nothing is synced until Resume.
	StatePaused
)

func (s State) String() string {
	switch s {
	case StateStarting:
		return "starting"
	case StateIdle:
		return "idle"
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

// MailboxStatus is one mailbox's state as the tray shows it.
type MailboxStatus struct {
	Address string
	State   MailboxState
	// Err is the last sync's error (nil when it succeeded); typed errors
	// from the source survive, so the UI picks its words with errors.As.
	Err error
	// Since is when State last changed.
	Since time.Time
	// LastSuccess is when a sync last completed (persisted across runs).
	LastSuccess time.Time
	// Items is the number of cached items; Exported the number written to
	// the ICS file (those touching the sync window) at the last render.
	Items, Exported int
	// RetryAt is when a failed mailbox is retried (zero otherwise).
	RetryAt time.Time
	// Attempted is when the last finished sync of this mailbox, successful
	// or not, started (zero before the first). A SyncNow is answered once
	// every mailbox's Attempted is at or after the request: SyncNow makes
	// a mailbox whose sync was under way run once more, even if that sync
	// fails.
	Attempted time.Time
	// Streaming reports a live change stream for this mailbox: its changes
	// arrive within seconds and it is polled only as a safety net.
	// Without one it is polled every Status.PollInterval.
	Streaming bool
}

// Status is a snapshot of the engine. It is a value: the engine never
// mutates a Status after publishing it.
type Status struct {
	State State
	// Err is the most recent mailbox error while State is StateWarning or
	// StateError (or a syncing state with failures).
	Err       error
	Mailboxes []MailboxStatus // in configuration order
	// Done and Total count the mailboxes of the current sync round ("12/200
	// mailboxes"); both 0 when no round is running.
	Done, Total int
	// Failed counts mailboxes whose last sync failed.
	Failed int
	// LastSync is the latest LastSuccess over all mailboxes.
	LastSync time.Time
	// Streaming reports that every mailbox has a live change stream
	// (changes arrive within seconds). StreamingDown counts the mailboxes
	// without one while a change watcher runs (0 without a watcher or
	// while paused); they are polled every PollInterval. StreamErr is why
	// streaming last went down (nil once every stream is live again).
	// The tray can say "streaming down — polling every 5 min" when
	// StreamingDown > 0 and StreamErr != nil.
	Streaming     bool
	StreamingDown int
	StreamErr     error
	PollInterval  time.Duration
	ExportDir     string
	At            time.Time
}

// hub publishes Status snapshots to subscribers: non-blocking, each
// subscriber's channel holds only the latest snapshot (syncthing
// lib/events style, coalesced).
type hub struct {
	mu     sync.Mutex
	subs   map[chan Status]struct{}
	latest Status
}

func (h *hub) subscribe() (<-chan Status, func()) {
	ch := make(chan Status, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan Status]struct{}{}
	}
	h.subs[ch] = struct{}{}
	ch <- h.latest
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
		})
	}
}

func (h *hub) publish(s Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = s
	for ch := range h.subs {
		select {
		case ch <- s:
		default:
			// Replace the stale snapshot the subscriber has not read yet.
			select {
			case <-ch:
			default:
			}
			ch <- s // cannot block: we hold the only sender and just emptied it
		}
	}
}

func (h *hub) get() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest
}
