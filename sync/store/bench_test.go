package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// benchPage is a first sync's page of n items with EWS-like ids in
// random order, a zone, an organizer and a body.
func benchPage(n int) calendar.Page {
	r := rand.New(rand.NewPCG(1, 2))
	zone := &calendar.TimeZone{ID: "W. Europe Standard Time", Name: "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
		StandardOffset: time.Hour, DaylightOffset: 2 * time.Hour, HasDefinition: true,
		ToStandard: &calendar.Transition{Month: 10, Week: 5, At: 3 * time.Hour}, ToDaylight: &calendar.Transition{Month: 3, Week: 5, At: 2 * time.Hour}}
	p := calendar.Page{State: "s1", Done: true}
	for range n {
		e := ev(fmt.Sprintf("AAMkADk0MzY1ZjZhLTFkNWItNGY3Ny05NGUxLWQ4Y2IyNjE0ZjAxNgBGAAAAAAC%016x", r.Uint64()), r.IntN(24))
		e.ChangeKey, e.Body, e.TimeZone = "DwAAABYAAAA"+e.ItemID[60:], "Agenda: numbers, plans, questions.", zone
		e.Organizer = &calendar.Person{Name: "Alice Example", Email: "alice@contoso.com"}
		p.Upserts = append(p.Upserts, e)
	}
	return p
}

// BenchmarkApplyPage stores a mailbox's first sync of 500 items (one page)
// and reads them back; it asserts nothing.
func BenchmarkApplyPage(b *testing.B) {
	page := benchPage(500)
	s := open(b, filepath.Join(b.TempDir(), "state.db"))
	defer s.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		mb := fmt.Sprintf("m%d@contoso.com", i)
		i++
		if err := s.ApplyPage(mb, page); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Events(mb); err != nil {
			b.Fatal(err)
		}
	}
}
