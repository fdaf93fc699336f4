package ews

import "context"

// Unsubscribe ends a subscription (messages.xsd UnsubscribeType). mailbox
// is the impersonated mailbox that owns it.
func (c *Client) Unsubscribe(ctx context.Context, s *Session, mailbox, subscriptionID string) error {
	req := &unsubscribeRequest{SubscriptionID: subscriptionID}
	s = c.sessionFor(s, mailbox)
	var resp unsubscribeResponse
	if err := c.call(ctx, s, "Unsubscribe", mailbox, req, &resp); err != nil {
		return err
	}
	if len(resp.Messages) == 0 {
		return &Error{Op: "Unsubscribe", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
	}
	if e := messageError("Unsubscribe", mailbox, 200, resp.Messages[0]); e != nil {
		return e
	}
	return nil
}
