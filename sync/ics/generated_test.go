package ics

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/ics/icstest"
)

// generatedZones are Windows zones with stable rules (no tzdata changes
// expected around 2026-2028, so the parsers' own zone databases agree),
// spread over both hemispheres, half-hour and 45-minute offsets, DST steps
// of 30 minutes and changes at midnight, plus two "Customized Time Zone"s
// known only by their definition.
var generatedZones = []*calendar.TimeZone{
	{ID: "W. Europe Standard Time"}, {ID: "GMT Standard Time"}, {ID: "Romance Standard Time"},
	{ID: "GTB Standard Time"}, {ID: "FLE Standard Time"}, {ID: "Russian Standard Time"},
	{ID: "Eastern Standard Time"}, {ID: "Central Standard Time"}, {ID: "Mountain Standard Time"},
	{ID: "US Mountain Standard Time"}, {ID: "Pacific Standard Time"}, {ID: "Alaskan Standard Time"},
	{ID: "Hawaiian Standard Time"}, {ID: "Atlantic Standard Time"}, {ID: "Newfoundland Standard Time"},
	{ID: "E. South America Standard Time"}, {ID: "Argentina Standard Time"},
	{ID: "AUS Eastern Standard Time"}, {ID: "Cen. Australia Standard Time"}, {ID: "Lord Howe Standard Time"},
	{ID: "New Zealand Standard Time"}, {ID: "Chatham Islands Standard Time"}, {ID: "Tokyo Standard Time"},
	{ID: "India Standard Time"}, {ID: "Nepal Standard Time"}, {ID: "China Standard Time"},
	{ID: "Arabian Standard Time"}, {ID: "South Africa Standard Time"}, {ID: "Cuba Standard Time"},
	{ID: "UTC"}, {ID: "Dateline Standard Time"}, {ID: "Line Islands Standard Time"},
	{ID: "Customized Time Zone", HasDefinition: true, StandardOffset: -3 * time.Hour, DaylightOffset: -2 * time.Hour,
		ToDaylight: &calendar.Transition{Month: time.March, Week: 2, Weekday: time.Sunday, At: 2 * time.Hour},
		ToStandard: &calendar.Transition{Month: time.November, Week: 1, Weekday: time.Sunday, At: 2 * time.Hour}},
	{ID: "Customized Time Zone", HasDefinition: true, StandardOffset: 9*time.Hour + 30*time.Minute, DaylightOffset: 10*time.Hour + 30*time.Minute,
		ToDaylight: &calendar.Transition{Month: time.October, Week: 1, Weekday: time.Sunday, At: 2 * time.Hour},
		ToStandard: &calendar.Transition{Month: time.April, Week: 5, Weekday: time.Saturday, At: 3 * time.Hour}},
}

