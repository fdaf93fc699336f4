package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/ews"
)

// freeBusyOnly is a calendar.Source that syncs with SyncPageFreeBusy.
type freeBusyOnly struct{ *ews.Source }

func (s freeBusyOnly) SyncPage(ctx context.Context, mailbox, state string) (calendar.Page, error) {
	return s.SyncPageFreeBusy(ctx, mailbox, state)
}

// withoutDetails is e with what free-busy does not fetch cleared.
func withoutDetails(e calendar.Event) calendar.Event {
	e.Subject, e.Location, e.Body = "", "", ""
	e.Organizer, e.Attendees, e.Categories, e.Reminder = nil, nil, nil, nil
	e.Sensitivity = calendar.Normal
	if e.ModifiedOccurrences != nil {
		occ := make([]calendar.Event, len(e.ModifiedOccurrences))
		for i, m := range e.ModifiedOccurrences {
			occ[i] = withoutDetails(m)
		}
		e.ModifiedOccurrences = occ
	}
	return e
}

// TestFreeBusyAgainstEmulator: a free-busy sync (run first, so that the
// validated GetItem requests are its own) yields exactly the full sync's
// events without their details, and its requests are schema-valid.
func TestFreeBusyAgainstEmulator(t *testing.T) {
	t.Parallel()
	e := start(t, 2, 40)
	src := ews.NewSource(e.c)
	var series, exceptions, details int
	for _, mb := range e.ten.Mailboxes() {
		fb := map[string]calendar.Event{}
		fullSync(t, freeBusyOnly{src}, mb, "", fb)
		full := map[string]calendar.Event{}
		fullSync(t, src, mb, "", full)
		if len(fb) != len(full) || len(fb) == 0 {
			t.Fatalf("%s: got %d free-busy items, want %d (> 0)", mb, len(fb), len(full))
		}
		for id, want := range full {
			if want.Subject != "" || want.Body != "" || len(want.Attendees) > 0 {
				details++
			}
			if want.Recurrence != nil {
				series++
			}
			exceptions += len(want.ModifiedOccurrences)
			got, ok := fb[id]
			if !ok {
				t.Errorf("%s: item %s missing from the free-busy sync", mb, id)
				continue
			}
			if want = withoutDetails(want); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: item %s:\n got %+v\nwant %+v", mb, id, got, want)
			}
		}
	}
	// Worth something only if the full sync had details, series and exceptions.
	if details == 0 || series == 0 || exceptions == 0 {
		t.Errorf("got %d items with details, %d series, %d exceptions; want each > 0", details, series, exceptions)
	}
	// The emulator's reply to a free-busy GetItem is schema-valid too.
	e.rec.mu.Lock()
	req := e.rec.byOp["GetItem"][0]
	e.rec.mu.Unlock()
	resp, err := e.httpClient().Post(e.srv.EWSURL(), "text/xml; charset=utf-8", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(reply, []byte("CalendarItem")) {
		t.Fatalf("replayed free-busy GetItem: got status %d, %v, %.300s; want 200 with calendar items", resp.StatusCode, err, reply)
	}
	if bytes.Contains(reply, []byte("<t:Subject>")) || bytes.Contains(reply, []byte("<t:Body")) {
		t.Errorf("the free-busy GetItem reply holds a subject or body: %.500s", reply)
	}
	e.rec.mu.Lock()
	e.rec.byOp["GetItemResponse"] = [][]byte{reply}
	e.rec.mu.Unlock()
	validateAll(t, e.rec)
}
