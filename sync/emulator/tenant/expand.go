package tenant

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors of OccurrenceAt, named after the EWS response codes they stand for.
var (
	// ErrOccurrenceOutOfRange: ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange.
	ErrOccurrenceOutOfRange = errors.New("tenant: occurrence index is out of the recurrence range")
	// ErrOccurrenceDeleted: ErrorCalendarOccurrenceIsDeletedFromRecurrence.
	ErrOccurrenceDeleted = errors.New("tenant: occurrence is deleted from the recurrence")
)

// maxInstances bounds any walk over a series (a guard against runaway
// loops on a pattern that can never match, not a product limit).
const maxInstances = 200_000

// ---- civil dates ----

// civil dates are represented as time.Time at 00:00 UTC; only their Y-M-D
// and weekday are used.
func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func civilOf(t time.Time) time.Time { y, m, d := t.Date(); return civil(y, m, d) }

// ParseDate parses an EWS recurrence date (yyyy-mm-dd, optionally with a
// zone suffix as in "2014-03-08-08:00", which is ignored: the date is local
// to the item's StartTimeZone).
func ParseDate(s string) (time.Time, error) {
	if len(s) < 10 {
		return time.Time{}, fmt.Errorf("tenant: bad date %q: %w", s, ErrInvalidItem)
	}
	t, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return time.Time{}, fmt.Errorf("tenant: bad date %q: %w", s, ErrInvalidItem)
	}
	return t, nil
}

// FormatDate formats a civil date as EWS writes recurrence dates.
func FormatDate(t time.Time) string { return t.Format("2006-01-02") }

