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
	data, err := render(mailbox, events, opts)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
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
		seen := map[time.Duration]bool{}
		begin := time.Date(minZoneYear, 1, 1, 0, 0, 0, 0, rz.Location)
		stop := time.Date(maxZoneYear, 1, 1, 0, 0, 0, 0, rz.Location)
		for _, tr := range transitionsBetween(rz.Location, begin, stop) {
			if tr.from != tr.to && !seen[clockOf(tr.local)] {
				seen[clockOf(tr.local)] = true
				ts = append(ts, clockOf(tr.local))
			}
		}
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
		ws = gapWindows(rz.Location)
		u.gaps[rz.TZID] = ws
	}
	for _, w := range ws {
		if c >= w[0] && c < w[1] || w[1] > 24*time.Hour && c < w[1]-24*time.Hour {
			return true
		}
	}
	return false
}

func gapWindows(loc *time.Location) [][2]time.Duration {
	var ws [][2]time.Duration
	seen := map[[2]time.Duration]bool{}
	begin := time.Date(minZoneYear, 1, 1, 0, 0, 0, 0, loc)
	stop := time.Date(maxZoneYear, 1, 1, 0, 0, 0, 0, loc)
	for _, tr := range transitionsBetween(loc, begin, stop) {
		if tr.to > tr.from {
			start := clockOf(tr.local)
			w := [2]time.Duration{start, start + time.Duration(tr.to-tr.from)*time.Second}
			if !seen[w] {
				seen[w] = true
				ws = append(ws, w)
			}
		}
	}
	return ws
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

// exactProp writes t in ts's zone, or in UTC when its wall time there is
// ambiguous.
func exactProp(ts timeSpec, name string, t time.Time) *ical.Prop {
	if !ts.allDay && ambiguous(t, ts.rz) {
		return rawProp(name, t.UTC().Format(utcFormat))
	}
	return ts.prop(name, t)
}

// horizonOf is how far ahead a never-ending series has instances listed
// explicitly (February RDATEs, DST-gap overrides).
func horizonOf(e *calendar.Event, start time.Time) time.Time {
	return time.Date(max(start.Year(), e.LastModified.Year())+rdateYears, 1, 1, 0, 0, 0, 0, time.UTC)
}

// durationValue formats a non-negative length as an RFC 5545 duration.
func durationValue(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	return triggerValue(-d)
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

type vevent struct {
	uid, recurrenceID, itemID string
	comp                      *ical.Component
	data                      []byte // comp, encoded
}

// render builds the calendar. Events are rendered and encoded by one
// worker per CPU over contiguous chunks of the input, then ordered by UID,
// RECURRENCE-ID and item id (the result does not depend on the workers).
func render(mailbox string, events []calendar.Event, opts Options) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.Set(rawProp(ical.PropProductID, ProductID))
	cal.Props.Set(rawProp(ical.PropVersion, "2.0"))
	cal.Props.Set(rawProp(ical.PropCalendarScale, "GREGORIAN"))
	cal.Props.Set(textProp("X-WR-CALNAME", mailbox))

	workers := min(runtime.GOMAXPROCS(0), max(len(events)/500, 1))
	type result struct {
		vevents []vevent
		use     *zoneUse
		err     error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(events)*w/workers, len(events)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			use := newZoneUse()
			enc := &encoder{buf: make([]byte, 0, (hi-lo)*1100)}
			var vevents []vevent
			var spans [][2]int
			for i := lo; i < hi; i++ {
				vs, err := renderEvent(&events[i], opts, use)
				if err != nil {
					results[w].err = err
					return
				}
				for _, v := range vs {
					start := len(enc.buf)
					if err := enc.component(v.comp); err != nil {
						results[w].err = fmt.Errorf("ics: encode event %q: %w", v.uid, err)
						return
					}
					v.comp = nil
					vevents = append(vevents, v)
					spans = append(spans, [2]int{start, len(enc.buf)})
				}
			}
			for i := range vevents {
				vevents[i].data = enc.buf[spans[i][0]:spans[i][1]:spans[i][1]]
			}
			results[w] = result{vevents: vevents, use: use}
		}()
	}
	wg.Wait()
	use := newZoneUse()
	var vevents []vevent
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		use.merge(r.use)
		vevents = append(vevents, r.vevents...)
	}
	slices.SortStableFunc(vevents, func(a, b vevent) int {
		if c := strings.Compare(a.uid, b.uid); c != 0 {
			return c
		}
		if c := strings.Compare(a.recurrenceID, b.recurrenceID); c != 0 {
			return c
		}
		return strings.Compare(a.itemID, b.itemID)
	})

	tzids := make([]string, 0, len(use.zones))
	for id := range use.zones {
		tzids = append(tzids, id)
	}
	sort.Strings(tzids)
	size := 1024
	for _, v := range vevents {
		size += len(v.data)
	}
	enc := &encoder{buf: make([]byte, 0, size+len(tzids)*2048)}
	enc.simple("BEGIN", cal.Name)
	if err := enc.props(cal.Component); err != nil {
		return nil, fmt.Errorf("ics: encode calendar of %q: %w", mailbox, err)
	}
	for _, id := range tzids {
		z := use.zones[id]
		if err := enc.component(vtimezone(z.rz, z.minYear, z.maxYr)); err != nil {
			return nil, fmt.Errorf("ics: encode time zone %q: %w", id, err)
		}
	}
	for _, v := range vevents {
		enc.buf = append(enc.buf, v.data...)
	}
	enc.simple("END", cal.Name)
	return enc.buf, nil
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
	clock *time.Duration
}

