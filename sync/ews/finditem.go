package ews

import (
	"context"
	"strings"
	"time"
)

// ViewItem is one entry of a calendar view: a single item, an occurrence
// or an exception of a series (never a master).
type ViewItem struct {
	ItemID, ChangeKey string
	Subject           string
	Start, End        time.Time
	Kind              string // CalendarItemType
}

// CalendarView lists mailbox's calendar between start and end with
// FindItem and a CalendarView (messages.xsd FindItemType; CalendarViewType),
// expanding series into occurrences on the server. It is meant for
// diagnosis and tests; sync uses SyncFolderItems. The range may span at
// most two years (ErrorCalendarViewRangeTooBig); max > 0 limits the
// entries, and complete is false when the view was cut short.
func (c *Client) CalendarView(ctx context.Context, s *Session, mailbox string, start, end time.Time, max int) (items []ViewItem, complete bool, err error) {
	req := &findItemRequest{Traversal: "Shallow"}
	req.ItemShape = itemResponseShape{BaseShape: "IdOnly", AdditionalProperties: &fieldURIs{FieldURI: []fieldURI{
		{"item:Subject"}, {"calendar:Start"}, {"calendar:End"}, {"calendar:CalendarItemType"},
	}}}
	req.CalendarView.MaxEntriesReturned = max
	req.CalendarView.StartDate = start.UTC().Format(time.RFC3339)
	req.CalendarView.EndDate = end.UTC().Format(time.RFC3339)
	req.ParentFolderIDs.Distinguished = []distinguishedFolderID{{ID: "calendar"}}
	s = c.sessionFor(s, mailbox)

	err = c.do(ctx, "FindItem", func(ctx context.Context) error {
		items = nil
		var resp findItemResponse
		if err := c.call(ctx, s, "FindItem", mailbox, req, &resp); err != nil {
			return err
		}
		if len(resp.Messages) == 0 {
			return &Error{Op: "FindItem", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
		}
		m := resp.Messages[0]
		if e := messageError("FindItem", mailbox, 200, m.responseMessage); e != nil {
			return e
		}
		complete = m.RootFolder.IncludesLastItemInRange
		for _, w := range m.RootFolder.Items {
			st, err := parseDateTimeField("Start", w.Start)
			if err != nil {
				return &Error{Op: "FindItem", Mailbox: mailbox, HTTPStatus: 200, Err: err}
			}
			en, err := parseDateTimeField("End", w.End)
			if err != nil {
				return &Error{Op: "FindItem", Mailbox: mailbox, HTTPStatus: 200, Err: err}
			}
			items = append(items, ViewItem{ItemID: strings.TrimSpace(w.ItemID.ID), ChangeKey: w.ItemID.ChangeKey,
				Subject: w.Subject, Start: st, End: en, Kind: strings.TrimSpace(w.CalendarItemType)})
		}
		return nil
	})
	return items, complete, err
}
