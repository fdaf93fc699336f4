package ews

import (
	"context"
	"fmt"
)

// Folder is a calendar folder as GetFolder describes it.
type Folder struct {
	ID, ChangeKey string
	TotalCount    int
}

// GetFolder returns mailbox's calendar folder with its TotalCount
// (messages.xsd GetFolderType; Microsoft's sample "Get appointments and
// meetings by using EWS"). s may be nil: the mailbox's own session is used.
func (c *Client) GetFolder(ctx context.Context, s *Session, mailbox string) (Folder, error) {
	req := &getFolderRequest{}
	req.FolderShape.BaseShape = "IdOnly"
	req.FolderShape.AdditionalProperties = &fieldURIs{FieldURI: []fieldURI{{"folder:TotalCount"}}}
	req.FolderIDs.Distinguished = []distinguishedFolderID{{ID: "calendar"}}
	s = c.sessionFor(s, mailbox)

	var f Folder
	err := c.do(ctx, "GetFolder", func(ctx context.Context) error {
		var resp getFolderResponse
		if err := c.call(ctx, s, "GetFolder", mailbox, req, &resp); err != nil {
			return err
		}
		if len(resp.Messages) == 0 {
			return &Error{Op: "GetFolder", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
		}
		m := resp.Messages[0]
		if e := messageError("GetFolder", mailbox, 200, m.responseMessage); e != nil {
			return e
		}
		if len(m.Folders) == 0 {
			return &Error{Op: "GetFolder", Mailbox: mailbox, HTTPStatus: 200, Err: fmt.Errorf("reply holds no folder")}
		}
		f = Folder{ID: m.Folders[0].FolderID.ID, ChangeKey: m.Folders[0].FolderID.ChangeKey, TotalCount: m.Folders[0].TotalCount}
		return nil
	})
	return f, err
}