// nominal returns the wall-clock value the recurrence gives t when t is
// an instance moved by a DST gap, and ok=false otherwise.
func (ts timeSpec) nominal(t time.Time) (string, bool) {
	if ts.clock == nil || ts.allDay || ts.rz.Kind == calendar.ZoneUTC {
		return "", false
	}
	lt := t.In(ts.rz.Location)
	c := *ts.clock
	if clockOf(lt) == c {
		return "", false // the wall time exists
	}
	if n := calendar.DateOf(lt).At(c, ts.rz.Location); !n.Equal(t) {
		return "", false // not an instance of the series moved by a gap
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).Add(c).Format(localFormat), true
}

func clockOf(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
}

func (ts timeSpec) prop(name string, t time.Time) *ical.Prop {
	p := &ical.Prop{Name: name}
	switch {
	case ts.allDay:
		p.Params = ical.Params{ical.ParamValue: {"DATE"}}
		p.Value = t.In(ts.rz.Location).Format(dateFormat)
	case ts.rz.Kind == calendar.ZoneUTC:
		p.Value = t.UTC().Format(utcFormat)
	default:
		p.Params = ical.Params{ical.ParamTimezoneID: {ts.rz.TZID}}
		if v, ok := ts.nominal(t); ok {
			p.Value = v
		} else {
			p.Value = t.In(ts.rz.Location).Format(localFormat)
		}
	}
	return p
}

func (ts timeSpec) key(t time.Time) string {
	if ts.allDay {
		return t.In(ts.rz.Location).Format(dateFormat)
	}
	return t.UTC().Format(utcFormat)
}

func yearsOf(ts ...time.Time) []int {
	ys := make([]int, 0, len(ts))
	for _, t := range ts {
		ys = append(ys, t.UTC().Year())
	}
	return ys
}

// hidden reports whether sensitivity hides an item's details.
func hidden(s calendar.Sensitivity) bool { return s != calendar.Normal }