// localToUTC turns a local wall time in loc into an instant the way
// Windows (and so, by inference, Exchange) resolves wall times near DST
// transitions. Win32's TzSpecificLocalTimeToSystemTime(Ex) remarks say a
// repeated (ambiguous) local time is treated as daylight time; a skipped
// one has no valid conversion, and Windows applies the bias in force
// before the jump (standard time). So:
//
//   - a time in the spring-forward gap (02:30 on the last Sunday of March
//     in W. Europe) is read as standard time: 01:30Z, shown as 03:30 CEST;
//   - a time in the fall-back overlap (02:30 on the last Sunday of
//     October) takes the first, daylight-time instant (00:30Z).
//
// The EWS docs do not describe either case; this is inference.
func localToUTC(date time.Time, tod time.Duration, loc *time.Location) time.Time {
	y, m, d := date.Date()
	naive := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(tod)
	want := naive
	var best time.Time
	for _, probe := range []time.Duration{-36 * time.Hour, 36 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		c := naive.Add(-time.Duration(off) * time.Second)
		if sameWall(c.In(loc), want) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: use the offset in force before it.
	_, off := naive.Add(-36 * time.Hour).In(loc).Zone()
	return naive.Add(-time.Duration(off) * time.Second)
}

func sameWall(t, naive time.Time) bool {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	y2, m2, d2 := naive.Date()
	h2, mi2, s2 := naive.Clock()
	return y == y2 && m == m2 && d == d2 && h == h2 && mi == mi2 && s == s2
}

// ---- patterns ----

var indexByName = map[string]int{"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}

var monthByName = func() map[string]time.Month {
	m := map[string]time.Month{}
	for i := time.January; i <= time.December; i++ {
		m[i.String()] = i
	}
	return m
}()

func validateRecurrence(it *Item) error {
	r := it.Recurrence
	bad := func(f string, a ...any) error {
		return fmt.Errorf("recurrence: "+f+": %w", append(a, ErrInvalidItem)...)
	}
	switch r.Pattern {
	case "Daily", "Weekly", "AbsoluteMonthly", "RelativeMonthly":
		if r.Interval < 1 || r.Interval > 999 {
			return bad("interval %d", r.Interval)
		}
	case "AbsoluteYearly", "RelativeYearly":
	default:
		return bad("pattern %q", r.Pattern)
	}
	switch r.Pattern {
	case "Weekly":
		if len(r.DaysOfWeek) == 0 {
			return bad("weekly without days")
		}
		for _, d := range r.DaysOfWeek {
			if _, ok := weekdayByName[d]; !ok {
				return bad("day %q", d)
			}
		}
		if _, ok := weekdayByName[r.FirstDayOfWeek]; r.FirstDayOfWeek != "" && !ok {
			return bad("first day of week %q", r.FirstDayOfWeek)
		}
	case "AbsoluteMonthly", "AbsoluteYearly":
		if r.DayOfMonth < 1 || r.DayOfMonth > 31 {
			return bad("day of month %d", r.DayOfMonth)
		}
	case "RelativeMonthly", "RelativeYearly":
		if len(r.DaysOfWeek) != 1 {
			return bad("relative pattern needs exactly one day, got %v", r.DaysOfWeek)
		}
		if _, ok := weekdayByName[r.DaysOfWeek[0]]; !ok && r.DaysOfWeek[0] != "Day" && r.DaysOfWeek[0] != "Weekday" && r.DaysOfWeek[0] != "WeekendDay" {
			return bad("day %q", r.DaysOfWeek[0])
		}
		if _, ok := indexByName[r.DayOfWeekIndex]; !ok {
			return bad("day of week index %q", r.DayOfWeekIndex)
		}
	}
	if r.Pattern == "AbsoluteYearly" || r.Pattern == "RelativeYearly" {
		if _, ok := monthByName[r.Month]; !ok {
			return bad("month %q", r.Month)
		}
	}
	if r.StartDate != "" {
		if _, err := ParseDate(r.StartDate); err != nil {
			return err
		}
	}
	switch r.Range {
	case "NoEnd":
	case "EndDate":
		if _, err := ParseDate(r.EndDate); err != nil {
			return err
		}
	case "Numbered":
		if r.Count < 1 || r.Count > 999 {
			return bad("count %d", r.Count)
		}
	default:
		return bad("range %q", r.Range)
	}
	return nil
}

// matchesSelector reports whether date's weekday fits a relative selector.
func matchesSelector(wd time.Weekday, sel string) bool {
	switch sel {
	case "Day":
		return true
	case "Weekday":
		return wd != time.Saturday && wd != time.Sunday
	case "WeekendDay":
		return wd == time.Saturday || wd == time.Sunday
	}
	return weekdayByName[sel] == wd
}

// relativeDay returns the day of month of the idx-th (1..4, -1 = last)
// day matching sel in y-m. With "Day", First..Fourth are days 1..4 and
// Last the month's last day; with "Weekday"/"WeekendDay" the n-th such day
// (MS-OXOCAL 2.2.1.44.1 PatternTypeSpecific MonthNth: the day mask with
// N = 1..4 or 5 = last).
func relativeDay(y int, m time.Month, idx int, sel string) int {
	n := daysIn(y, m)
	if idx < 0 {
		for d := n; d >= 1; d-- {
			if matchesSelector(civil(y, m, d).Weekday(), sel) {
				return d
			}
		}
		return 0
	}
	k := 0
	for d := 1; d <= n; d++ {
		if matchesSelector(civil(y, m, d).Weekday(), sel) {
			k++
			if k == idx {
				return d
			}
		}
	}
	return 0
}

// clampDay gives the day Exchange uses for an absolute day of month: the
// day itself, or the month's last day when the month is shorter (Outlook's
// recurrence dialog says "Some months have fewer than 31 days. For these
// months, the occurrence will fall on the last day of the month."; the
// same holds for 29/30 and for February 29 in a yearly pattern).
func clampDay(y int, m time.Month, dom int) int { return min(dom, daysIn(y, m)) }

// patternDates calls yield with each date of the pattern, in order, on or
// after start and not after limit. It knows nothing of ranges.
func patternDates(r *Recurrence, start, limit time.Time, yield func(time.Time) bool) {
	emit := func(d time.Time) bool {
		if d.Before(start) {
			return true
		}
		return yield(d)
	}
	sy, sm, _ := start.Date()
	switch r.Pattern {
	case "Daily":
		for d := start; !d.After(limit); d = d.AddDate(0, 0, r.Interval) {
			if !emit(d) {
				return
			}
		}
	case "Weekly":
		fdow := time.Sunday // EWS default FirstDayOfWeek
		if r.FirstDayOfWeek != "" {
			fdow = weekdayByName[r.FirstDayOfWeek]
		}
		var offs []int
		for _, name := range r.DaysOfWeek {
			o := (int(weekdayByName[name]) - int(fdow) + 7) % 7
			if !slices.Contains(offs, o) {
				offs = append(offs, o)
			}
		}
		slices.Sort(offs)
		// Weeks are counted from the week (per FirstDayOfWeek) that holds
		// the start date; every Interval-th week is a recurrence week.
		ws := start.AddDate(0, 0, -((int(start.Weekday()) - int(fdow) + 7) % 7))
		for ; !ws.After(limit); ws = ws.AddDate(0, 0, 7*r.Interval) {
			for _, o := range offs {
				d := ws.AddDate(0, 0, o)
				if d.After(limit) {
					return
				}
				if !emit(d) {
					return
				}
			}
		}
	case "AbsoluteMonthly", "RelativeMonthly":
		idx := indexByName[r.DayOfWeekIndex]
		for k := 0; ; k += r.Interval {
			first := civil(sy, sm+time.Month(k), 1)
			if first.After(limit) {
				return
			}
			y, m, _ := first.Date()
			var day int
			if r.Pattern == "AbsoluteMonthly" {
				day = clampDay(y, m, r.DayOfMonth)
			} else {
				day = relativeDay(y, m, idx, r.DaysOfWeek[0])
			}
			if day == 0 {
				continue
			}
			d := civil(y, m, day)
			if d.After(limit) {
				return
			}
			if !emit(d) {
				return
			}
		}
	case "AbsoluteYearly", "RelativeYearly":
		m := monthByName[r.Month]
		idx := indexByName[r.DayOfWeekIndex]
		for y := sy; civil(y, 1, 1).Before(limit) || civil(y, 1, 1).Equal(limit); y++ {
			var day int
			if r.Pattern == "AbsoluteYearly" {
				day = clampDay(y, m, r.DayOfMonth)
			} else {
				day = relativeDay(y, m, idx, r.DaysOfWeek[0])
			}
			d := civil(y, m, day)
			if d.After(limit) {
				return
			}
			if !emit(d) {
				return
			}
		}
	}
}

// series is a master prepared for expansion.
type series struct {
	it        *Item
	loc       *time.Location
	startDate time.Time     // civil, first date the pattern may match
	endDate   time.Time     // civil, inclusive; zero for NoEnd/Numbered
	count     int           // Numbered; 0 otherwise
	tod       time.Duration // local time of day of the master's start
	dur       time.Duration // timed items
	days      int           // all-day items: length in local days
	deleted   map[int64]bool
	modified  map[int64]*Item
	lastMod   time.Time // latest OriginalStart of an exception
}

func newSeries(it *Item) (*series, error) {
	r := it.Recurrence
	loc := location(it.StartTimeZone)
	ls := it.Start.In(loc)
	s := &series{it: it, loc: loc, dur: it.End.Sub(it.Start)}
	s.tod = time.Duration(ls.Hour())*time.Hour + time.Duration(ls.Minute())*time.Minute + time.Duration(ls.Second())*time.Second
	s.startDate = civilOf(ls)
	if r.StartDate != "" {
		d, err := ParseDate(r.StartDate)
		if err != nil {
			return nil, err
		}
		s.startDate = d
	}
	if it.AllDay {
		s.tod = 0
		s.days = int(civilOf(it.End.In(loc)).Sub(civilOf(ls)).Hours()/24 + 0.5)
	}
	switch r.Range {
	case "EndDate":
		d, err := ParseDate(r.EndDate)
		if err != nil {
			return nil, err
		}
		s.endDate = d
	case "Numbered":
		s.count = r.Count
	}
	s.deleted = make(map[int64]bool, len(it.DeletedOccurrences))
	for _, d := range it.DeletedOccurrences {
		s.deleted[d.UnixNano()] = true
	}
	s.modified = make(map[int64]*Item, len(it.ModifiedOccurrences))
	for i := range it.ModifiedOccurrences {
		e := &it.ModifiedOccurrences[i]
		s.modified[e.OriginalStart.UnixNano()] = e
		if e.OriginalStart.After(s.lastMod) {
			s.lastMod = e.OriginalStart
		}
	}
	return s, nil
}

// instance is one slot of a series before exceptions are applied.
type instance struct {
	index      int
	start, end time.Time
}

func (s *series) instanceAt(index int, date time.Time) instance {
	if s.it.AllDay {
		st := localToUTC(date, 0, s.loc)
		en := localToUTC(date.AddDate(0, 0, s.days), 0, s.loc)
		return instance{index, st, en}
	}
	st := localToUTC(date, s.tod, s.loc)
	return instance{index, st, st.Add(s.dur)}
}

// walk calls fn with every instance of the series (deleted ones included)
// in order, until fn returns false, the range ends, or the local date
// passes limit.
func (s *series) walk(limit time.Time, fn func(instance) bool) {
	if !s.endDate.IsZero() && s.endDate.Before(limit) {
		limit = s.endDate
	}
	n := 0
	patternDates(s.it.Recurrence, s.startDate, limit, func(d time.Time) bool {
		n++
		if (s.count > 0 && n > s.count) || n > maxInstances {
			return false
		}
		return fn(s.instanceAt(n, d))
	})
}

// occurrenceFor turns an instance into a view entry: the exception when the
// instance was modified; ok is false when it was deleted.
func (s *series) occurrenceFor(in instance) (Occurrence, bool) {
	key := in.start.UnixNano()
	if s.deleted[key] {
		return Occurrence{}, false
	}
	m := s.it
	if e, ok := s.modified[key]; ok {
		return Occurrence{
			ItemID: e.ID, MasterID: m.ID, UID: m.UID, InstanceIndex: in.index, Type: "Exception",
			Subject: e.Subject, Start: e.Start, End: e.End, OriginalStart: in.start,
			AllDay: e.AllDay, FreeBusy: e.FreeBusy, Sensitivity: e.Sensitivity, IsCancelled: e.IsCancelled,
		}, true
	}
	return Occurrence{
		ItemID: OccurrenceID(m.ID, in.index), MasterID: m.ID, UID: m.UID, InstanceIndex: in.index, Type: "Occurrence",
		Subject: m.Subject, Start: in.start, End: in.end, OriginalStart: in.start,
		AllDay: m.AllDay, FreeBusy: m.FreeBusy, Sensitivity: m.Sensitivity, IsCancelled: m.IsCancelled,
	}, true
}

// overlaps is CalendarView's match: the item ends after the view's start
// and starts before its end. A zero-length item matches when it starts in
// [start, end) (inferred: the docs do not cover zero-length items).
func overlaps(s, e, vs, ve time.Time) bool {
	if s.Equal(e) {
		return !s.Before(vs) && s.Before(ve)
	}
	return e.After(vs) && s.Before(ve)
}

func expand(it Item, start, end time.Time) []Occurrence {
	out := expandInto(nil, &it, start, end)
	sortOccurrences(out)
	return out
}

// expandInto appends it's view entries over [start, end) to out, unsorted.
func expandInto(out []Occurrence, itp *Item, start, end time.Time) []Occurrence {
	it := *itp
	if it.Recurrence == nil {
		if overlaps(it.Start, it.End, start, end) {
			out = append(out, Occurrence{
				ItemID: it.ID, UID: it.UID, Type: "Single", Subject: it.Subject,
				Start: it.Start, End: it.End, AllDay: it.AllDay, FreeBusy: it.FreeBusy,
				Sensitivity: it.Sensitivity, IsCancelled: it.IsCancelled,
			})
		}
		return out
	}
	s, err := newSeries(itp)
	if err != nil {
		return out
	}
	// Walk until instances start after the view, and past the last
	// exception's original start (an exception may be moved into the view).
	bound := end
	if s.lastMod.After(bound) {
		bound = s.lastMod
	}
	limit := civilOf(bound.In(s.loc)).AddDate(0, 0, 1)
	s.walk(limit, func(in instance) bool {
		if !in.start.Before(end) && in.start.After(s.lastMod) {
			return false
		}
		if o, ok := s.occurrenceFor(in); ok && overlaps(o.Start, o.End, start, end) {
			out = append(out, o)
		}
		return true
	})
	return out
}

func sortOccurrences(out []Occurrence) {
	slices.SortFunc(out, func(a, b Occurrence) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ItemID, b.ItemID)
	})
}

