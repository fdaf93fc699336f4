package ics

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/exocal/exocal/sync/calendar"
)

const (
	dateFormat     = "20060102"
	localFormat    = "20060102T150405"
	utcFormat      = "20060102T150405Z"
	privateSummary = "Private appointment"
)

// Render writes the iCalendar file of mailbox's events to w.
func Render(w io.Writer, mailbox string, events []calendar.Event, opts Options) error {
	out, err := render(mailbox, events, opts)
	if err != nil {
		return err
	}
	_, err = out.WriteTo(w)
	return err
}

// zoneUse collects the zones a file uses and the years it needs them for.
type zoneUse struct {
	zones map[string]*usedZone
	gaps  map[string][][2]time.Duration // TZID → wall-clock windows DST skips
	moves map[string][]time.Duration    // TZID → wall-clock times of DST changes
}

// mayCross reports whether an occurrence starting at wall-clock time c and
// lasting length may contain a DST change of rz (a cheap superset test).
func (u *zoneUse) mayCross(rz calendar.ResolvedZone, c, length time.Duration) bool {
	if rz.Kind == calendar.ZoneUTC || length <= 0 {
		return false
	}
	ts, ok := u.moves[rz.TZID]
	if !ok {
		ts = factsOf(rz.Location).moves
		u.moves[rz.TZID] = ts
	}
	if len(ts) == 0 {
		return false
	}
	if length >= 20*time.Hour {
		return true
	}
	const day = 24 * time.Hour
	for _, t := range ts {
		// Does [c, c+length] come within two hours of t (mod a day)?
		d := ((t-c)%day + day) % day
		if d < length+2*time.Hour || d > day-2*time.Hour {
			return true
		}
	}
	return false
}

// gapAt reports whether the wall-clock time c of day falls in a window a
// DST change of rz skips in some year from 1970 to 2100.
func (u *zoneUse) gapAt(rz calendar.ResolvedZone, c time.Duration) bool {
	if rz.Kind == calendar.ZoneUTC {
		return false
	}
	ws, ok := u.gaps[rz.TZID]
	if !ok {
		ws = factsOf(rz.Location).gaps
		u.gaps[rz.TZID] = ws
	}
	for _, w := range ws {
		if c >= w[0] && c < w[1] || w[1] > 24*time.Hour && c < w[1]-24*time.Hour {
			return true
		}
	}
	return false
}

// zoneFacts are a location's DST changes from minZoneYear to maxZoneYear:
// the wall-clock times of day they happen at, and the windows of wall-clock
// time they skip.
type zoneFacts struct {
	moves []time.Duration
	gaps  [][2]time.Duration
}

// zoneFactsCache maps a *time.Location to its *zoneFacts. Walking 130
// years of transitions costs more than rendering a mailbox's events, and
// the same few locations come back in every mailbox (sync/calendar caches
// the locations it resolves; a Location never changes), so they are
// computed once per process.
var zoneFactsCache sync.Map

func factsOf(loc *time.Location) *zoneFacts {
	if f, ok := zoneFactsCache.Load(loc); ok {
		return f.(*zoneFacts)
	}
	f := &zoneFacts{}
	seenMove := map[time.Duration]bool{}
	seenGap := map[[2]time.Duration]bool{}
	begin := time.Date(minZoneYear, 1, 1, 0, 0, 0, 0, loc)
	stop := time.Date(maxZoneYear, 1, 1, 0, 0, 0, 0, loc)
	for _, tr := range transitionsBetween(loc, begin, stop) {
		c := clockOf(tr.local)
		if tr.from != tr.to && !seenMove[c] {
			seenMove[c] = true
			f.moves = append(f.moves, c)
		}
		if tr.to > tr.from {
			w := [2]time.Duration{c, c + time.Duration(tr.to-tr.from)*time.Second}
			if !seenGap[w] {
				seenGap[w] = true
				f.gaps = append(f.gaps, w)
			}
		}
	}
	got, _ := zoneFactsCache.LoadOrStore(loc, f)
	return got.(*zoneFacts)
}

