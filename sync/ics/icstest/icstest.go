// Package icstest is a test helper for sync/ics: it parses an iCalendar
// file back with go-ical and expands it with rrule-go into occurrences, so
// that tests can check what a reader of ExoCal's files sees.
//
// Time zones: a TZID Go knows (IANA) is loaded from Go's embedded
// database; any other is rebuilt from the file's VTIMEZONE (its yearly
// STANDARD/DAYLIGHT rules).
package icstest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/exocal/exocal/sync/calendar"
)

// Occurrence is one instance as a reader sees it.
type Occurrence struct {
	UID string
	// RecurrenceID is set for an overridden instance (an exception).
	RecurrenceID time.Time
	Start, End   time.Time // all-day: midnight UTC of the dates
	AllDay       bool
	Summary      string
}

// Parse decodes data with go-ical.
func Parse(data []byte) (*ical.Calendar, error) {
	cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("icstest: decode: %w", err)
	}
	return cal, nil
}

// Expand parses data and returns every occurrence that starts in
// [start, end), sorted by UID, start and recurrence id.
func Expand(data []byte, start, end time.Time) ([]Occurrence, error) {
	cal, err := Parse(data)
	if err != nil {
		return nil, err
	}
	zones := map[string]*time.Location{}
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		tzid, err := c.Props.Text(ical.PropTimezoneID)
		if err != nil {
			return nil, fmt.Errorf("icstest: VTIMEZONE: %w", err)
		}
		loc, err := zoneOf(tzid, c)
		if err != nil {
			return nil, err
		}
		zones[tzid] = loc
	}
	masters := map[string]*ical.Component{}
	exceptions := map[string][]*ical.Component{}
	var uids []string
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		uid, err := c.Props.Text(ical.PropUID)
		if err != nil {
			return nil, fmt.Errorf("icstest: UID: %w", err)
		}
		if _, seen := masters[uid]; !seen && exceptions[uid] == nil {
			uids = append(uids, uid)
		}
		if c.Props.Get(ical.PropRecurrenceID) != nil {
			exceptions[uid] = append(exceptions[uid], c)
		} else {
			if masters[uid] != nil {
				return nil, fmt.Errorf("icstest: two masters with UID %q", uid)
			}
			masters[uid] = c
		}
	}
	var out []Occurrence
	for _, uid := range uids {
		occs, err := expandUID(uid, masters[uid], exceptions[uid], zones, start, end)
		if err != nil {
			return nil, err
		}
		out = append(out, occs...)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.UID != b.UID {
			return a.UID < b.UID
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.RecurrenceID.Before(b.RecurrenceID)
	})
	return out, nil
}