func renderEvent(e *calendar.Event, opts Options, use *zoneUse) ([]vevent, error) {
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
	var out []vevent
	masterHidden := hidden(e.Sensitivity)
	if r := e.Recurrence; r != nil {
		_, ok := r.FirstDate()
		seriesTS := startTS
		if !e.AllDay {
			c := clockOf(e.Start.In(rz.Location))
			seriesTS.clock = &c
		}
		skip := map[int64]bool{}
		for _, d := range e.DeletedOccurrences {
			skip[d.UnixNano()] = true
		}
		for _, m := range e.ModifiedOccurrences {
			skip[m.OriginalStart.UnixNano()] = true
		}
		if ok {
			e.SeriesStarts(func(s, en time.Time) bool { start, end = s, en; return false })
			comp := baseEvent(e, uid, opts, masterHidden)
			comp.Props.Set(seriesTS.prop(ical.PropDateTimeStart, start))
			if _, gap := seriesTS.nominal(start); gap || ambiguous(start, rz) {
				// DTSTART's wall time does not exist or exists twice:
				// readers disagree on which instant it is, so give the
				// length, not an end.
				comp.Props.Set(rawProp(ical.PropDuration, durationValue(end.Sub(start))))
			} else {
				comp.Props.Set(endTS.prop(ical.PropDateTimeEnd, endOrNext(start, end, e.AllDay, rz)))
			}
			rrule, rdates, untilYear := rruleValue(e, start, rz)
			comp.Props.Set(rawProp(ical.PropRecurrenceRule, rrule))
			for _, d := range rdates {
				comp.Props.Add(seriesTS.prop(ical.PropRecurrenceDates, d))
			}
			exdates := make([]string, 0, len(e.DeletedOccurrences))
			exTimes := map[string]time.Time{}
			for _, d := range e.DeletedOccurrences {
				k := startTS.key(d)
				if _, dup := exTimes[k]; !dup {
					exTimes[k] = d
					exdates = append(exdates, k)
				}
			}
			sort.Strings(exdates)
			for _, k := range exdates {
				comp.Props.Add(seriesTS.prop(ical.PropExceptionDates, exTimes[k]))
			}
			use.add(rz, append(yearsOf(start, end), untilYear)...)
			use.add(endTS.rz, append(yearsOf(start, end), untilYear)...)
			out = append(out, vevent{uid: uid, itemID: e.ItemID, comp: comp})

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
			if seriesTS.clock != nil && (use.gapAt(rz, *seriesTS.clock) || use.mayCross(rz, *seriesTS.clock, length)) {
				horizon := horizonOf(e, start)
				e.SeriesStarts(func(s, en time.Time) bool {
					if s.After(horizon) {
						return false
					}
					_, gap := seriesTS.nominal(s)
					_, offS := s.In(rz.Location).Zone()
					_, offE := en.In(endTS.rz.Location).Zone()
					amb := ambiguous(s, rz) || ambiguous(en, endTS.rz)
					if !gap && !amb && offS == offE || skip[s.UnixNano()] {
						return true
					}
					o := baseEvent(e, uid, opts, masterHidden)
					o.Props.Set(exactProp(startTS, ical.PropDateTimeStart, s))
					o.Props.Set(exactProp(endTS, ical.PropDateTimeEnd, en))
					o.Props.Set(seriesTS.prop(ical.PropRecurrenceID, s))
					out = append(out, vevent{uid: uid, recurrenceID: startTS.key(s), itemID: e.ItemID, comp: o})
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
			comp := baseEvent(m, uid, opts, masterHidden || hidden(m.Sensitivity))
			comp.Props.Set(mts.prop(ical.PropDateTimeStart, m.Start))
			comp.Props.Set(mend.prop(ical.PropDateTimeEnd, endOrNext(m.Start, m.End, m.AllDay, mrz)))
			rid := seriesTS.prop(ical.PropRecurrenceID, m.OriginalStart)
			comp.Props.Set(rid)
			use.add(rz, yearsOf(m.OriginalStart)...)
			use.add(mrz, yearsOf(m.Start, m.End)...)
			use.add(mend.rz, yearsOf(m.Start, m.End)...)
			out = append(out, vevent{uid: uid, recurrenceID: startTS.key(m.OriginalStart), itemID: m.ItemID, comp: comp})
		}
		return out, nil
	}
	comp := baseEvent(e, uid, opts, masterHidden)
	comp.Props.Set(startTS.prop(ical.PropDateTimeStart, start))
	comp.Props.Set(endTS.prop(ical.PropDateTimeEnd, endOrNext(start, end, e.AllDay, rz)))
	if !e.OriginalStart.IsZero() {
		// A lone modified occurrence (its master is not in the list).
		comp.Props.Set(startTS.prop(ical.PropRecurrenceID, e.OriginalStart))
	}
	use.add(rz, yearsOf(start, end)...)
	use.add(endTS.rz, yearsOf(start, end)...)
	rid := ""
	if !e.OriginalStart.IsZero() {
		rid = startTS.key(e.OriginalStart)
	}
	return append(out, vevent{uid: uid, recurrenceID: rid, itemID: e.ItemID, comp: comp}), nil
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

// baseEvent builds a VEVENT with everything but its times.
func baseEvent(e *calendar.Event, uid string, opts Options, private bool) *ical.Component {
	c := &ical.Component{Name: ical.CompEvent, Props: make(ical.Props, 24)}
	c.Props.Set(textProp(ical.PropUID, uid))
	stamp := e.LastModified
	if stamp.IsZero() {
		stamp = time.Unix(0, 0)
	}
	c.Props.Set(rawProp(ical.PropDateTimeStamp, stamp.UTC().Format(utcFormat)))
	if !e.LastModified.IsZero() {
		c.Props.Set(rawProp(ical.PropLastModified, e.LastModified.UTC().Format(utcFormat)))
	}
	c.Props.Set(rawProp(ical.PropSequence, strconv.Itoa(max(e.Sequence, 0))))
	if e.Cancelled {
		c.Props.Set(rawProp(ical.PropStatus, "CANCELLED"))
	}
	transp := "OPAQUE"
	if e.FreeBusy == calendar.Free || e.FreeBusy == calendar.NoData {
		transp = "TRANSPARENT"
	}
	c.Props.Set(rawProp(ical.PropTransparency, transp))
	if bs := busyStatus(e.FreeBusy); bs != "" {
		c.Props.Set(rawProp("X-MICROSOFT-CDO-BUSYSTATUS", bs))
	}

	if opts.Privacy == PrivacyFreeBusy {
		c.Props.Set(textProp(ical.PropSummary, freeBusyLabel(e.FreeBusy)))
		return c
	}
	c.Props.Set(rawProp(ical.PropClass, class(e.Sensitivity)))
	summary := e.Subject
	if private {
		summary = privateSummary
	}
	c.Props.Set(textProp(ical.PropSummary, summary))
	if e.Reminder != nil {
		c.Children = append(c.Children, alarm(*e.Reminder, summary))
	}
	if private {
		return c
	}
	if e.Location != "" {
		c.Props.Set(textProp(ical.PropLocation, e.Location))
	}
	if e.Body != "" {
		c.Props.Set(textProp(ical.PropDescription, e.Body))
	}
	if len(e.Categories) > 0 {
		cats := make([]string, len(e.Categories))
		for i, s := range e.Categories {
			cats[i] = cleanText(s)
		}
		for i := range cats {
			cats[i] = escapeText(cats[i])
		}
		c.Props.Set(rawProp(ical.PropCategories, strings.Join(cats, ",")))
	}
	if o := e.Organizer; o != nil && cleanAddr(o.Email) != "" {
		p := rawProp(ical.PropOrganizer, "mailto:"+cleanAddr(o.Email))
		p.Params = ical.Params{}
		if cn := cleanParam(o.Name); cn != "" {
			p.Params.Set(ical.ParamCommonName, cn)
		}
		c.Props.Set(p)
	}
	atts := make([]*ical.Prop, 0, len(e.Attendees))
	for _, a := range e.Attendees {
		addr := cleanAddr(a.Email)
		if addr == "" {
			continue
		}
		p := rawProp(ical.PropAttendee, "mailto:"+addr)
		p.Params = make(ical.Params, 4)
		if cn := cleanParam(a.Name); cn != "" {
			p.Params.Set(ical.ParamCommonName, cn)
		}
		switch a.Role {
		case calendar.Optional:
			p.Params.Set(ical.ParamRole, "OPT-PARTICIPANT")
		case calendar.Resource:
			p.Params.Set(ical.ParamRole, "NON-PARTICIPANT")
			p.Params.Set(ical.ParamCalendarUserType, "RESOURCE")
		default:
			p.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
		}
		p.Params.Set(ical.ParamParticipationStatus, partStat(a.Response))
		atts = append(atts, p)
	}
	for _, p := range atts {
		c.Props.Add(p)
	}
	return c
}

func alarm(before time.Duration, summary string) *ical.Component {
	a := ical.NewComponent(ical.CompAlarm)
	a.Props.Set(rawProp(ical.PropAction, "DISPLAY"))
	a.Props.Set(textProp(ical.PropDescription, summary))
	a.Props.Set(rawProp(ical.PropTrigger, triggerValue(before)))
	return a
}

// triggerValue formats "before Start" as a negative RFC 5545 duration.
func triggerValue(before time.Duration) string {
	sign := "-"
	if before < 0 {
		sign, before = "", -before
	}
	s := int64(before / time.Second)
	if s == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString(sign + "P")
	if d := s / 86400; d > 0 {
		fmt.Fprintf(&b, "%dD", d)
		s %= 86400
	}
	if s > 0 {
		b.WriteString("T")
		if h := s / 3600; h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m := s / 60 % 60; m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if sec := s % 60; sec > 0 {
			fmt.Fprintf(&b, "%dS", sec)
		}
	}
	return b.String()
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

func isCtl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// cleanParam makes s a safe parameter value: no controls, no DQUOTE.
func cleanParam(s string) string {
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