// ambiguous reports whether t's wall-clock time in rz occurs twice (a DST
// change repeats it).
func ambiguous(t time.Time, rz calendar.ResolvedZone) bool {
	if rz.Kind == calendar.ZoneUTC {
		return false
	}
	lt := t.In(rz.Location)
	_, off := lt.Zone()
	wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), 0, time.UTC)
	for _, probe := range []time.Duration{-26 * time.Hour, 26 * time.Hour} {
		_, o := wall.Add(probe).In(rz.Location).Zone()
		if o == off {
			continue
		}
		if _, o2 := wall.Add(-time.Duration(o) * time.Second).In(rz.Location).Zone(); o2 == o {
			return true
		}
	}
	return false
}

// exactTime writes t in ts's zone, or in UTC when its wall time there is
// ambiguous.
func (w *worker) exactTime(ts timeSpec, name *propName, t time.Time) {
	if !ts.allDay && ambiguous(t, ts.rz) {
		w.enc.val = appendUTC(w.enc.val[:0], t)
		w.enc.prop(name, w.enc.val)
		return
	}
	w.time(ts, name, t)
}

// horizonOf is how far ahead a never-ending series has instances listed
// explicitly (February RDATEs, DST-gap overrides).
func horizonOf(e *calendar.Event, start time.Time) time.Time {
	return time.Date(max(start.Year(), e.LastModified.Year())+rdateYears, 1, 1, 0, 0, 0, 0, time.UTC)
}

type usedZone struct {
	rz             calendar.ResolvedZone
	minYear, maxYr int
}

func (u *zoneUse) add(rz calendar.ResolvedZone, years ...int) {
	if rz.Kind == calendar.ZoneUTC {
		return
	}
	z := u.zones[rz.TZID]
	if z == nil {
		z = &usedZone{rz: rz, minYear: years[0], maxYr: years[0]}
		u.zones[rz.TZID] = z
	}
	for _, y := range years {
		z.minYear = min(z.minYear, y)
		z.maxYr = max(z.maxYr, y)
	}
}

// vevent is one encoded VEVENT and its sort key.
type vevent struct {
	uid, recurrenceID, itemID string
	lo, hi                    int             // where it is in its worker's buffer
	data                      []byte          // the encoded VEVENT (buffer[lo:hi])
	comp                      *ical.Component // the same, as go-ical's model (encoder tree mode only)
}

func compareVevents(a, b *vevent) int {
	if c := strings.Compare(a.uid, b.uid); c != 0 {
		return c
	}
	if c := strings.Compare(a.recurrenceID, b.recurrenceID); c != 0 {
		return c
	}
	return strings.Compare(a.itemID, b.itemID)
}

// sortVevents returns the indices of vs in the order of compareVevents,
// equal ones in their order in vs (a stable sort). UIDs often share a long
// prefix (Exchange's all start with the same 40 hex digits), so the sort
// compares 16 bytes of the UIDs after their common prefix first.
func sortVevents(vs []vevent) []int32 {
	prefix := 0
	if len(vs) > 0 {
		first := vs[0].uid
		prefix = len(first)
		for i := 1; i < len(vs) && prefix > 0; i++ {
			u := vs[i].uid
			n := min(prefix, len(u))
			j := 0
			for j < n && u[j] == first[j] {
				j++
			}
			prefix = j
		}
	}
	type item struct {
		k0, k1 uint64 // uid[prefix:prefix+16], big-endian, 0-padded
		idx    int32
	}
	items := make([]item, len(vs))
	for i := range vs {
		u := vs[i].uid[prefix:]
		items[i] = item{k0: prefixKey(u), idx: int32(i)}
		if len(u) > 8 {
			items[i].k1 = prefixKey(u[8:])
		}
	}
	// key(a) < key(b) implies uid(a) < uid(b) (a 0 pad is below any byte
	// or equal to a NUL, and equal keys fall back to the full comparison).
	slices.SortFunc(items, func(a, b item) int {
		if a.k0 != b.k0 {
			if a.k0 < b.k0 {
				return -1
			}
			return 1
		}
		if a.k1 != b.k1 {
			if a.k1 < b.k1 {
				return -1
			}
			return 1
		}
		if c := compareVevents(&vs[a.idx], &vs[b.idx]); c != 0 {
			return c
		}
		return int(a.idx - b.idx)
	})
	order := make([]int32, len(items))
	for i, it := range items {
		order[i] = it.idx
	}
	return order
}