func expandUID(uid string, master *ical.Component, excs []*ical.Component, zones map[string]*time.Location, start, end time.Time) ([]Occurrence, error) {
	var out []Occurrence
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	overridden := map[int64]bool{}
	for _, x := range excs {
		rid, _, err := timeProp(x.Props.Get(ical.PropRecurrenceID), zones)
		if err != nil {
			return nil, fmt.Errorf("icstest: %s RECURRENCE-ID: %w", uid, err)
		}
		overridden[rid.UnixNano()] = true
		o, err := occurrence(uid, x, zones)
		if err != nil {
			return nil, err
		}
		o.RecurrenceID = rid
		if in(o.Start) {
			out = append(out, o)
		}
	}
	if master == nil {
		return out, nil
	}
	o, err := occurrence(uid, master, zones)
	if err != nil {
		return nil, err
	}
	rr := master.Props.Get(ical.PropRecurrenceRule)
	if rr == nil {
		if in(o.Start) {
			out = append(out, o)
		}
		return out, nil
	}
	// Expand in wall-clock time (as "UTC" values) and resolve each instance
	// in the zone afterwards, the way RFC 5545 defines it: rrule-go run in
	// a real zone inherits time.Date's unspecified handling of times a DST
	// change skips or repeats (and loses days whose midnight is skipped).
	loc := time.UTC
	dp := master.Props.Get(ical.PropDateTimeStart)
	if tzid := dp.Params.Get(ical.ParamTimezoneID); tzid != "" {
		loc = zones[tzid]
	}
	wallOf := func(p *ical.Prop) (time.Time, error) {
		if p.Params.Get(ical.ParamTimezoneID) != "" {
			return time.Parse("20060102T150405", p.Value)
		}
		t, _, err := timeProp(p, zones)
		if err != nil {
			return t, err
		}
		return naive(t.In(loc)), nil
	}
	resolve := func(w time.Time) time.Time {
		return calendar.DateOf(w).At(w.Sub(calendar.DateOf(w).In(time.UTC)), loc)
	}
	opt, err := rrule.StrToROption(rr.Value)
	if err != nil {
		return nil, fmt.Errorf("icstest: %s RRULE: %w", uid, err)
	}
	if opt.Dtstart, err = wallOf(dp); err != nil {
		return nil, fmt.Errorf("icstest: %s DTSTART: %w", uid, err)
	}
	if !opt.Until.IsZero() && !o.AllDay {
		opt.Until = naive(opt.Until.In(loc))
	}
	rule, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("icstest: %s RRULE: %w", uid, err)
	}
	set := &rrule.Set{}
	set.RRule(rule)
	for _, name := range []string{ical.PropRecurrenceDates, ical.PropExceptionDates} {
		for i := range master.Props[name] {
			p := master.Props[name][i]
			for _, v := range strings.Split(p.Value, ",") {
				q := p
				q.Value = v
				w, err := wallOf(&q)
				if err != nil {
					return nil, fmt.Errorf("icstest: %s %s: %w", uid, name, err)
				}
				if name == ical.PropRecurrenceDates {
					set.RDate(w)
				} else {
					set.ExDate(w)
				}
			}
		}
	}
	length := o.End.Sub(o.Start)
	lo, hi := naive(start.In(loc)).Add(-50*time.Hour), naive(end.In(loc)).Add(50*time.Hour)
	for _, w := range set.Between(lo, hi, true) {
		t := resolve(w)
		if !in(t) || overridden[t.UnixNano()] {
			continue
		}
		occ := o
		occ.Start, occ.End = t, t.Add(length)
		if o.AllDay {
			// Nominal days, not 24-hour steps.
			occ.End = t.AddDate(0, 0, int(length.Round(24*time.Hour)/(24*time.Hour)))
		}
		out = append(out, occ)
	}
	return out, nil
}

