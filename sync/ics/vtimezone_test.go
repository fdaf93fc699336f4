package ics

import (
	"sort"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/exocal/exocal/sync/calendar"
)

type onset struct {
	at time.Time
	to int
}

// onsets evaluates a VTIMEZONE's observances into instants of change, up
// to the end of year last.
func onsets(t *testing.T, tz *ical.Component, last int) []onset {
	t.Helper()
	var out []onset
	for _, o := range tz.Children {
		wall, err := time.Parse(localFormat, o.Props.Get(ical.PropDateTimeStart).Value)
		if err != nil {
			t.Fatalf("DTSTART: %v", err)
		}
		from, err1 := parseOffsetSeconds(o.Props.Get(ical.PropTimezoneOffsetFrom).Value)
		to, err2 := parseOffsetSeconds(o.Props.Get(ical.PropTimezoneOffsetTo).Value)
		if err1 != nil || err2 != nil {
			t.Fatalf("offsets: %v %v", err1, err2)
		}
		add := func(w time.Time) { out = append(out, onset{w.Add(-time.Duration(from) * time.Second), to}) }
		rr := o.Props.Get(ical.PropRecurrenceRule)
		if rr == nil {
			add(wall)
			continue
		}
		var until time.Time
		var parts []string
		for _, p := range strings.Split(rr.Value, ";") {
			if v, ok := strings.CutPrefix(p, "UNTIL="); ok {
				until, _ = time.Parse(utcFormat, v)
				continue
			}
			parts = append(parts, p)
		}
		opt, err := rrule.StrToROption(strings.Join(parts, ";"))
		if err != nil {
			t.Fatalf("RRULE %q: %v", rr.Value, err)
		}
		opt.Dtstart = wall
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range r.Between(wall, time.Date(last+1, 1, 1, 0, 0, 0, 0, time.UTC), true) {
			if !until.IsZero() && w.Add(-time.Duration(from)*time.Second).After(until) {
				break
			}
			add(w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

func parseOffsetSeconds(s string) (int, error) {
	p := &ical.Prop{Value: s}
	d, err := parseOffsetProp(p)
	return int(d / time.Second), err
}

func parseOffsetProp(p *ical.Prop) (time.Duration, error) {
	sign := time.Duration(1)
	v := p.Value
	if v[0] == '-' {
		sign = -1
	}
	d, err := time.ParseDuration(v[1:3] + "h" + v[3:5] + "m")
	if len(v) == 7 {
		s, _ := time.ParseDuration(v[5:7] + "s")
		d += s
	}
	return sign * d, err
}

// TestVTIMEZONEMatchesGo checks, for every zone CLDR maps, that the
// VTIMEZONE generated for 2020..2030 gives Go's offset at every instant of
// 2019..2030+lookahead (sampled every 5 hours and a second either side of
// each of Go's transitions). Zones with a fixed n-th-weekday rule stay
// right beyond (their last rule is open-ended); irregular ones (Morocco's
// Ramadan breaks, Chile, Palestine) only that far.
func TestVTIMEZONEMatchesGo(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, id := range calendar.WindowsZoneIDs() {
		rz := (&calendar.TimeZone{ID: id}).Resolve()
		if seen[rz.TZID] {
			continue
		}
		seen[rz.TZID] = true
		tz := vtimezone(rz, 2020, 2030)
		last := 2030 + lookahead
		ons := onsets(t, tz, last)
		if len(ons) == 0 {
			t.Errorf("%s: VTIMEZONE has no onset", rz.TZID)
			continue
		}
		offsetAt := func(at time.Time) int {
			i := sort.Search(len(ons), func(i int) bool { return ons[i].at.After(at) })
			if i == 0 {
				return ons[0].to
			}
			return ons[i-1].to
		}
		begin := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
		stop := time.Date(last+1, 1, 1, 0, 0, 0, 0, time.UTC)
		var samples []time.Time
		for at := begin; at.Before(stop); at = at.Add(5 * time.Hour) {
			samples = append(samples, at)
		}
		for _, tr := range transitionsBetween(rz.Location, begin, stop) {
			samples = append(samples, tr.at.Add(-time.Second), tr.at, tr.at.Add(time.Second))
		}
		bad := 0
		for _, at := range samples {
			_, want := at.In(rz.Location).Zone()
			if got := offsetAt(at); got != want {
				if bad++; bad <= 3 {
					t.Errorf("%s (%s) at %v: got offset %d, want %d", rz.TZID, id, at, got, want)
				}
			}
		}
	}
	if len(seen) < 100 {
		t.Errorf("checked %d zones, want over 100", len(seen))
	}
}

func TestCustomVTIMEZONE(t *testing.T) {
	t.Parallel()
	rz := custom.Resolve()
	tz := vtimezone(rz, 2026, 2026)
	ons := onsets(t, tz, 2031)
	for at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2031; at = at.Add(3 * time.Hour) {
		i := sort.Search(len(ons), func(i int) bool { return ons[i].at.After(at) })
		got := ons[max(i-1, 0)].to
		_, want := at.In(rz.Location).Zone()
		if got != want {
			t.Fatalf("at %v: got offset %d, want %d", at, got, want)
		}
	}
}