// prefixKey returns the first 8 bytes of s, big-endian, 0-padded.
func prefixKey(s string) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k
}

// worker renders events into its own encoder.
type worker struct {
	enc     *encoder
	use     *zoneUse
	opts    Options
	vevents []vevent
	lo      int     // where the open VEVENT starts in enc.buf
	skip    []int64 // scratch: deleted and modified original starts
	exdates []exdate
}

type exdate struct {
	key string
	t   time.Time
}

// render builds the calendar. Events are rendered and encoded by one
// worker per CPU over contiguous chunks of the input; each worker sorts
// its VEVENTs by UID, RECURRENCE-ID and item id (stable), and the sorted
// runs are merged in chunk order, so the result is that of one stable
// sort of the input order and does not depend on the workers. With tree
// set, the calendar is also returned as go-ical components (tests).
func render(mailbox string, events []calendar.Event, opts Options) (*output, error) {
	out, _, err := renderTree(mailbox, events, opts, false)
	return out, err
}

func renderTree(mailbox string, events []calendar.Event, opts Options, tree bool) (*output, *ical.Calendar, error) {
	workers := min(runtime.GOMAXPROCS(0), max(len(events)/500, 1))
	type result struct {
		vevents []vevent
		order   []int32 // vevents' indices, sorted
		use     *zoneUse
		err     error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	for wi := range workers {
		lo, hi := len(events)*wi/workers, len(events)*(wi+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{
				enc:     &encoder{buf: make([]byte, 0, (hi-lo)*1100), tree: tree},
				use:     newZoneUse(),
				opts:    opts,
				vevents: make([]vevent, 0, (hi-lo)*5/4+8),
			}
			for i := lo; i < hi; i++ {
				if err := w.renderEvent(&events[i]); err != nil {
					results[wi].err = err
					return
				}
			}
			buf := w.enc.buf
			for i := range w.vevents {
				v := &w.vevents[i]
				v.data = buf[v.lo:v.hi:v.hi]
			}
			vs := w.vevents
			order := sortVevents(vs)
			results[wi] = result{vevents: vs, order: order, use: w.use}
		}()
	}
	wg.Wait()
	use := newZoneUse()
	count := 0
	for _, r := range results {
		if r.err != nil {
			return nil, nil, r.err
		}
		use.merge(r.use)
		count += len(r.vevents)
	}

	tzids := make([]string, 0, len(use.zones))
	for id := range use.zones {
		tzids = append(tzids, id)
	}
	sort.Strings(tzids)
	enc := &encoder{buf: make([]byte, 0, 1024+len(tzids)*2048), tree: tree}
	enc.begin(ical.CompCalendar)
	enc.prop(pCalendarScale, []byte("GREGORIAN"))
	enc.prop(pProductID, []byte(ProductID))
	enc.prop(pVersion, []byte("2.0"))
	enc.val = appendText(enc.val[:0], mailbox)
	enc.prop(pCalName, enc.val)
	for _, id := range tzids {
		z := use.zones[id]
		if err := enc.component(vtimezone(z.rz, z.minYear, z.maxYr)); err != nil {
			return nil, nil, fmt.Errorf("ics: encode time zone %q: %w", id, err)
		}
	}
	// Merge the workers' sorted runs; on equal keys the earlier chunk
	// first (a stable sort of the whole).
	enc.flushProps()
	out := &output{parts: make([][]byte, 0, count+2)}
	head := len(enc.buf)
	out.add(enc.buf[:head:head])
	heads := make([]int, len(results))
	next := func(ri int) *vevent { return &results[ri].vevents[results[ri].order[heads[ri]]] }
	for range count {
		best := -1
		for ri := range results {
			if heads[ri] == len(results[ri].order) {
				continue
			}
			if best < 0 || compareVevents(next(ri), next(best)) < 0 {
				best = ri
			}
		}
		v := next(best)
		heads[best]++
		out.add(v.data)
		if tree {
			enc.attach(v.comp)
		}
	}
	enc.end(ical.CompCalendar)
	out.add(enc.buf[head:])
	if enc.err != nil {
		return nil, nil, fmt.Errorf("ics: encode calendar of %q: %w", mailbox, enc.err)
	}
	if !tree {
		return out, nil, nil
	}
	return out, &ical.Calendar{Component: enc.roots[0]}, nil
}

func newZoneUse() *zoneUse {
	return &zoneUse{zones: map[string]*usedZone{}, gaps: map[string][][2]time.Duration{}, moves: map[string][]time.Duration{}}
}

// merge adds o's zones and years to u.
func (u *zoneUse) merge(o *zoneUse) {
	for _, z := range o.zones {
		u.add(z.rz, z.minYear, z.maxYr)
	}
}

// timeSpec says how an event writes its instants.
type timeSpec struct {
	rz     calendar.ResolvedZone
	allDay bool
	// clock is a series' local time of day: an instance whose wall time
	// does not exist (skipped by a DST change) is written as the nominal
	// time the RRULE generates, not as the instant's shifted wall time.
	clock    time.Duration
	hasClock bool
}

// nominal returns the wall-clock time (as a UTC time.Time) the recurrence
// gives t when t is an instance moved by a DST gap, and ok=false
// otherwise.
func (ts timeSpec) nominal(t time.Time) (wall time.Time, ok bool) {
	if !ts.hasClock || ts.allDay || ts.rz.Kind == calendar.ZoneUTC {
		return time.Time{}, false
	}
	lt := t.In(ts.rz.Location)
	c := ts.clock
	if clockOf(lt) == c {
		return time.Time{}, false // the wall time exists
	}
	if n := calendar.DateOf(lt).At(c, ts.rz.Location); !n.Equal(t) {
		return time.Time{}, false // not an instance of the series moved by a gap
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).Add(c), true
}

func clockOf(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

// time writes the property name with t as ts says: a DATE, a UTC time or
// a wall time with TZID.
func (w *worker) time(ts timeSpec, name *propName, t time.Time) {
	e := w.enc
	switch {
	case ts.allDay:
		e.val = appendDate(e.val[:0], t.In(ts.rz.Location))
		e.prop(name, e.val, param{ical.ParamValue, "DATE"})
	case ts.rz.Kind == calendar.ZoneUTC:
		e.val = appendUTC(e.val[:0], t)
		e.prop(name, e.val)
	default:
		if wall, ok := ts.nominal(t); ok {
			e.val = appendLocal(e.val[:0], wall)
		} else {
			e.val = appendLocal(e.val[:0], t.In(ts.rz.Location))
		}
		e.prop(name, e.val, param{ical.ParamTimezoneID, ts.rz.TZID})
	}
}

// key is t's sort key among a series' instances (RECURRENCE-ID order).
func (ts timeSpec) key(t time.Time) string {
	var arr [24]byte
	if ts.allDay {
		return string(appendDate(arr[:0], t.In(ts.rz.Location)))
	}
	return string(appendUTC(arr[:0], t))
}

// yearsOf returns the UTC years of a and b.
func yearsOf(a, b time.Time) (int, int) { return a.UTC().Year(), b.UTC().Year() }

// hidden reports whether sensitivity hides an item's details.
func hidden(s calendar.Sensitivity) bool { return s != calendar.Normal }

// beginEvent starts a VEVENT in w's buffer.
func (w *worker) beginEvent() {
	w.enc.flushProps()
	w.lo = len(w.enc.buf)
	w.enc.begin(ical.CompEvent)
}

// endEvent writes the event's alarm (reminder, when not nil) and ends the
// VEVENT, recording it.
func (w *worker) endEvent(uid, recurrenceID, itemID string, reminder *time.Duration, summary string) {
	e := w.enc
	if reminder != nil {
		e.begin(ical.CompAlarm)
		e.prop(pAction, []byte("DISPLAY"))
		e.val = appendText(e.val[:0], summary)
		e.prop(pDescription, e.val)
		e.val = appendTrigger(e.val[:0], *reminder)
		e.prop(pTrigger, e.val)
		e.end(ical.CompAlarm)
	}
	e.end(ical.CompEvent)
	v := vevent{uid: uid, recurrenceID: recurrenceID, itemID: itemID, lo: w.lo, hi: len(e.buf)}
	if e.tree {
		v.comp = e.roots[len(e.roots)-1]
	}
	w.vevents = append(w.vevents, v)
}

func (w *worker) renderEvent(e *calendar.Event) error {
	opts, use := w.opts, w.use
	rz := e.TimeZone.Resolve()
	startTS := timeSpec{rz: rz, allDay: e.AllDay}
	endTS := startTS
	if e.EndTimeZone != nil && !e.AllDay {
		endTS.rz = e.EndTimeZone.Resolve()
	}
	uid := e.UID
	if uid == "" {
		uid = "exocal-" + strconv.FormatUint(uint64(hash64(e.ItemID)), 16)
	}

	start, end := e.Start, e.End
	masterHidden := hidden(e.Sensitivity)
	if r := e.Recurrence; r != nil {
		seriesTS := startTS
		if !e.AllDay {
			seriesTS.clock, seriesTS.hasClock = clockOf(e.Start.In(rz.Location)), true
		}
		// The first occurrence, if the range holds any (as r.FirstDate).
		ok := false
		e.SeriesStarts(func(s, en time.Time) bool { start, end, ok = s, en, true; return false })
		if ok {
			reminder, summary := w.baseEvent(e, uid, opts, masterHidden)
			w.time(seriesTS, pDateTimeStart, start)
			if _, gap := seriesTS.nominal(start); gap || ambiguous(start, rz) {
				// DTSTART's wall time does not exist or exists twice:
				// readers disagree on which instant it is, so give the
				// length, not an end.
				w.enc.val = appendDuration(w.enc.val[:0], end.Sub(start))
				w.enc.prop(pDuration, w.enc.val)
			} else {
				w.time(endTS, pDateTimeEnd, endOrNext(start, end, e.AllDay, rz))
			}
			rrule, rdates, untilYear := rruleValue(e, start, rz)
			w.enc.prop(pRecurrenceRule, rrule)
			for _, d := range rdates {
				w.time(seriesTS, pRecurrenceDates, d)
			}
			if len(e.DeletedOccurrences) > 0 {
				exd := w.exdates[:0]
				for _, d := range e.DeletedOccurrences {
					exd = append(exd, exdate{key: startTS.key(d), t: d})
				}
				// Sorted by key; of equal keys the first deleted
				// occurrence given.
				slices.SortStableFunc(exd, func(a, b exdate) int { return strings.Compare(a.key, b.key) })
				for i, x := range exd {
					if i > 0 && exd[i-1].key == x.key {
						continue
					}
					w.time(seriesTS, pExceptionDates, x.t)
				}
				w.exdates = exd[:0]
			}
			y0, y1 := yearsOf(start, end)
			use.add(rz, y0, y1, untilYear)
			use.add(endTS.rz, y0, y1, untilYear)
			w.endEvent(uid, "", e.ItemID, reminder, summary)

			// Instances readers disagree on get an explicit override (same
			// UID, RECURRENCE-ID, exact DTSTART and DTEND), so that every
			// reader shows what Exchange shows:
			//   - a wall time a DST change skips: Exchange (and RFC 5545)
			//     move it forward by the gap, ical.js backward;
			//   - an occurrence a DST change falls inside: Exchange (and
			//     RFC 5545) keep its exact length, ical.js its wall-clock
			//     length;
			//   - a start or end whose wall time a DST change repeats:
			//     RFC 5545 takes the first, ical.js the second (these
			//     overrides give such times in UTC).
			length := end.Sub(start)
			if seriesTS.hasClock && (use.gapAt(rz, seriesTS.clock) || use.mayCross(rz, seriesTS.clock, length)) {
				skip := w.skip[:0]
				for _, d := range e.DeletedOccurrences {
					skip = append(skip, d.UnixNano())
				}
				for _, m := range e.ModifiedOccurrences {
					skip = append(skip, m.OriginalStart.UnixNano())
				}
				slices.Sort(skip)
				w.skip = skip
				horizon := horizonOf(e, start)
				e.SeriesStarts(func(s, en time.Time) bool {
					if s.After(horizon) {
						return false
					}
					_, gap := seriesTS.nominal(s)
					_, offS := s.In(rz.Location).Zone()
					_, offE := en.In(endTS.rz.Location).Zone()
					if !gap && offS == offE && !ambiguous(s, rz) && !ambiguous(en, endTS.rz) {
						return true
					}
					if _, found := slices.BinarySearch(skip, s.UnixNano()); found {
						return true
					}
					reminder, summary := w.baseEvent(e, uid, opts, masterHidden)
					w.exactTime(startTS, pDateTimeStart, s)
					w.exactTime(endTS, pDateTimeEnd, en)
					w.time(seriesTS, pRecurrenceID, s)
					w.endEvent(uid, startTS.key(s), e.ItemID, reminder, summary)
					return true
				})
			}
		}
		for i := range e.ModifiedOccurrences {
			m := &e.ModifiedOccurrences[i]
			mrz := rz
			if m.TimeZone != nil {
				mrz = m.TimeZone.Resolve()
			}
			mts := timeSpec{rz: mrz, allDay: m.AllDay}
			mend := mts
			if m.EndTimeZone != nil && !m.AllDay {
				mend.rz = m.EndTimeZone.Resolve()
			}
			reminder, summary := w.baseEvent(m, uid, opts, masterHidden || hidden(m.Sensitivity))
			w.time(mts, pDateTimeStart, m.Start)
			w.time(mend, pDateTimeEnd, endOrNext(m.Start, m.End, m.AllDay, mrz))
			w.time(seriesTS, pRecurrenceID, m.OriginalStart)
			oy := m.OriginalStart.UTC().Year()
			use.add(rz, oy)
			y0, y1 := yearsOf(m.Start, m.End)
			use.add(mrz, y0, y1)
			use.add(mend.rz, y0, y1)
			w.endEvent(uid, startTS.key(m.OriginalStart), m.ItemID, reminder, summary)
		}
		return w.err(uid)
	}
	reminder, summary := w.baseEvent(e, uid, opts, masterHidden)
	w.time(startTS, pDateTimeStart, start)
	w.time(endTS, pDateTimeEnd, endOrNext(start, end, e.AllDay, rz))
	rid := ""
	if !e.OriginalStart.IsZero() {
		// A lone modified occurrence (its master is not in the list).
		w.time(startTS, pRecurrenceID, e.OriginalStart)
		rid = startTS.key(e.OriginalStart)
	}
	y0, y1 := yearsOf(start, end)
	use.add(rz, y0, y1)
	use.add(endTS.rz, y0, y1)
	w.endEvent(uid, rid, e.ItemID, reminder, summary)
	return w.err(uid)
}

func (w *worker) err(uid string) error {
	if w.enc.err != nil {
		return fmt.Errorf("ics: encode event %q: %w", uid, w.enc.err)
	}
	return nil
}

// appendDuration appends a non-negative length as an RFC 5545 duration.
func appendDuration(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, "PT0S"...)
	}
	return appendTrigger(b, -d)
}

