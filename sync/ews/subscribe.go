package ews

import (
	"context"
	"strings"
)

// calendarEvents are the event types a calendar subscription asks for
// (NotificationEventTypeType).
var calendarEvents = []string{"CreatedEvent", "ModifiedEvent", "DeletedEvent", "MovedEvent", "CopiedEvent"}

// Subscribe creates a streaming subscription to mailbox's calendar
// (messages.xsd SubscribeType, StreamingSubscriptionRequestType) and
// returns its id. For a grouped subscription pass the group's affinity
// session: the anchor must subscribe first, its reply sets the
// X-BackEndOverrideCookie that the members' Subscribe then carry.
// Subscribe is not retried by the client's Retry (the Watcher decides).
func (c *Client) Subscribe(ctx context.Context, s *Session, mailbox string) (string, error) {
	req := &subscribeRequest{}
	req.Streaming.FolderIDs.Distinguished = []distinguishedFolderID{{ID: "calendar"}}
	req.Streaming.EventTypes.EventType = calendarEvents
	s = c.sessionFor(s, mailbox)
	var resp subscribeResponse
	if err := c.call(ctx, s, "Subscribe", mailbox, req, &resp); err != nil {
		return "", err
	}
	if len(resp.Messages) == 0 {
		return "", &Error{Op: "Subscribe", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
	}
	m := resp.Messages[0]
	if e := messageError("Subscribe", mailbox, 200, m.responseMessage); e != nil {
		return "", e
	}
	id := strings.TrimSpace(m.SubscriptionID)
	if id == "" {
		return "", &Error{Op: "Subscribe", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
	}
	return id, nil
}