// naive is t's wall clock as a UTC time.
func naive(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func occurrence(uid string, c *ical.Component, zones map[string]*time.Location) (Occurrence, error) {
	s, allDay, err := timeProp(c.Props.Get(ical.PropDateTimeStart), zones)
	if err != nil {
		return Occurrence{}, fmt.Errorf("icstest: %s DTSTART: %w", uid, err)
	}
	e := s
	if p := c.Props.Get(ical.PropDateTimeEnd); p != nil {
		if e, _, err = timeProp(p, zones); err != nil {
			return Occurrence{}, fmt.Errorf("icstest: %s DTEND: %w", uid, err)
		}
	} else if p := c.Props.Get(ical.PropDuration); p != nil {
		d, err := p.Duration()
		if err != nil {
			return Occurrence{}, fmt.Errorf("icstest: %s DURATION: %w", uid, err)
		}
		e = s.Add(d)
	}
	summary, _ := c.Props.Text(ical.PropSummary)
	return Occurrence{UID: uid, Start: s, End: e, AllDay: allDay, Summary: summary}, nil
}

// timeProp reads a DATE (as midnight UTC) or DATE-TIME (UTC, or local in
// its TZID's zone).
func timeProp(p *ical.Prop, zones map[string]*time.Location) (time.Time, bool, error) {
	if p == nil {
		return time.Time{}, false, errors.New("missing")
	}
	if p.Params.Get(ical.ParamValue) == "DATE" || len(p.Value) == 8 {
		t, err := time.ParseInLocation("20060102", p.Value, time.UTC)
		return t, true, err
	}
	if strings.HasSuffix(p.Value, "Z") {
		t, err := time.Parse("20060102T150405Z", p.Value)
		return t, false, err
	}
	tzid := p.Params.Get(ical.ParamTimezoneID)
	if tzid == "" {
		return time.Time{}, false, fmt.Errorf("floating time %q", p.Value)
	}
	loc := zones[tzid]
	if loc == nil {
		return time.Time{}, false, fmt.Errorf("TZID %q has no VTIMEZONE", tzid)
	}
	wall, err := time.Parse("20060102T150405", p.Value)
	if err != nil {
		return time.Time{}, false, err
	}
	return calendar.DateOf(wall).At(wall.Sub(calendar.DateOf(wall).In(time.UTC)), loc), false, nil
}

// zoneOf loads tzid, or rebuilds it from the VTIMEZONE's last STANDARD and
// DAYLIGHT rules.
func zoneOf(tzid string, c *ical.Component) (*time.Location, error) {
	if loc, err := time.LoadLocation(tzid); err == nil {
		return loc, nil
	}
	tz := &calendar.TimeZone{ID: "VTIMEZONE " + tzid, HasDefinition: true}
	for _, o := range c.Children {
		off, err := parseOffset(o.Props.Get(ical.PropTimezoneOffsetTo))
		if err != nil {
			return nil, fmt.Errorf("icstest: %s TZOFFSETTO: %w", tzid, err)
		}
		var tr *calendar.Transition
		if rr := o.Props.Get(ical.PropRecurrenceRule); rr != nil {
			tr, err = transition(rr.Value, o.Props.Get(ical.PropDateTimeStart))
			if err != nil {
				return nil, fmt.Errorf("icstest: %s: %w", tzid, err)
			}
		}
		if o.Name == ical.CompTimezoneDaylight {
			tz.DaylightOffset, tz.ToDaylight = off, tr
		} else {
			tz.StandardOffset, tz.ToStandard = off, tr
		}
	}
	if tz.ToDaylight == nil {
		tz.DaylightOffset, tz.ToStandard = tz.StandardOffset, nil
	}
	r := tz.Resolve()
	if r.Kind != calendar.ZoneCustom {
		return nil, fmt.Errorf("icstest: cannot rebuild VTIMEZONE %q", tzid)
	}
	return r.Location, nil
}

func parseOffset(p *ical.Prop) (time.Duration, error) {
	if p == nil || len(p.Value) < 5 {
		return 0, errors.New("missing or short")
	}
	h, err1 := strconv.Atoi(p.Value[1:3])
	m, err2 := strconv.Atoi(p.Value[3:5])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad offset %q", p.Value)
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if p.Value[0] == '-' {
		d = -d
	}
	return d, nil
}

func transition(rule string, dtstart *ical.Prop) (*calendar.Transition, error) {
	if dtstart == nil {
		return nil, errors.New("observance without DTSTART")
	}
	st, err := time.Parse("20060102T150405", dtstart.Value)
	if err != nil {
		return nil, err
	}
	tr := &calendar.Transition{At: time.Duration(st.Hour())*time.Hour + time.Duration(st.Minute())*time.Minute}
	for _, part := range strings.Split(rule, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "BYMONTH":
			m, err := strconv.Atoi(v)
			if err != nil {
				return nil, err
			}
			tr.Month = time.Month(m)
		case "BYDAY":
			days := map[string]time.Weekday{"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}
			if len(v) < 3 {
				return nil, fmt.Errorf("BYDAY %q", v)
			}
			n, err := strconv.Atoi(v[:len(v)-2])
			if err != nil {
				return nil, err
			}
			if n < 0 {
				n = 5
			}
			tr.Week, tr.Weekday = n, days[v[len(v)-2:]]
		}
	}
	return tr, nil
}