// endOrNext returns end, or for an all-day event whose end is not after
// its start the next day (DTEND is exclusive and must follow DTSTART).
func endOrNext(start, end time.Time, allDay bool, rz calendar.ResolvedZone) time.Time {
	if allDay {
		sd, ed := calendar.DateOf(start.In(rz.Location)), calendar.DateOf(end.In(rz.Location))
		if !sd.Before(ed) {
			return sd.AddDays(1).In(rz.Location)
		}
		return end
	}
	if end.Before(start) {
		return start
	}
	return end
}

// baseEvent begins a VEVENT and writes everything but its times. It
// returns the reminder and the summary of the event's alarm (nil: none),
// for endEvent.
func (w *worker) baseEvent(e *calendar.Event, uid string, opts Options, private bool) (*time.Duration, string) {
	w.beginEvent()
	enc := w.enc
	enc.val = appendText(enc.val[:0], uid)
	enc.prop(pUID, enc.val)
	stamp := e.LastModified
	if stamp.IsZero() {
		stamp = time.Unix(0, 0)
	}
	enc.val = appendUTC(enc.val[:0], stamp)
	enc.prop(pDateTimeStamp, enc.val)
	if !e.LastModified.IsZero() {
		enc.val = appendUTC(enc.val[:0], e.LastModified)
		enc.prop(pLastModified, enc.val)
	}
	enc.val = strconv.AppendInt(enc.val[:0], int64(max(e.Sequence, 0)), 10)
	enc.prop(pSequence, enc.val)
	if e.Cancelled {
		enc.prop(pStatus, []byte("CANCELLED"))
	}
	transp := "OPAQUE"
	if e.FreeBusy == calendar.Free || e.FreeBusy == calendar.NoData {
		transp = "TRANSPARENT"
	}
	enc.val = append(enc.val[:0], transp...)
	enc.prop(pTransparency, enc.val)
	if bs := busyStatus(e.FreeBusy); bs != "" {
		enc.val = append(enc.val[:0], bs...)
		enc.prop(pBusyStatus, enc.val)
	}

	if opts.Privacy == PrivacyFreeBusy {
		enc.val = appendText(enc.val[:0], freeBusyLabel(e.FreeBusy))
		enc.prop(pSummary, enc.val)
		return nil, ""
	}
	enc.val = append(enc.val[:0], class(e.Sensitivity)...)
	enc.prop(pClass, enc.val)
	summary := e.Subject
	if private {
		summary = privateSummary
	}
	enc.val = appendText(enc.val[:0], summary)
	enc.prop(pSummary, enc.val)
	reminder := e.Reminder
	if private {
		return reminder, summary
	}
	if e.Location != "" {
		enc.val = appendText(enc.val[:0], e.Location)
		enc.prop(pLocation, enc.val)
	}
	if e.Body != "" {
		enc.val = appendText(enc.val[:0], e.Body)
		enc.prop(pDescription, enc.val)
	}
	if len(e.Categories) > 0 {
		enc.val = enc.val[:0]
		for i, s := range e.Categories {
			if i > 0 {
				enc.val = append(enc.val, ',')
			}
			enc.val = appendText(enc.val, s)
		}
		enc.prop(pCategories, enc.val)
	}
	if o := e.Organizer; o != nil {
		if addr := cleanAddr(o.Email); addr != "" {
			enc.val = append(append(enc.val[:0], "mailto:"...), addr...)
			if cn := cleanParam(o.Name); cn != "" {
				enc.prop(pOrganizer, enc.val, param{ical.ParamCommonName, cn})
			} else {
				enc.prop(pOrganizer, enc.val)
			}
		}
	}
	for _, a := range e.Attendees {
		addr := cleanAddr(a.Email)
		if addr == "" {
			continue
		}
		enc.val = append(append(enc.val[:0], "mailto:"...), addr...)
		var arr [4]param
		ps := arr[:0]
		if cn := cleanParam(a.Name); cn != "" {
			ps = append(ps, param{ical.ParamCommonName, cn})
		}
		switch a.Role {
		case calendar.Optional:
			ps = append(ps, param{ical.ParamRole, "OPT-PARTICIPANT"})
		case calendar.Resource:
			ps = append(ps, param{ical.ParamRole, "NON-PARTICIPANT"}, param{ical.ParamCalendarUserType, "RESOURCE"})
		default:
			ps = append(ps, param{ical.ParamRole, "REQ-PARTICIPANT"})
		}
		ps = append(ps, param{ical.ParamParticipationStatus, partStat(a.Response)})
		enc.prop(pAttendee, enc.val, ps...)
	}
	return reminder, summary
}

