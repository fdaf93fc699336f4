package ews

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// MaxStreamingSubscriptions is the most subscription ids one
// GetStreamingEvents may carry ("How to maintain affinity between a group
// of subscriptions and the Mailbox server", step 7).
const MaxStreamingSubscriptions = 200

// DefaultHeartbeatTimeout is how long a streaming connection may stay
// silent before it is dropped: twice the 45 s heartbeat interval the EWS
// Managed API expects (GetStreamingEventsRequest.HeartbeatFrequencyDefault).
const DefaultHeartbeatTimeout = 90 * time.Second

// StreamEvent is one notification event (BaseNotificationEventType).
type StreamEvent struct {
	Kind                      string // CreatedEvent, ModifiedEvent, DeletedEvent, MovedEvent, CopiedEvent, StatusEvent, …
	TimeStamp                 time.Time
	ItemID, FolderID          string
	ParentFolderID, OldItemID string
}

// StreamNotification is the events of one subscription (NotificationType).
type StreamNotification struct {
	SubscriptionID string
	Events         []StreamEvent
}

// StreamResponse is one GetStreamingEventsResponseMessage, delivered as soon
// as its envelope has arrived.
type StreamResponse struct {
	Notifications []StreamNotification
	// ErrorSubscriptionIDs are subscriptions the server gave up on (Err says why).
	ErrorSubscriptionIDs []string
	// ConnectionStatus is "OK", "Closed" (the server ends the request) or "".
	ConnectionStatus string
	// Err is set when the message's ResponseClass is Error.
	Err *Error
}

// Heartbeat reports an envelope that carries no notification: it only
// keeps the connection alive.
func (r StreamResponse) Heartbeat() bool {
	for _, n := range r.Notifications {
		for _, e := range n.Events {
			if e.Kind != "StatusEvent" {
				return false
			}
		}
	}
	return r.Err == nil
}

// GetStreamingEvents opens a streaming connection for the subscriptions ids
// (at most MaxStreamingSubscriptions) that stays open for timeout (rounded
// to minutes, 1..30; ConnectionTimeout), and calls fn with every response
// message as its SOAP envelope arrives — one HTTP reply carries several
// envelopes one after another. mailbox is the impersonated mailbox (the
// group's anchor). Use the session the subscriptions were made with.
//
// It returns nil when the server ends the connection (ConnectionStatus
// Closed, or the end of the reply), an *Error when the server reports an
// error for the whole request, and a transport error when the connection
// breaks, stays silent longer than the client's heartbeat timeout, or is
// still open StreamMargin after its ConnectionTimeout. The http.Client's
// Timeout does not apply: it would cut a quiet connection long before the
// server ends it (see New).
// GetStreamingEvents is never retried by the client; the caller reconnects.
func (c *Client) GetStreamingEvents(ctx context.Context, s *Session, mailbox string, ids []string, timeout time.Duration, fn func(StreamResponse)) error {
	const op = "GetStreamingEvents"
	if len(ids) == 0 || len(ids) > MaxStreamingSubscriptions {
		return fmt.Errorf("ews: %s: %d subscription ids, want 1..%d", op, len(ids), MaxStreamingSubscriptions)
	}
	minutes := int((timeout + time.Minute - 1) / time.Minute)
	minutes = max(1, min(30, minutes))
	req := &getStreamingEventsRequest{SubscriptionIDs: ids, ConnectionTimeout: minutes}
	s = c.sessionFor(s, mailbox)

	// The connection is bounded by the lifetime asked of the server plus a
	// margin, and by the heartbeat watchdog; not by the http.Client's
	// Timeout, which is for request/response operations (see New).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var silent, overdue atomic.Bool
	watchdog := time.AfterFunc(c.heartbeat, func() { silent.Store(true); cancel() })
	defer watchdog.Stop()
	lifetime := time.AfterFunc(time.Duration(minutes)*c.minute+c.margin, func() { overdue.Store(true); cancel() })
	defer lifetime.Stop()
	stopped := func(status int) error {
		switch {
		case silent.Load():
			return &Error{Op: op, Mailbox: mailbox, HTTPStatus: status, Err: errSilent}
		case overdue.Load():
			return &Error{Op: op, Mailbox: mailbox, HTTPStatus: status, Err: errOverdue}
		}
		return nil
	}

	resp, err := c.sendWith(ctx, c.streamHC, s, op, mailbox, req)
	if err != nil {
		if e := stopped(0); e != nil {
			return e
		}
		return err
	}
	body := c.debug.streamBody(op, resp)
	defer body.Close()
	err = parseStream(body, func(env *streamingEnvelope) error {
		watchdog.Reset(c.heartbeat)
		if env.Fault != nil {
			e := &Error{Op: op, Mailbox: mailbox, HTTPStatus: resp.StatusCode}
			e.applyFault(env.Fault)
			return e
		}
		var fatal error
		closed := false
		for _, m := range env.Messages {
			r := StreamResponse{ConnectionStatus: strings.TrimSpace(m.ConnectionStatus)}
			for _, id := range m.ErrorSubscriptionIDs {
				r.ErrorSubscriptionIDs = append(r.ErrorSubscriptionIDs, strings.TrimSpace(id))
			}
			if e := messageError(op, mailbox, resp.StatusCode, m.responseMessage); e != nil {
				r.Err = e
				if len(r.ErrorSubscriptionIDs) == 0 && fatal == nil {
					fatal = e
				}
			}
			for _, n := range m.Notifications {
				sn := StreamNotification{SubscriptionID: strings.TrimSpace(n.SubscriptionID)}
				for _, we := range n.Events {
					ev := StreamEvent{Kind: we.XMLName.Local}
					ev.TimeStamp, _ = parseDateTime(we.TimeStamp)
					if we.ItemID != nil {
						ev.ItemID = we.ItemID.ID
					}
					if we.FolderID != nil {
						ev.FolderID = we.FolderID.ID
					}
					if we.ParentFolderID != nil {
						ev.ParentFolderID = we.ParentFolderID.ID
					}
					if we.OldItemID != nil {
						ev.OldItemID = we.OldItemID.ID
					}
					sn.Events = append(sn.Events, ev)
				}
				r.Notifications = append(r.Notifications, sn)
			}
			if r.ConnectionStatus == "Closed" {
				closed = true
			}
			fn(r)
		}
		if fatal != nil {
			return fatal
		}
		if closed {
			return errClosed
		}
		return nil
	})
	switch {
	case errors.Is(err, errClosed), err == nil:
		return nil
	case stopped(resp.StatusCode) != nil:
		return stopped(resp.StatusCode)
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &Error{Op: op, Mailbox: mailbox, HTTPStatus: resp.StatusCode, Err: err}
}

var (
	errClosed = errors.New("connection closed by the server")
	errSilent = errors.New("no heartbeat from the server")
	// errOverdue: the server kept the connection open well past the
	// ConnectionTimeout it was asked for (a notification might have been
	// cut off in flight, so this counts as a failure, not a normal end).
	errOverdue = errors.New("the server did not end the connection after its ConnectionTimeout")
)

// parseStream reads SOAP envelopes one after another from r (with or
// without an XML declaration before each) and calls fn for each. It
// returns nil at a clean end of input between envelopes, fn's first error,
// or the read/parse error.
func parseStream(r io.Reader, fn func(*streamingEnvelope) error) error {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "Envelope" {
			if err := dec.Skip(); err != nil {
				return err
			}
			continue
		}
		var env streamingEnvelope
		if err := dec.DecodeElement(&env, &se); err != nil {
			return err
		}
		if err := fn(&env); err != nil {
			return err
		}
	}
}
