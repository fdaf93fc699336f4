package calendar

import (
	"sort"
	"time"
)

// Occurrence is one instance of an event: a single event, an occurrence of
// a series, or a modified occurrence (exception).
type Occurrence struct {
	Start, End time.Time
	// OriginalStart is the start the pattern gives this occurrence; zero
	// for a single event.
	OriginalStart time.Time
	// Event is the single event, the series master, or the exception.
	Event *Event
	// Exception is true for a modified occurrence.
	Exception bool
}

// maxOccurrences bounds the work of one expansion (a daily series over
// thirty years has fewer than 11,000 occurrences).
const maxOccurrences = 1_000_000

// touches reports whether [s, e) meets [start, end) the way Exchange's
// CalendarView counts it: it starts before end and ends after start; a
// zero-length item counts when it starts inside the window.
func touches(s, e, start, end time.Time) bool {
	if !s.Before(end) {
		return false
	}
	if e.After(start) {
		return true
	}
	return !e.After(s) && !s.Before(start)
}

// TouchesWindow reports whether any occurrence of e (itself, or for a
// series any occurrence or exception that is not deleted) touches
// [start, end).
func TouchesWindow(e Event, start, end time.Time) bool {
	found := false
	e.expand(start, end, func(Occurrence) bool { found = true; return false })
	return found
}

// Expand returns the occurrences of e that touch [start, end), sorted by
// start then original start: for a single event the event itself, for a
// series its occurrences (deleted ones left out, modified ones replaced by
// the exception, wherever it was moved).
func (e *Event) Expand(start, end time.Time) []Occurrence {
	var out []Occurrence
	e.expand(start, end, func(o Occurrence) bool { out = append(out, o); return true })
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].OriginalStart.Before(out[j].OriginalStart)
	})
	return out
}

// expand calls yield for each occurrence touching the window, in no
// particular order, until yield returns false.
func (e *Event) expand(start, end time.Time, yield func(Occurrence) bool) {
	if e.Recurrence == nil {
		if touches(e.Start, e.End, start, end) {
			yield(Occurrence{Start: e.Start, End: e.End, Event: e})
		}
		return
	}
	skip := make(map[int64]bool, len(e.DeletedOccurrences)+len(e.ModifiedOccurrences))
	for _, d := range e.DeletedOccurrences {
		skip[d.UnixNano()] = true
	}
	for i := range e.ModifiedOccurrences {
		m := &e.ModifiedOccurrences[i]
		skip[m.OriginalStart.UnixNano()] = true
		if touches(m.Start, m.End, start, end) {
			if !yield(Occurrence{Start: m.Start, End: m.End, OriginalStart: m.OriginalStart, Event: m, Exception: true}) {
				return
			}
		}
	}
	e.SeriesStarts(func(s, en time.Time) bool {
		if !s.Before(end) {
			return false
		}
		if skip[s.UnixNano()] || !touches(s, en, start, end) {
			return true
		}
		return yield(Occurrence{Start: s, End: en, OriginalStart: s, Event: e})
	})
}

// SeriesStarts calls yield with the start and end of every occurrence the
// pattern generates (deleted and modified ones included, as they were
// before any change), in order, until yield returns false or the range
// ends. It does nothing for a single event.
//
// Semantics (Exchange's): dates are local dates in the series' zone; the
// pattern's periods (weeks starting on FirstDayOfWeek, months, years) are
// counted from the period holding StartDate; occurrences before StartDate
// are skipped; a DayOfMonth past the month's end falls on the month's last
// day; an EndDate range keeps occurrences on or before EndDate; a Numbered
// range keeps the first Count. Every occurrence starts at the master's
// local time of day and lasts as long as the master (all-day: as many
// days).
func (e *Event) SeriesStarts(yield func(start, end time.Time) bool) {
	r := e.Recurrence
	if r == nil {
		return
	}
	loc := e.TimeZone.Location()
	ls := e.Start.In(loc)
	clock := time.Duration(ls.Hour())*time.Hour + time.Duration(ls.Minute())*time.Minute +
		time.Duration(ls.Second())*time.Second + time.Duration(ls.Nanosecond())
	dur := e.End.Sub(e.Start)
	days := 0
	if e.AllDay {
		days = daysBetween(DateOf(ls), DateOf(e.End.In(loc)))
		if days < 1 {
			days = 1
		}
	}
	occ := func(d Date) (time.Time, time.Time) {
		if e.AllDay {
			return d.In(loc), d.AddDays(days).In(loc)
		}
		s := d.At(clock, loc)
		return s, s.Add(dur)
	}
	n := 0
	r.dates(func(d Date) bool {
		if r.Range == EndDate && r.EndDate.Before(d) {
			return false
		}
		if r.Range == Numbered && n >= r.Count {
			return false
		}
		n++
		if n > maxOccurrences {
			return false
		}
		s, en := occ(d)
		return yield(s, en)
	})
}

