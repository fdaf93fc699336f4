package ews

import (
	"context"
	"errors"
	"net/http"
	"slices"
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

// TestSourceFreeBusyAsksForBusyBlocksOnly: SyncPageFreeBusy's GetItem
// requests name the busy-block properties and none of the details, and
// SyncPage's name both.
func TestSourceFreeBusyAsksForBusyBlocksOnly(t *testing.T) {
	t.Parallel()
	busy := []string{"calendar:UID", "calendar:Start", "calendar:End", "calendar:OriginalStart", "calendar:IsAllDayEvent",
		"calendar:LegacyFreeBusyStatus", "calendar:IsCancelled", "calendar:CalendarItemType", "item:LastModifiedTime",
		"calendar:AppointmentSequenceNumber", "calendar:Recurrence", "calendar:ModifiedOccurrences",
		"calendar:DeletedOccurrences", "calendar:StartTimeZone", "calendar:EndTimeZoneId"}
	details := []string{"item:Subject", "item:Body", "item:Categories", "item:Sensitivity", "item:ReminderIsSet",
		"item:ReminderMinutesBeforeStart", "calendar:Location", "calendar:Organizer", "calendar:RequiredAttendees",
		"calendar:OptionalAttendees", "calendar:Resources"}
	for _, tc := range []struct {
		name        string
		sync        func(*Source) (calendar.Page, error)
		wantDetails bool
	}{
		{"free-busy", func(s *Source) (calendar.Page, error) {
			return s.SyncPageFreeBusy(context.Background(), "alfred@contoso.com", "STATE-1")
		}, false},
		{"full", func(s *Source) (calendar.Page, error) {
			return s.SyncPage(context.Background(), "alfred@contoso.com", "STATE-1")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
				switch {
				case op == "SyncFolderItems":
					writeReply(w, []byte(syncPageReply))
				case op == "GetItem" && strings.Contains(string(body), `Id="EXC1"`):
					replay(t, w, "handwritten/getitem-exception-response.xml")
				case op == "GetItem":
					replay(t, w, "handwritten/getitem-master-response.xml")
				}
			})
			if _, err := tc.sync(NewSource(f.client(Config{}))); err != nil {
				t.Fatal(err)
			}
			getItems := 0
			for _, r := range f.requests() {
				if r.Op != "GetItem" {
					continue
				}
				getItems++
				body := string(r.Body)
				for _, fu := range busy {
					if !strings.Contains(body, `FieldURI="`+fu+`"`) {
						t.Errorf("GetItem %d: got no %s, want it (a busy block needs it)", getItems, fu)
					}
				}
				for _, fu := range details {
					if got := strings.Contains(body, `FieldURI="`+fu+`"`); got != tc.wantDetails {
						t.Errorf("GetItem %d: got %s requested %v, want %v", getItems, fu, got, tc.wantDetails)
					}
				}
				if got := strings.Contains(body, "<t:BodyType>"); got != tc.wantDetails {
					t.Errorf("GetItem %d: got BodyType %v, want %v", getItems, got, tc.wantDetails)
				}
			}
			if getItems != 2 {
				t.Errorf("got %d GetItem requests, want 2 (the items, then the modified occurrence)", getItems)
			}
		})
	}
}

// TestFreeBusyFieldsPartition: every detail field is one calendarFields
// asks for (a misspelt one would be fetched in free-busy mode).
func TestFreeBusyFieldsPartition(t *testing.T) {
	t.Parallel()
	for f := range detailFields {
		if !slices.Contains(calendarFields, f) {
			t.Errorf("detail field %s: got not in calendarFields, want in it", f)
		}
	}
	if got, want := len(freeBusyFields), len(calendarFields)-len(detailFields); got != want {
		t.Errorf("got %d free-busy fields, want %d", got, want)
	}
}
