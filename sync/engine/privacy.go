package engine

import (
	"context"
	"strings"

	"github.com/exocal/exocal/sync/calendar"
)

// The privacy settings (Config.Privacy), as the engine records them with
// a mailbox's cached items (store.SetPrivacy).
const (
	PrivacyFull     = "full"
	PrivacyFreeBusy = "free-busy"
)

// privacyOf normalises a Config.Privacy: "free-busy" (or "freebusy") in
// any case, or else "full" (the Sink refuses unknown values).
func privacyOf(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "free-busy", "freebusy":
		return PrivacyFreeBusy
	}
	return PrivacyFull
}

// FreeBusySource is an optional Source method (ews.Source has it): a
// SyncPage that fetches only what a busy block needs — times, all-day,
// free/busy status, cancellation, recurrence with its exceptions' times,
// time zones — and no subject, body, location, categories, sensitivity,
// reminder or people. The engine uses it when Config.Privacy is
// "free-busy". Whatever the Source sends, the engine caches only busy
// blocks in that mode (busyOnly).
type FreeBusySource interface {
	SyncPageFreeBusy(ctx context.Context, mailbox, state string) (calendar.Page, error)
}

// syncPage asks the Source for a page under privacy.
func (s *syncer) syncPage(ctx context.Context, mb, state, privacy string) (calendar.Page, error) {
	if fb, ok := s.deps.Source.(FreeBusySource); ok && privacy == PrivacyFreeBusy {
		return fb.SyncPageFreeBusy(ctx, mb, state)
	}
	return s.deps.Source.SyncPage(ctx, mb, state)
}

// busyOnly returns what a busy block of e needs (sync/ics writes nothing
// else in free-busy mode), with its modified occurrences likewise: the
// fields are copied one by one, so that a detail added to calendar.Event
// later stays out of a free-busy cache until it is added here.
func busyOnly(e calendar.Event) calendar.Event {
	b := calendar.Event{
		ItemID: e.ItemID, ChangeKey: e.ChangeKey, UID: e.UID,
		Start: e.Start, End: e.End, AllDay: e.AllDay,
		TimeZone: e.TimeZone, EndTimeZone: e.EndTimeZone,
		Recurrence: e.Recurrence, DeletedOccurrences: e.DeletedOccurrences,
		OriginalStart: e.OriginalStart,
		FreeBusy:      e.FreeBusy, Cancelled: e.Cancelled,
		LastModified: e.LastModified, Sequence: e.Sequence,
	}
	if e.ModifiedOccurrences != nil {
		b.ModifiedOccurrences = make([]calendar.Event, len(e.ModifiedOccurrences))
		for i, m := range e.ModifiedOccurrences {
			b.ModifiedOccurrences[i] = busyOnly(m)
		}
	}
	return b
}

// checkPrivacy makes sure mb's cache holds items fetched under privacy:
// when they were fetched under another setting it starts a full resync
// (store.Reset; the old items stay visible until it completes, and the
// Sink renders them under the new setting meanwhile). A cache from before
// the privacy was recorded was fetched in full. It reports whether it
// started a resync.
func (s *syncer) checkPrivacy(mb, privacy string) (bool, error) {
	in, err := s.deps.Store.Info(mb)
	if err != nil || in.Privacy == privacy {
		return false, err
	}
	stored := in.State != "" || in.Items > 0 || in.Resyncing
	resync := stored && !(in.Privacy == "" && !in.Resyncing && privacy == PrivacyFull)
	if resync {
		s.log.Info("privacy setting changed; resyncing", "mailbox", mb, "from", in.Privacy, "to", privacy)
		if err := s.deps.Store.Reset(mb); err != nil {
			return false, err
		}
	}
	return resync, s.deps.Store.SetPrivacy(mb, privacy)
}

// beginRefetch and endRefetch count the syncs in flight that refetch a
// mailbox for a privacy change (see compact).
func (s *syncer) beginRefetch() {
	s.mu.Lock()
	s.refetching++
	s.mu.Unlock()
}

func (s *syncer) endRefetch() {
	s.mu.Lock()
	s.refetching--
	s.mu.Unlock()
}

// compact compacts the store when a resync dropped items fetched under
// another privacy setting (the freed pages would keep their details), and
// no refetch is in flight: many mailboxes switching at once cost one
// rewrite. It runs after every sync (a read when there is nothing to do),
// so a need left by an earlier process is met too.
func (s *syncer) compact() {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.mu.Lock()
	busy := s.refetching > 0
	s.mu.Unlock()
	if busy {
		return
	}
	if did, err := s.deps.Store.CompactIfNeeded(); err != nil {
		s.log.Warn("compact the sync database", "err", err)
	} else if did {
		s.log.Info("compacted the sync database (dropped items of another privacy setting)")
	}
}
