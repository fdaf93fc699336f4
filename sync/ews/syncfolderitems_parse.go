package ews

import "encoding/xml"

// The SyncFolderItems reply walker (see getitem_parse.go): it fills
// syncFolderItemsResponse as encoding/xml does with syncChanges'
// UnmarshalXML. TestFastSyncFolderItemsMatchesXML and
// FuzzFastSyncFolderItems hold it to encoding/xml's result.

// unmarshalSyncFolderItems parses a SyncFolderItems reply into r, falling
// back to encoding/xml like unmarshalGetItem.
func unmarshalSyncFolderItems(raw []byte, r *syncFolderItemsResponse) error {
	if scan(raw, nil, func(s *xscan) error { return s.syncFolderItemsResponse(r) }) == nil {
		return nil
	}
	*r = syncFolderItemsResponse{}
	return xml.Unmarshal(raw, r)
}

func (s *xscan) syncFolderItemsResponse(r *syncFolderItemsResponse) error {
	return s.messages("SyncFolderItemsResponse", "SyncFolderItemsResponseMessage", func() error {
		r.Messages = append(r.Messages, syncFolderItemsMessage{})
		return s.syncFolderItemsMessage(&r.Messages[len(r.Messages)-1])
	})
}

func (s *xscan) syncFolderItemsMessage(m *syncFolderItemsMessage) error {
	if err := s.responseMessageAttrs(&m.responseMessage); err != nil {
		return err
	}
	return s.children(func(local []byte) error {
		if ok, err := s.responseMessageField(local, &m.responseMessage); ok {
			return err
		}
		var err error
		switch string(local) {
		case "SyncState":
			m.SyncState, err = s.text()
		case "IncludesLastItemInRange":
			if m.IncludesLastItemInRange == nil {
				m.IncludesLastItemInRange = new(bool)
			}
			err = s.boolText(m.IncludesLastItemInRange)
		case "Changes":
			err = s.syncChanges(&m.Changes)
		default:
			err = s.skip()
		}
		return err
	})
}

// syncChanges mirrors syncChanges.UnmarshalXML: per Create, Update, Delete
// or ReadFlagChange, the ItemId child or else the ItemId of the first other
// child (the item, whose element name is the ItemKind).
func (s *xscan) syncChanges(c *syncChanges) error {
	return s.children(func(local []byte) error {
		kind, ok := changeKindOf(string(local))
		if !ok {
			return s.skip()
		}
		var (
			direct    respItemID
			hasDirect bool
			item      respItemID
			itemKind  string
			items     int
		)
		err := s.children(func(local []byte) error {
			if string(local) == "ItemId" {
				hasDirect = true
				return s.itemID(&direct)
			}
			items++
			if items > 1 {
				return s.skip()
			}
			itemKind = intern(local)
			return s.children(func(local []byte) error {
				if string(local) != "ItemId" {
					return s.skip()
				}
				return s.itemID(&item)
			})
		})
		if err != nil {
			return err
		}
		ch := syncChange{Kind: kind}
		if hasDirect {
			ch.ItemID, ch.ChangeKey = direct.ID, direct.ChangeKey
		} else if items > 0 {
			ch.ItemKind = itemKind
			ch.ItemID, ch.ChangeKey = item.ID, item.ChangeKey
		}
		*c = append(*c, ch)
		return nil
	})
}
