package ews

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/exocal/exocal/sync/calendar"
)

const syncPageReply = envOpen + `<m:SyncFolderItemsResponse` + nsDecl + `><m:ResponseMessages><m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
<m:SyncState>STATE-2</m:SyncState><m:IncludesLastItemInRange>false</m:IncludesLastItemInRange><m:Changes>
<t:Create><t:CalendarItem><t:ItemId Id="MASTER1" ChangeKey="CK1"/></t:CalendarItem></t:Create>
<t:Delete><t:ItemId Id="ALLDAY1" ChangeKey="x"/></t:Delete>
<t:Create><t:CalendarItem><t:ItemId Id="ALLDAY1" ChangeKey="CK2"/></t:CalendarItem></t:Create>
<t:Update><t:CalendarItem><t:ItemId Id="GONE1" ChangeKey="CK3"/></t:CalendarItem></t:Update>
<t:Update><t:CalendarItem><t:ItemId Id="MASTER1" ChangeKey="CK1"/></t:CalendarItem></t:Update>
<t:ReadFlagChange><t:ItemId Id="MASTER1" ChangeKey="CK1"/><t:IsRead>true</t:IsRead></t:ReadFlagChange>
<t:Delete><t:ItemId Id="DEL1" ChangeKey="CK4"/></t:Delete>
</m:Changes></m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse>` + envClose

func TestSourceSyncPage(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		switch {
		case op == "SyncFolderItems" && strings.Contains(string(body), "<m:SyncState>BAD</m:SyncState>"):
			replay(t, w, "msdocs/07-syncfolderitems-ref-error-invalidsyncstatedata.xml")
		case op == "SyncFolderItems":
			writeReply(w, []byte(syncPageReply))
		case op == "GetItem" && strings.Contains(string(body), `Id="EXC1"`):
			replay(t, w, "handwritten/getitem-exception-response.xml")
		case op == "GetItem":
			if n := strings.Count(string(body), "<t:ItemId "); n != 3 {
				t.Errorf("got GetItem for %d ids, want 3 (MASTER1, ALLDAY1, GONE1 once each)", n)
			}
			replay(t, w, "handwritten/getitem-master-response.xml")
		}
	})
	src := NewSource(f.client(Config{}))
	page, err := src.SyncPage(context.Background(), "alfred@contoso.com", "STATE-1")
	if err != nil {
		t.Fatal(err)
	}
	if page.State != "STATE-2" || page.Done {
		t.Errorf("got state %q done %v, want STATE-2 false", page.State, page.Done)
	}
	var ups []string
	for _, e := range page.Upserts {
		ups = append(ups, e.ItemID)
	}
	if strings.Join(ups, ",") != "MASTER1,ALLDAY1" {
		t.Errorf("got upserts %v, want MASTER1,ALLDAY1", ups)
	}
	if strings.Join(page.Deletes, ",") != "DEL1,GONE1" {
		t.Errorf("got deletes %v, want DEL1,GONE1", page.Deletes)
	}
	if len(page.Upserts) > 0 && len(page.Upserts[0].ModifiedOccurrences) != 1 {
		t.Errorf("got %d modified occurrences on the master, want 1", len(page.Upserts[0].ModifiedOccurrences))
	}
	if !strings.Contains(string(f.requests()[0].Body), "<m:MaxChangesReturned>512</m:MaxChangesReturned>") {
		t.Errorf("SyncPage did not ask for 512 changes")
	}

	_, err = src.SyncPage(context.Background(), "alfred@contoso.com", "BAD")
	if !errors.Is(err, calendar.ErrInvalidSyncState) {
		t.Errorf("got %v, want calendar.ErrInvalidSyncState", err)
	}
}
