package ews

import (
	"context"
	"fmt"
	"strings"
)

// MaxSyncChanges is the largest MaxChangesReturned the schema allows
// (MaxSyncChangesReturnedType).
const MaxSyncChanges = 512

// ChangeKind is the kind of a SyncFolderItems change.
type ChangeKind int

const (
	ChangeCreate   ChangeKind = iota + 1 // t:Create
	ChangeUpdate                         // t:Update
	ChangeDelete                         // t:Delete
	ChangeReadFlag                       // t:ReadFlagChange
)

func (k ChangeKind) String() string {
	switch k {
	case ChangeCreate:
		return "Create"
	case ChangeUpdate:
		return "Update"
	case ChangeDelete:
		return "Delete"
	case ChangeReadFlag:
		return "ReadFlagChange"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// changeKindOf is the kind of a child element of m:Changes, by its local
// name; false for anything else.
func changeKindOf(local string) (ChangeKind, bool) {
	for k := ChangeCreate; k <= ChangeReadFlag; k++ {
		if k.String() == local {
			return k, true
		}
	}
	return 0, false
}

// Change is one entry of SyncFolderItemsChangesType.
type Change struct {
	Kind ChangeKind
	// ItemKind is the item element's name for Create/Update
	// ("CalendarItem", "MeetingRequest", …), "" otherwise.
	ItemKind  string
	ItemID    string
	ChangeKey string
}

// SyncResult is one SyncFolderItems reply.
type SyncResult struct {
	SyncState               string
	IncludesLastItemInRange bool
	Changes                 []Change // in the order Exchange sent them
}

// SyncFolderItems returns the changes to mailbox's calendar after state
// ("" = from the beginning), at most maxChanges (1..512) of them, with the
// IdOnly shape (messages.xsd SyncFolderItemsType; "How to synchronize items
// by using EWS"). A refused state is an error for which IsInvalidSyncState
// holds and which wraps calendar.ErrInvalidSyncState.
func (c *Client) SyncFolderItems(ctx context.Context, s *Session, mailbox, state string, maxChanges int) (SyncResult, error) {
	if maxChanges < 1 || maxChanges > MaxSyncChanges {
		maxChanges = MaxSyncChanges
	}
	req := &syncFolderItemsRequest{SyncState: state, MaxChangesReturned: maxChanges, SyncScope: "NormalItems"}
	req.ItemShape.BaseShape = "IdOnly"
	req.SyncFolderID.Distinguished = &distinguishedFolderID{ID: "calendar"}
	s = c.sessionFor(s, mailbox)

	var res SyncResult
	err := c.do(ctx, "SyncFolderItems", func(ctx context.Context) error {
		var resp syncFolderItemsResponse
		if err := c.call(ctx, s, "SyncFolderItems", mailbox, req, &resp); err != nil {
			return err
		}
		if len(resp.Messages) == 0 {
			return &Error{Op: "SyncFolderItems", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
		}
		m := resp.Messages[0]
		if e := messageError("SyncFolderItems", mailbox, 200, m.responseMessage); e != nil {
			return e
		}
		res = SyncResult{SyncState: strings.TrimSpace(m.SyncState)}
		if m.IncludesLastItemInRange != nil {
			res.IncludesLastItemInRange = *m.IncludesLastItemInRange
		} else {
			// optional in the schema: without it, a page with no change is the last.
			res.IncludesLastItemInRange = len(m.Changes) == 0
		}
		for _, ch := range m.Changes {
			res.Changes = append(res.Changes, Change{Kind: ch.Kind, ItemKind: ch.ItemKind,
				ItemID: strings.TrimSpace(ch.ItemID), ChangeKey: ch.ChangeKey})
		}
		return nil
	})
	return res, err
}
