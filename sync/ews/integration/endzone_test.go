package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/ews"
)

// TestEndTimeZoneFollowUp: GetItem asks for EndTimeZoneId only; an item
// whose end zone differs from its start zone gets its EndTimeZone
// definition from a second, schema-valid GetItem, and items in one zone
// cause none.
func TestEndTimeZoneFollowUp(t *testing.T) {
	t.Parallel()
	e := start(t, 1, 3)
	mb := e.ten.Mailboxes()[0]
	flight, err := e.ten.Add(mb, tenant.Item{Subject: "Flight", Start: now.Add(48 * time.Hour), End: now.Add(60 * time.Hour),
		StartTimeZone: "W. Europe Standard Time", EndTimeZone: "Eastern Standard Time", FreeBusy: "Busy", Sensitivity: "Normal"})
	if err != nil {
		t.Fatal(err)
	}
	src := ews.NewSource(e.c)
	p, err := src.SyncPage(context.Background(), mb, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range p.Upserts {
		if ev.ItemID != flight.ID {
			if ev.EndTimeZone != nil {
				t.Errorf("%s: got EndTimeZone %+v, want none (one zone)", ev.Subject, ev.EndTimeZone)
			}
			continue
		}
		found = true
		if ev.TimeZone == nil || ev.TimeZone.ID != "W. Europe Standard Time" {
			t.Errorf("got TimeZone %+v, want W. Europe Standard Time", ev.TimeZone)
		}
		z, _ := tenant.Zone("Eastern Standard Time")
		if ez := ev.EndTimeZone; ez == nil || ez.ID != "Eastern Standard Time" || !ez.HasDefinition || ez.StandardOffset != -z.StandardBias {
			t.Errorf("got EndTimeZone %+v, want Eastern Standard Time with its definition", ez)
		}
	}
	if !found {
		t.Fatalf("got %d upserts without the added item", len(p.Upserts))
	}
	e.rec.mu.Lock()
	var bodies []string
	for _, b := range e.rec.byOp["GetItem"] {
		bodies = append(bodies, string(b))
	}
	e.rec.mu.Unlock()
	follow := 0
	for _, b := range bodies {
		if strings.Contains(b, `FieldURI="calendar:EndTimeZone"`) {
			follow++
			if !strings.Contains(b, flight.ID) || strings.Count(b, "<t:ItemId ") != 1 {
				t.Errorf("follow-up GetItem: got %s, want just the added item", b)
			}
		} else if !strings.Contains(b, `FieldURI="calendar:EndTimeZoneId"`) {
			t.Errorf("GetItem without EndTimeZoneId: %s", b)
		}
	}
	if follow != 1 {
		t.Errorf("got %d follow-up GetItem requests, want 1", follow)
	}
	validateAll(t, e.rec)
}