// FirstDate returns the date of the series' first occurrence (the first
// date the pattern gives on or after StartDate); ok is false when the
// range holds no occurrence.
func (r *Recurrence) FirstDate() (d Date, ok bool) {
	r.dates(func(x Date) bool { d, ok = x, true; return false })
	if ok && r.Range == EndDate && r.EndDate.Before(d) {
		return Date{}, false
	}
	if ok && r.Range == Numbered && r.Count < 1 {
		return Date{}, false
	}
	return d, ok
}

// dates calls yield with every date of the pattern on or after StartDate,
// in order (ignoring the range's end), until yield returns false.
func (r *Recurrence) dates(yield func(Date) bool) {
	interval := r.Interval
	if interval < 1 || r.Pattern == AbsoluteYearly || r.Pattern == RelativeYearly {
		interval = 1
	}
	sd := r.StartDate
	if sd.IsZero() {
		return
	}
	// A generous bound on periods, so that a pattern that never matches
	// (which the model should not hold) cannot loop forever.
	const maxPeriods = 200_000
	switch r.Pattern {
	case Daily:
		for k := 0; k < maxOccurrences; k++ {
			if !yield(sd.AddDays(k * interval)) {
				return
			}
		}
	case Weekly:
		var offs []int
		seen := map[int]bool{}
		for _, d := range r.DaysOfWeek {
			wd, ok := d.Weekday()
			if !ok {
				continue
			}
			o := (int(wd) - int(r.FirstDayOfWeek) + 7) % 7
			if !seen[o] {
				seen[o] = true
				offs = append(offs, o)
			}
		}
		if len(offs) == 0 {
			return
		}
		sort.Ints(offs)
		weekStart := sd.AddDays(-((int(sd.Weekday()) - int(r.FirstDayOfWeek) + 7) % 7))
		for k := 0; k < maxPeriods; k++ {
			for _, o := range offs {
				d := weekStart.AddDays(k*7*interval + o)
				if d.Before(sd) {
					continue
				}
				if !yield(d) {
					return
				}
			}
		}
	case AbsoluteMonthly, RelativeMonthly, AbsoluteYearly, RelativeYearly:
		step, month := interval, sd.Month
		if r.Pattern == AbsoluteYearly || r.Pattern == RelativeYearly {
			step, month = 12, r.Month
			if month < time.January || month > time.December {
				return
			}
		}
		y, m := sd.Year, month
		if r.Pattern == AbsoluteYearly || r.Pattern == RelativeYearly {
			// The year's month on or after the start month.
			if m < sd.Month {
				y++
			}
		}
		for k := 0; k < maxPeriods; k++ {
			mm := int(m) - 1 + k*step
			yy, mo := y+mm/12, time.Month(mm%12+1)
			var d Date
			var ok bool
			if r.Pattern == AbsoluteMonthly || r.Pattern == AbsoluteYearly {
				d, ok = absoluteDay(yy, mo, r.DayOfMonth)
			} else {
				d, ok = relativeDay(yy, mo, r.Index, r.DaysOfWeek)
			}
			if !ok {
				return
			}
			if d.Before(sd) {
				continue
			}
			if !yield(d) {
				return
			}
		}
	}
}

// absoluteDay is day dom of the month, or the month's last day when the
// month is shorter.
func absoluteDay(y int, m time.Month, dom int) (Date, bool) {
	if dom < 1 || dom > 31 {
		return Date{}, false
	}
	if n := DaysIn(y, m); dom > n {
		dom = n
	}
	return Date{y, m, dom}, true
}

// relativeDay is the index-th day of the month that is in the set named by
// days (a single weekday, AnyDay, AnyWeekday or WeekendDay).
func relativeDay(y int, m time.Month, idx WeekIndex, days []Day) (Date, bool) {
	if len(days) != 1 || idx < First || idx > Last {
		return Date{}, false
	}
	in := func(wd time.Weekday) bool {
		switch d := days[0]; d {
		case AnyDay:
			return true
		case AnyWeekday:
			return wd >= time.Monday && wd <= time.Friday
		case WeekendDay:
			return wd == time.Saturday || wd == time.Sunday
		default:
			w, ok := d.Weekday()
			return ok && w == wd
		}
	}
	n := DaysIn(y, m)
	var arr [31]int
	match := arr[:0]
	first := Date{y, m, 1}.Weekday()
	for day := 1; day <= n; day++ {
		if in((first + time.Weekday(day-1)) % 7) {
			match = append(match, day)
		}
	}
	if len(match) == 0 {
		return Date{}, false
	}
	i := int(idx) - 1
	if idx == Last || i >= len(match) {
		i = len(match) - 1
	}
	return Date{y, m, match[i]}, true
}

// DaysIn returns the number of days in month m of year y.
func DaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return DateOf(d.utc().AddDate(0, 0, n)) }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.utc().Before(o.utc()) }

func daysBetween(a, b Date) int { return int(b.utc().Sub(a.utc()).Hours() / 24) }
