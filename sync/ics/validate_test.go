package ics_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/ics"
	"github.com/exocal/exocal/sync/ics/icstest"
)

// TestValidateAgreesWithEmulator is the in-process counterpart of the
// independent-parser test: render each emulated mailbox, parse it back with
// go-ical, expand it with rrule-go (icstest) and compare with the
// emulator's CalendarView. It needs no Python or Node.
func TestValidateAgreesWithEmulator(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tn := tenant.Generate(tenant.Config{Seed: 11, Mailboxes: 2, Events: 150, Now: now})
	w0, w1 := now.AddDate(0, -1, 0), now.AddDate(2, -1, 0)
	for _, mbx := range tn.Mailboxes() {
		items := tn.Items(mbx)
		events := make([]calendar.Event, 0, len(items))
		zoneOf := map[string]*time.Location{}
		private := map[string]bool{}
		for _, it := range items {
			events = append(events, ics.EventFromTenantForTest(t, it))
			z, _ := tenant.Zone(it.StartTimeZone)
			zoneOf[it.UID] = z.Location
			private[it.UID] = it.Sensitivity != "Normal" && it.Sensitivity != ""
		}
		var buf bytes.Buffer
		if err := ics.Render(&buf, mbx, events, ics.Options{}); err != nil {
			t.Fatalf("Render: %v", err)
		}
		occs, err := icstest.Expand(buf.Bytes(), w0.AddDate(0, 0, -2), w1.AddDate(0, 0, 2))
		if err != nil {
			t.Fatalf("icstest.Expand: %v", err)
		}
		key := func(uid string, s, e time.Time, allDay bool, summary string) string {
			if allDay {
				return fmt.Sprintf("%s|%s|%s|all-day|%s", uid, s.Format("2006-01-02"), e.Format("2006-01-02"), summary)
			}
			return fmt.Sprintf("%s|%s|%s|%s", uid, s.UTC().Format(time.RFC3339), e.UTC().Format(time.RFC3339), summary)
		}
		got := map[string]int{}
		for _, o := range occs {
			s := o.Start
			if o.AllDay {
				s = calendar.DateOf(o.Start).In(zoneOf[o.UID])
			}
			if s.Before(w0) || !s.Before(w1) {
				continue
			}
			got[key(o.UID, o.Start, o.End, o.AllDay, o.Summary)]++
		}
		want := map[string]int{}
		for _, o := range tn.CalendarView(mbx, w0, w1) {
			if o.Start.Before(w0) {
				continue
			}
			summary := o.Subject
			if private[o.UID] || o.Sensitivity != "Normal" && o.Sensitivity != "" {
				summary = "Private appointment"
			}
			s, e := o.Start, o.End
			if o.AllDay {
				s = calendar.DateOf(s.In(zoneOf[o.UID])).In(time.UTC)
				e = calendar.DateOf(e.In(zoneOf[o.UID])).In(time.UTC)
			}
			want[key(o.UID, s, e, o.AllDay, summary)]++
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: occurrence %s: got %d, want %d", mbx, k, got[k], n)
			}
		}
		for k, n := range got {
			if want[k] == 0 {
				t.Errorf("%s: unexpected occurrence %s (x%d)", mbx, k, n)
			}
		}
	}
}