// generateSeries makes n events over the generated zones: every pattern
// and range, both DST changes, deleted and modified occurrences, all-day
// and multi-day items, and a few single items.
func generateSeries(n int, seed uint64) []calendar.Event {
	rng := rand.New(rand.NewPCG(seed, 7))
	lastMod := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	clocks := []time.Duration{7 * time.Hour, 9 * time.Hour, 12*time.Hour + 30*time.Minute, 17*time.Hour + 45*time.Minute, 23*time.Hour + 15*time.Minute}
	days := []calendar.Day{calendar.Sunday, calendar.Monday, calendar.Tuesday, calendar.Wednesday, calendar.Thursday, calendar.Friday, calendar.Saturday}
	var out []calendar.Event
	for i := 0; i < n; i++ {
		tz := generatedZones[i%len(generatedZones)]
		loc := tz.Location()
		sd := calendar.DateOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(600)))
		e := calendar.Event{
			ItemID: fmt.Sprintf("item-%04d", i), UID: fmt.Sprintf("gen-%04d", i),
			Subject: fmt.Sprintf("Series %d (%s)", i, tz.ID), TimeZone: tz,
			LastModified: lastMod, Sequence: rng.IntN(3),
		}
		switch k := rng.IntN(10); {
		case k == 0: // all-day, 1-3 days
			e.AllDay = true
			e.Start, e.End = sd.In(loc), sd.AddDays(1+rng.IntN(3)).In(loc)
		case k == 1: // multi-day timed
			e.Start = sd.At(clocks[rng.IntN(len(clocks))], loc)
			e.End = e.Start.Add(26*time.Hour + 30*time.Minute)
		default:
			e.Start = sd.At(clocks[rng.IntN(len(clocks))], loc)
			e.End = e.Start.Add(time.Duration(30*(1+rng.IntN(4))) * time.Minute)
		}
		if i%12 == 11 { // a single item
			out = append(out, e)
			continue
		}
		r := &calendar.Recurrence{Interval: 1 + rng.IntN(3), StartDate: sd}
		switch i % 6 {
		case 0:
			r.Pattern = calendar.Daily
		case 1:
			r.Pattern = calendar.Weekly
			r.FirstDayOfWeek = []time.Weekday{time.Sunday, time.Monday}[rng.IntN(2)]
			for _, d := range days {
				if rng.IntN(3) == 0 || d == calendar.Day(sd.Weekday()) {
					r.DaysOfWeek = append(r.DaysOfWeek, d)
				}
			}
		case 2:
			r.Pattern = calendar.AbsoluteMonthly
			r.DayOfMonth = []int{1, 15, 28, 29, 30, 31}[rng.IntN(6)]
		case 3:
			r.Pattern = calendar.RelativeMonthly
			r.Index = calendar.WeekIndex(1 + rng.IntN(5))
			r.DaysOfWeek = []calendar.Day{[]calendar.Day{calendar.Monday, calendar.Friday, calendar.AnyDay, calendar.AnyWeekday, calendar.WeekendDay}[rng.IntN(5)]}
		case 4:
			r.Pattern = calendar.AbsoluteYearly
			r.Month = time.Month(1 + rng.IntN(12))
			r.DayOfMonth = []int{1, 10, 29, 31}[rng.IntN(4)]
			if r.Month == time.February && r.DayOfMonth > 29 {
				r.DayOfMonth = 29
			}
			r.Interval = 1
		case 5:
			r.Pattern = calendar.RelativeYearly
			r.Month = time.Month(1 + rng.IntN(12))
			r.Index = calendar.WeekIndex(1 + rng.IntN(5))
			r.DaysOfWeek = []calendar.Day{[]calendar.Day{calendar.Sunday, calendar.Thursday, calendar.AnyDay, calendar.AnyWeekday, calendar.WeekendDay}[rng.IntN(5)]}
			r.Interval = 1
		}
		switch rng.IntN(3) {
		case 0:
			r.Range = calendar.NoEnd
		case 1:
			r.Range = calendar.EndDate
			r.EndDate = sd.AddDays(30 + rng.IntN(500))
		case 2:
			r.Range = calendar.Numbered
			r.Count = 2 + rng.IntN(40)
		}
		e.Recurrence = r
		// The master's times are those of its first occurrence, as EWS
		// sends them.
		var first []calendar.Occurrence
		e.SeriesStarts(func(s, en time.Time) bool {
			first = append(first, calendar.Occurrence{Start: s, End: en})
			return len(first) < 12
		})
		if len(first) == 0 {
			continue
		}
		e.Start, e.End = first[0].Start, first[0].End
		if len(first) > 3 {
			e.DeletedOccurrences = []time.Time{first[1].Start}
			m := e
			m.Recurrence, m.DeletedOccurrences, m.ModifiedOccurrences = nil, nil, nil
			m.ItemID += "-x"
			m.OriginalStart = first[2].Start
			m.Subject += " (moved)"
			shift := []time.Duration{3 * time.Hour, 24 * time.Hour, -2 * time.Hour}[rng.IntN(3)]
			if e.AllDay {
				shift = 24 * time.Hour
			}
			m.Start, m.End = first[2].Start.Add(shift), first[2].End.Add(shift)
			if e.AllDay {
				m.Start = calendar.DateOf(first[2].Start.In(loc)).AddDays(1).In(loc)
				m.End = calendar.DateOf(first[2].End.In(loc)).AddDays(1).In(loc)
			}
			e.ModifiedOccurrences = []calendar.Event{m}
		}
		out = append(out, e)
	}
	return out
}

// expectedKeys expands events with the model's own semantics
// (calendar.Event.Expand: dates counted in the series' zone, not RRULEs).
func expectedKeys(events []calendar.Event, w0, w1 time.Time) (map[string]int, map[string]*time.Location) {
	want := map[string]int{}
	zoneOf := map[string]*time.Location{}
	for i := range events {
		e := &events[i]
		loc := e.TimeZone.Location()
		zoneOf[e.UID] = loc
		for _, o := range e.Expand(w0, w1) {
			if o.Start.Before(w0) {
				continue
			}
			want[occKey(e.UID, o.Start, o.End, o.Event.AllDay, loc, o.Event.Subject)]++
		}
	}
	return want, zoneOf
}

// TestGeneratedSeriesInProcess checks generated series across many zones
// with icstest (go-ical + rrule-go); it needs no external tools.
func TestGeneratedSeriesInProcess(t *testing.T) {
	t.Parallel()
	events := generateSeries(300, 1)
	w0, w1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	want, zoneOf := expectedKeys(events, w0, w1)
	var buf bytes.Buffer
	if err := Render(&buf, "gen@contoso.com", events, Options{}); err != nil {
		t.Fatal(err)
	}
	occs, err := icstest.Expand(buf.Bytes(), w0.AddDate(0, 0, -3), w1.AddDate(0, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, o := range occs {
		loc := zoneOf[o.UID]
		s, e := o.Start, o.End
		if o.AllDay {
			s, e = calendar.DateOf(s).In(loc), calendar.DateOf(e).In(loc)
		}
		if s.Before(w0) || !s.Before(w1) {
			continue
		}
		got[occKey(o.UID, s, e, o.AllDay, loc, o.Summary)]++
	}
	compareKeys(t, "icstest", got, want)
}

// TestGeneratedSeriesIndependentParsers runs the generated series through
// python-icalendar and ical.js.
func TestGeneratedSeriesIndependentParsers(t *testing.T) {
	cmds := parsers(t)
	events := generateSeries(300, 1)
	w0, w1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	want, zoneOf := expectedKeys(events, w0, w1)
	dir := t.TempDir()
	if _, err := WriteFile(dir, "gen@contoso.com", events, Options{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "gen@contoso.com.ics")
	for _, name := range []string{"python-icalendar", "ical.js"} {
		occs := runParser(t, cmds[name], file, w0.AddDate(0, 0, -3), w1.AddDate(0, 0, 3))
		compareKeys(t, name, parsedKeys(t, occs, zoneOf, w0, w1), want)
	}
}
