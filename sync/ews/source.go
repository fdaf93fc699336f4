package ews

import (
	"context"

	"github.com/exocal/exocal/sync/calendar"
)

// Source implements calendar.Source over EWS: one SyncFolderItems per page
// (IdOnly, up to MaxChanges changes), then GetItem in batches of
// GetItemBatch for the created and updated items and their modified
// occurrences. Each mailbox uses its own Session (Client.MailboxSession).
type Source struct {
	Client *Client
	// MaxChanges is MaxChangesReturned (1..512, default 512).
	MaxChanges int
	// Parallel is the number of GetItem batches in flight per mailbox
	// (default 2).
	Parallel int
}

var _ calendar.Source = (*Source)(nil)

// NewSource returns a Source with the defaults.
func NewSource(c *Client) *Source { return &Source{Client: c} }

// SyncPage returns the changes to mailbox's calendar after state, fully
// fetched (DetailFull). When Exchange refuses state the error wraps
// calendar.ErrInvalidSyncState.
func (s *Source) SyncPage(ctx context.Context, mailbox, state string) (calendar.Page, error) {
	return s.syncPage(ctx, mailbox, state, DetailFull)
}

// SyncPageFreeBusy is SyncPage fetching only busy blocks (DetailFreeBusy):
// the engine calls it when the privacy setting is "free-busy"
// (engine.FreeBusySource), so that subjects, bodies, places and people
// never cross the wire.
func (s *Source) SyncPageFreeBusy(ctx context.Context, mailbox, state string) (calendar.Page, error) {
	return s.syncPage(ctx, mailbox, state, DetailFreeBusy)
}

func (s *Source) syncPage(ctx context.Context, mailbox, state string, detail Detail) (calendar.Page, error) {
	res, err := s.Client.SyncFolderItems(ctx, nil, mailbox, state, s.MaxChanges)
	if err != nil {
		return calendar.Page{}, err
	}
	var (
		fetch   []string
		fetched = map[string]bool{}
		deleted = map[string]bool{}
		deletes []string
	)
	for _, ch := range res.Changes {
		switch ch.Kind {
		case ChangeCreate, ChangeUpdate:
			if !fetched[ch.ItemID] {
				fetched[ch.ItemID] = true
				fetch = append(fetch, ch.ItemID)
			}
		case ChangeDelete:
			if !deleted[ch.ItemID] {
				deleted[ch.ItemID] = true
				deletes = append(deletes, ch.ItemID)
			}
		}
	}
	page := calendar.Page{State: res.SyncState, Done: res.IncludesLastItemInRange}
	if len(fetch) > 0 {
		par := s.Parallel
		if par <= 0 {
			par = 2
		}
		events, gone, err := s.Client.FetchEvents(ctx, nil, mailbox, fetch, par, detail)
		if err != nil {
			return calendar.Page{}, err
		}
		for _, ev := range events {
			// An item reported as both deleted and created/updated in one
			// page exists if GetItem found it.
			delete(deleted, ev.ItemID)
			page.Upserts = append(page.Upserts, ev)
		}
		for _, id := range gone {
			if !deleted[id] {
				deleted[id] = true
				deletes = append(deletes, id)
			}
		}
	}
	for _, id := range deletes {
		if deleted[id] {
			page.Deletes = append(page.Deletes, id)
		}
	}
	return page, nil
}