func busyStatus(fb calendar.FreeBusy) string {
	switch fb {
	case calendar.Free:
		return "FREE"
	case calendar.Tentative:
		return "TENTATIVE"
	case calendar.Busy:
		return "BUSY"
	case calendar.OutOfOffice:
		return "OOF"
	case calendar.WorkingElsewhere:
		return "WORKINGELSEWHERE"
	}
	return ""
}

func freeBusyLabel(fb calendar.FreeBusy) string {
	switch fb {
	case calendar.Free:
		return "Free"
	case calendar.Tentative:
		return "Tentative"
	case calendar.OutOfOffice:
		return "Out of office"
	case calendar.WorkingElsewhere:
		return "Working elsewhere"
	case calendar.NoData:
		return "No information"
	}
	return "Busy"
}

func class(s calendar.Sensitivity) string {
	switch s {
	case calendar.Personal, calendar.Private:
		return "PRIVATE"
	case calendar.Confidential:
		return "CONFIDENTIAL"
	}
	return "PUBLIC"
}

func partStat(r calendar.Response) string {
	switch r {
	case calendar.ResponseAccept, calendar.ResponseOrganizer:
		return "ACCEPTED"
	case calendar.ResponseDecline:
		return "DECLINED"
	case calendar.ResponseTentative:
		return "TENTATIVE"
	}
	return "NEEDS-ACTION"
}

