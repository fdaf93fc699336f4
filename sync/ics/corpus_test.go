package ics

import (
	"fmt"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// corpusSet is a named list of events rendered with some options.
type corpusSet struct {
	name   string
	opts   Options
	events []calendar.Event
}

// corpus is a few thousand varied events: emulated mailboxes of several
// seeds (every kind of item), the generated series over many zones, and
// the golden cases, each with both privacy settings.
func corpus(t testing.TB) []corpusSet {
	t.Helper()
	var sets []corpusSet
	add := func(name string, events []calendar.Event) {
		sets = append(sets,
			corpusSet{name: name + "-full", events: events},
			corpusSet{name: name + "-freebusy", opts: Options{Privacy: PrivacyFreeBusy}, events: events})
	}
	for seed := int64(1); seed <= 4; seed++ {
		tn := tenant.Generate(tenant.Config{Seed: seed, Mailboxes: 2, Events: 400, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
		for _, mb := range tn.Mailboxes() {
			var events []calendar.Event
			for _, it := range tn.Items(mb) {
				events = append(events, eventFromTenant(&testing.T{}, it))
			}
			add(fmt.Sprintf("tenant%d-%s", seed, mb), events)
		}
	}
	for seed := uint64(1); seed <= 3; seed++ {
		add(fmt.Sprintf("generated%d", seed), generateSeries(300, seed))
	}
	for _, c := range goldenCases {
		add("golden-"+c.name, c.events)
	}
	return sets
}
