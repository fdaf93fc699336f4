package ews

import (
	"bytes"
	"testing"
)

func TestBuildRequestFastPath(t *testing.T) {
	t.Parallel()
	c := New(Config{URL: "http://127.0.0.1/EWS/Exchange.asmx"})
	odd := "AAMk<&>\"'\t\n\r\x01é\xff\uFFFE=="
	for _, tc := range []struct {
		name    string
		mailbox string
		req     *getItemRequest
	}{
		{"calendar", "user@contoso.com", &getItemRequest{ItemShape: calendarShape()}},
		{"free-busy", "user@contoso.com", &getItemRequest{ItemShape: freeBusyShape()}},
		{"end zone", "user@contoso.com", &getItemRequest{ItemShape: shapeOf("", endZoneFields)}},
		{"no mailbox", "", &getItemRequest{ItemShape: itemResponseShape{BaseShape: "IdOnly"}}},
		{"escaping", odd, &getItemRequest{ItemShape: shapeOf(odd, []string{odd})}},
	} {
		tc.req.ItemIDs.ItemID = []reqItemID{{ID: "AAMkAD=="}, {ID: odd, ChangeKey: odd}, {ID: "x", ChangeKey: "ck"}}
		got, err := c.buildRequest(tc.mailbox, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := c.buildRequestXML(tc.mailbox, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got\n%s\nwant (encoding/xml)\n%s", tc.name, got, want)
		}
	}
}