func rawProp(name, value string) *ical.Prop {
	return &ical.Prop{Name: name, Value: value}
}

func textProp(name, text string) *ical.Prop {
	return &ical.Prop{Name: name, Value: escapeText(cleanText(text))}
}

// escapeText escapes TEXT as RFC 5545 3.3.11 (and go-ical's SetText) do:
// backslash, semicolon, comma and newline.
func escapeText(s string) string {
	if !strings.ContainsAny(s, "\\;,\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString("\\n")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cleanText makes s valid iCalendar TEXT before escaping: valid UTF-8,
// line breaks as \n (escaped by go-ical), no other control characters.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsFunc(s, isCtl) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !isCtl(r) {
			return r
		}
		return -1
	}, s)
}

// printableASCII reports whether s is only bytes 0x20 to 0x7e.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func isCtl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// cleanParam makes s a safe parameter value: no controls, no DQUOTE.
func cleanParam(s string) string {
	if printableASCII(s) && !strings.ContainsRune(s, '"') {
		return s // the common case, unchanged
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}

// cleanAddr makes an email address a safe CAL-ADDRESS tail.
func cleanAddr(s string) string {
	if printableASCII(s) && !strings.ContainsAny(s, "\" ") {
		return s // the common case, unchanged
	}
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	return strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, s)
}

func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
