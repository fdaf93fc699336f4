package calendar

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func d(y int, m time.Month, day int) Date { return Date{y, m, day} }

// dates lists the local dates of a series' first n occurrences.
func seriesDates(e Event, n int) []Date {
	loc := e.TimeZone.Location()
	var out []Date
	e.SeriesStarts(func(s, _ time.Time) bool {
		out = append(out, DateOf(s.In(loc)))
		return len(out) < n
	})
	return out
}

func TestPatterns(t *testing.T) {
	t.Parallel()
	berlin := &TimeZone{ID: "W. Europe Standard Time"}
	cases := []struct {
		name string
		r    Recurrence
		want []Date
	}{
		{"daily interval 3", Recurrence{Pattern: Daily, Interval: 3, Range: NoEnd, StartDate: d(2026, 1, 30)},
			[]Date{d(2026, 1, 30), d(2026, 2, 2), d(2026, 2, 5)}},
		{"weekly mon+thu from a wednesday", Recurrence{Pattern: Weekly, Interval: 1, DaysOfWeek: []Day{Thursday, Monday}, FirstDayOfWeek: time.Monday, Range: NoEnd, StartDate: d(2026, 3, 4)},
			[]Date{d(2026, 3, 5), d(2026, 3, 9), d(2026, 3, 12)}},
		// Every 2 weeks, weeks starting Sunday: the week of StartDate
		// (Sun 1 Mar) counts, so its Saturday is an occurrence.
		{"weekly interval 2 wkst sunday", Recurrence{Pattern: Weekly, Interval: 2, DaysOfWeek: []Day{Monday, Saturday}, FirstDayOfWeek: time.Sunday, Range: NoEnd, StartDate: d(2026, 3, 3)},
			[]Date{d(2026, 3, 7), d(2026, 3, 16), d(2026, 3, 21), d(2026, 3, 30)}},
		{"weekly interval 2 wkst monday", Recurrence{Pattern: Weekly, Interval: 2, DaysOfWeek: []Day{Monday, Sunday}, FirstDayOfWeek: time.Monday, Range: NoEnd, StartDate: d(2026, 3, 3)},
			[]Date{d(2026, 3, 8), d(2026, 3, 16), d(2026, 3, 22)}},
		{"absolute monthly 31st", Recurrence{Pattern: AbsoluteMonthly, Interval: 1, DayOfMonth: 31, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 31), d(2026, 4, 30)}},
		{"absolute monthly 30th leap", Recurrence{Pattern: AbsoluteMonthly, Interval: 1, DayOfMonth: 30, Range: NoEnd, StartDate: d(2028, 1, 31)},
			[]Date{d(2028, 2, 29), d(2028, 3, 30)}},
		{"absolute monthly interval 2 skips past day", Recurrence{Pattern: AbsoluteMonthly, Interval: 2, DayOfMonth: 10, Range: NoEnd, StartDate: d(2026, 1, 15)},
			[]Date{d(2026, 3, 10), d(2026, 5, 10)}},
		{"relative monthly second monday", Recurrence{Pattern: RelativeMonthly, Interval: 1, Index: Second, DaysOfWeek: []Day{Monday}, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 12), d(2026, 2, 9), d(2026, 3, 9)}},
		{"relative monthly last friday", Recurrence{Pattern: RelativeMonthly, Interval: 1, Index: Last, DaysOfWeek: []Day{Friday}, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 30), d(2026, 2, 27), d(2026, 3, 27)}},
		{"relative monthly last weekday", Recurrence{Pattern: RelativeMonthly, Interval: 1, Index: Last, DaysOfWeek: []Day{AnyWeekday}, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 30), d(2026, 2, 27), d(2026, 3, 31)}},
		{"relative monthly first weekend day", Recurrence{Pattern: RelativeMonthly, Interval: 1, Index: First, DaysOfWeek: []Day{WeekendDay}, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 3), d(2026, 2, 1), d(2026, 3, 1)}},
		{"relative monthly third day", Recurrence{Pattern: RelativeMonthly, Interval: 1, Index: Third, DaysOfWeek: []Day{AnyDay}, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 3), d(2026, 2, 3)}},
		{"absolute yearly feb 29", Recurrence{Pattern: AbsoluteYearly, Month: time.February, DayOfMonth: 29, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 2, 28), d(2027, 2, 28), d(2028, 2, 29)}},
		{"absolute yearly starts next year when past", Recurrence{Pattern: AbsoluteYearly, Month: time.March, DayOfMonth: 1, Range: NoEnd, StartDate: d(2026, 6, 1)},
			[]Date{d(2027, 3, 1), d(2028, 3, 1)}},
		{"relative yearly fourth thursday november", Recurrence{Pattern: RelativeYearly, Month: time.November, Index: Fourth, DaysOfWeek: []Day{Thursday}, Range: NoEnd, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 11, 26), d(2027, 11, 25)}},
		{"numbered", Recurrence{Pattern: Daily, Interval: 1, Range: Numbered, Count: 2, StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 1), d(2026, 1, 2)}},
		{"end date inclusive", Recurrence{Pattern: Weekly, Interval: 1, DaysOfWeek: []Day{Friday}, Range: EndDate, EndDate: d(2026, 1, 16), StartDate: d(2026, 1, 1)},
			[]Date{d(2026, 1, 2), d(2026, 1, 9), d(2026, 1, 16)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := c.r
			e := Event{TimeZone: berlin, Recurrence: &r,
				Start: r.StartDate.At(9*time.Hour, berlin.Location()), End: r.StartDate.At(10*time.Hour, berlin.Location())}
			got := seriesDates(e, len(c.want)+1)
			if r.Range == NoEnd {
				got = got[:min(len(got), len(c.want))]
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestLocalTimeStaysAcrossDST(t *testing.T) {
	t.Parallel()
	tz := &TimeZone{ID: "W. Europe Standard Time"}
	loc := tz.Location()
	e := Event{TimeZone: tz, Start: d(2026, 3, 27).At(9*time.Hour, loc), End: d(2026, 3, 27).At(10*time.Hour, loc),
		Recurrence: &Recurrence{Pattern: Daily, Interval: 1, Range: Numbered, Count: 4, StartDate: d(2026, 3, 27)}}
	var utc []int
	e.SeriesStarts(func(s, en time.Time) bool {
		if h := s.In(loc).Hour(); h != 9 {
			t.Errorf("occurrence %v: got local hour %d, want 9", s, h)
		}
		if en.Sub(s) != time.Hour {
			t.Errorf("occurrence %v: got length %v, want 1h", s, en.Sub(s))
		}
		utc = append(utc, s.UTC().Hour())
		return true
	})
	if want := []int{8, 8, 7, 7}; len(utc) != 4 || utc[0] != want[0] || utc[2] != want[2] {
		t.Errorf("UTC hours: got %v, want %v", utc, want)
	}
}

func TestDateAtGapAndOverlap(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		zone  string
		day   Date
		clock time.Duration
		want  time.Time
	}{
		{"Europe/Berlin", d(2026, 3, 29), 2*time.Hour + 30*time.Minute, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},    // gap: 03:30 CEST
		{"America/New_York", d(2026, 3, 8), 2*time.Hour + 30*time.Minute, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},   // gap: 03:30 EDT
		{"Europe/Berlin", d(2026, 10, 25), 2*time.Hour + 30*time.Minute, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},  // overlap: first (CEST)
		{"America/New_York", d(2026, 11, 1), 1*time.Hour + 30*time.Minute, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)}, // overlap: first (EDT)
		{"America/Havana", d(2026, 3, 8), 0, time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)},                                 // midnight gap: 01:00 CDT
		{"Asia/Tokyo", d(2026, 3, 8), 9 * time.Hour, time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
	} {
		got := c.day.At(c.clock, mustLoc(t, c.zone))
		if !got.Equal(c.want) {
			t.Errorf("%s %v at %v: got %v, want %v", c.zone, c.day, c.clock, got.UTC(), c.want)
		}
	}
}

func TestExpandAndTouchesWindow(t *testing.T) {
	t.Parallel()
	tz := &TimeZone{ID: "Eastern Standard Time"}
	loc := tz.Location()
	e := Event{UID: "x", TimeZone: tz, Start: d(2026, 1, 5).At(9*time.Hour, loc), End: d(2026, 1, 5).At(10*time.Hour, loc),
		Recurrence:         &Recurrence{Pattern: Weekly, Interval: 1, DaysOfWeek: []Day{Monday}, Range: Numbered, Count: 10, StartDate: d(2026, 1, 5)},
		DeletedOccurrences: []time.Time{d(2026, 1, 12).At(9*time.Hour, loc)},
	}
	moved := e
	moved.Recurrence, moved.DeletedOccurrences = nil, nil
	moved.OriginalStart = d(2026, 1, 19).At(9*time.Hour, loc)
	moved.Start, moved.End = d(2026, 6, 1).At(9*time.Hour, loc), d(2026, 6, 1).At(10*time.Hour, loc)
	e.ModifiedOccurrences = []Event{moved}

	jan := e.Expand(d(2026, 1, 1).In(loc), d(2026, 2, 1).In(loc))
	var got []Date
	for _, o := range jan {
		got = append(got, DateOf(o.Start.In(loc)))
	}
	want := []Date{d(2026, 1, 5), d(2026, 1, 26)}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("January: got %v, want %v (12th deleted, 19th moved away)", got, want)
	}
	for _, c := range []struct {
		name       string
		start, end time.Time
		want       bool
	}{
		{"first occurrence", d(2026, 1, 5).At(9*time.Hour+30*time.Minute, loc), d(2026, 1, 5).At(11*time.Hour, loc), true},
		{"deleted occurrence only", d(2026, 1, 12).In(loc), d(2026, 1, 13).In(loc), false},
		{"moved-away original", d(2026, 1, 19).In(loc), d(2026, 1, 20).In(loc), false},
		{"exception moved into june", d(2026, 6, 1).In(loc), d(2026, 6, 2).In(loc), true},
		{"after the last", d(2026, 3, 10).In(loc), d(2026, 5, 1).In(loc), false},
		{"end touches start is outside", d(2026, 1, 5).At(8*time.Hour, loc), d(2026, 1, 5).At(9*time.Hour, loc), false},
		{"before the series", d(2025, 1, 1).In(loc), d(2026, 1, 1).In(loc), false},
	} {
		if got := TouchesWindow(e, c.start, c.end); got != c.want {
			t.Errorf("TouchesWindow %s: got %v, want %v", c.name, got, c.want)
		}
	}
	single := Event{Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
	if !TouchesWindow(single, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("zero-length item inside the window: got false, want true")
	}
}
