package calendar

import (
	"context"
	"errors"
)

// ErrInvalidSyncState is returned (wrapped) by Source.SyncPage when the
// server refused the stored sync state; the caller starts again from "".
var ErrInvalidSyncState = errors.New("calendar: sync state refused by the server; a full resync is needed")

// Page is one step of an incremental sync of a mailbox's calendar.
type Page struct {
	// Upserts are created or changed items, fully fetched (a series with
	// its exceptions).
	Upserts []Event
	// Deletes are ItemIDs of removed items.
	Deletes []string
	// State is the opaque sync state that covers this page; store it only
	// together with the page's changes.
	State string
	// Done is true when the page reached the newest change
	// (EWS IncludesLastItemInRange).
	Done bool
}

// Source reads calendars incrementally. A protocol backend (sync/ews, later
// sync/graph) implements it; the engine drives it.
type Source interface {
	// SyncPage returns the changes to mailbox's calendar after state; an
	// empty state starts a full sync.
	SyncPage(ctx context.Context, mailbox, state string) (Page, error)
}

// Watcher tells which mailboxes changed, so that a quiet tenant costs no
// polling. Watch blocks until ctx ends or the watch fails; changed may be
// called from any goroutine, more than once per change.
type Watcher interface {
	Watch(ctx context.Context, mailboxes []string, changed func(mailbox string)) error
}