// nthOccurrence returns the index-th instance of a series (deleted or not;
// an exception when modified) with OriginalStart set.
func nthOccurrence(it Item, index int) (Occurrence, bool) {
	if it.Recurrence == nil || index < 1 {
		return Occurrence{}, false
	}
	s, err := newSeries(&it)
	if err != nil {
		return Occurrence{}, false
	}
	var found *instance
	far := civil(9999, 12, 31)
	s.walk(far, func(in instance) bool {
		if in.index == index {
			found = &in
			return false
		}
		return true
	})
	if found == nil {
		return Occurrence{}, false
	}
	if o, ok := s.occurrenceFor(*found); ok {
		return o, true
	}
	return Occurrence{ItemID: OccurrenceID(it.ID, index), MasterID: it.ID, UID: it.UID, InstanceIndex: index,
		Type: "Occurrence", Start: found.start, End: found.end, OriginalStart: found.start}, true
}

// OccurrenceAt returns the index-th (1-based) occurrence of the series
// masterID, as GetItem with an OccurrenceItemId would: the plain
// occurrence or its exception. It fails with ErrNoItem (not a series),
// ErrOccurrenceOutOfRange or ErrOccurrenceDeleted.
func (t *Tenant) OccurrenceAt(mailbox, masterID string, index int) (Occurrence, error) {
	m, ok := t.Item(mailbox, masterID)
	if !ok || m.Recurrence == nil {
		return Occurrence{}, fmt.Errorf("tenant: occurrence %d of %s: %w", index, masterID, ErrNoItem)
	}
	o, ok := nthOccurrence(m, index)
	if !ok {
		return Occurrence{}, fmt.Errorf("tenant: occurrence %d of %s: %w", index, masterID, ErrOccurrenceOutOfRange)
	}
	if slices.ContainsFunc(m.DeletedOccurrences, o.OriginalStart.Equal) {
		return Occurrence{}, fmt.Errorf("tenant: occurrence %d of %s: %w", index, masterID, ErrOccurrenceDeleted)
	}
	return o, nil
}

// FirstLast returns a series' first and last instances as EWS's
// FirstOccurrence and LastOccurrence report them (deleted instances are
// skipped; an exception appears at its modified times). hasLast is false
// for a NoEnd series.
func FirstLast(it Item) (first, last Occurrence, hasLast bool) {
	if it.Recurrence == nil {
		return
	}
	s, err := newSeries(&it)
	if err != nil {
		return
	}
	limit := civil(9999, 12, 31)
	if it.Recurrence.Range == "NoEnd" {
		// Only the first is needed.
		s.walk(limit, func(in instance) bool {
			o, ok := s.occurrenceFor(in)
			if ok {
				first = o
			}
			return !ok
		})
		return first, Occurrence{}, false
	}
	got := false
	s.walk(limit, func(in instance) bool {
		if o, ok := s.occurrenceFor(in); ok {
			if !got {
				first, got = o, true
			}
			last = o
		}
		return true
	})
	return first, last, got
}

func (s *state) calendarView(addr string, start, end time.Time) []Occurrence {
	s.mu.RLock()
	mb := s.box(addr)
	if mb == nil {
		s.mu.RUnlock()
		return nil
	}
	out := make([]Occurrence, 0, 4*len(mb.items))
	for _, it := range mb.items {
		out = expandInto(out, it, start, end)
	}
	s.mu.RUnlock()
	sortOccurrences(out)
	return out
}
