package ics

import (
	"fmt"
	"strconv"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/exocal/exocal/sync/calendar"
)

// lookahead is how many years past the last year a file uses its
// VTIMEZONEs follow Go's data transition by transition: only a rule still
// in effect at the end is written open-ended, so a zone whose rule is not
// a fixed n-th weekday (Israel's "Friday on or after the 23rd") stays right
// for this long.
const lookahead = 10

// Years outside which VTIMEZONEs are not detailed: the last observance
// found carries on (its RRULE is open-ended).
const (
	minZoneYear = 1970
	maxZoneYear = 2100
)

// vtimezone builds the VTIMEZONE of a resolved zone for [fromYear, toYear].
func vtimezone(rz calendar.ResolvedZone, fromYear, toYear int) *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.Set(textProp(ical.PropTimezoneID, rz.TZID))
	if rz.Kind == calendar.ZoneCustom {
		tz.Children = customObservances(rz.Def)
		return tz
	}
	tz.Children = ianaObservances(rz.Location, fromYear, toYear)
	return tz
}

func offsetValue(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	s := fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec/60%60)
	if sec%60 != 0 {
		s += fmt.Sprintf("%02d", sec%60)
	}
	return s
}

func observance(dst bool, localStart time.Time, from, to int, name, rrule string) *ical.Component {
	kind := ical.CompTimezoneStandard
	if dst {
		kind = ical.CompTimezoneDaylight
	}
	c := ical.NewComponent(kind)
	c.Props.Set(rawProp(ical.PropDateTimeStart, localStart.Format(localFormat)))
	c.Props.Set(rawProp(ical.PropTimezoneOffsetFrom, offsetValue(from)))
	c.Props.Set(rawProp(ical.PropTimezoneOffsetTo, offsetValue(to)))
	if name != "" {
		c.Props.Set(textProp(ical.PropTimezoneName, name))
	}
	if rrule != "" {
		c.Props.Set(rawProp(ical.PropRecurrenceRule, rrule))
	}
	return c
}

// customObservances writes a definition from the source (EWS periods and
// a recurring transition group) as yearly STANDARD/DAYLIGHT rules.
func customObservances(def *calendar.TimeZone) []*ical.Component {
	std := int(def.StandardOffset / time.Second)
	if !def.HasDST() {
		return []*ical.Component{observance(false, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), std, std, "", "")}
	}
	dst := int(def.DaylightOffset / time.Second)
	rule := func(t *calendar.Transition, dstSide bool, from, to int) *ical.Component {
		n := strconv.Itoa(t.Week)
		if t.Week >= 5 {
			n = "-1"
		}
		first := nthWeekday(1970, t.Month, t.Week, t.Weekday).Add(t.At)
		rr := fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%s%s", int(t.Month), n, icalDay[t.Weekday])
		return observance(dstSide, first, from, to, "", rr)
	}
	return []*ical.Component{
		rule(def.ToDaylight, true, std, dst),
		rule(def.ToStandard, false, dst, std),
	}
}

// nthWeekday is midnight (as a naive UTC time) of the n-th (5 = last)
// weekday wd of month m in year y.
func nthWeekday(y int, m time.Month, n int, wd time.Weekday) time.Time {
	if n >= 5 {
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC)
		return last.AddDate(0, 0, -((int(last.Weekday()) - int(wd) + 7) % 7))
	}
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, 0, (int(wd)-int(first.Weekday())+7)%7+7*(n-1))
}

// zoneTransition is one change of offset (or of name/DST flag) of a zone.
type zoneTransition struct {
	at       time.Time // instant
	local    time.Time // wall clock just before, as a naive UTC time
	from, to int
	name     string
	dst      bool
}

type ruleKey struct {
	dst      bool
	from, to int
	name     string
	month    time.Month
	weekday  time.Weekday
	clock    time.Duration
}

type run struct {
	key    ruleKey
	ts     []zoneTransition
	nths   map[int]bool // candidate BYDAY ordinals still matching every transition
	closed bool
}

func ordinals(local time.Time) map[int]bool {
	d := local.Day()
	m := map[int]bool{}
	if n := (d-1)/7 + 1; n <= 4 {
		m[n] = true
	}
	if d+7 > calendar.DaysIn(local.Year(), local.Month()) {
		m[-1] = true
	}
	return m
}

// ianaObservances describes loc from Go's zone data: the observance in
// effect at the start of fromYear-1, then every transition up to
// toYear+lookahead, grouped into yearly RRULE runs where consecutive years
// follow one rule (n-th or last weekday of a month at one wall-clock
// time). A run still going in the last year is left open-ended: it is the
// zone's current rule.
func ianaObservances(loc *time.Location, fromYear, toYear int) []*ical.Component {
	fromYear = min(max(fromYear-1, minZoneYear), maxZoneYear)
	toYear = min(max(toYear+lookahead, fromYear), maxZoneYear)
	begin := time.Date(fromYear, 1, 1, 0, 0, 0, 0, loc)
	stop := time.Date(toYear+1, 1, 1, 0, 0, 0, 0, loc)

	name0, off0 := begin.Zone()
	comps := []*ical.Component{observance(begin.IsDST(), naive(begin, off0), off0, off0, name0, "")}

	trans := transitionsBetween(loc, begin, stop)

	var runs []*run
	open := map[ruleKey]*run{}
	for _, tr := range trans {
		k := ruleKey{tr.dst, tr.from, tr.to, tr.name, tr.local.Month(), tr.local.Weekday(),
			time.Duration(tr.local.Hour())*time.Hour + time.Duration(tr.local.Minute())*time.Minute + time.Duration(tr.local.Second())*time.Second}
		ords := ordinals(tr.local)
		if r := open[k]; r != nil && r.ts[len(r.ts)-1].local.Year() == tr.local.Year()-1 {
			both := map[int]bool{}
			for n := range r.nths {
				if ords[n] {
					both[n] = true
				}
			}
			if len(both) > 0 {
				r.nths = both
				r.ts = append(r.ts, tr)
				continue
			}
		}
		r := &run{key: k, ts: []zoneTransition{tr}, nths: ords}
		open[k] = r
		runs = append(runs, r)
	}
	for _, r := range runs {
		first, last := r.ts[0], r.ts[len(r.ts)-1]
		ongoing := last.local.Year() >= toYear
		rr := ""
		if len(r.ts) > 1 || ongoing {
			n := -1
			if !r.nths[-1] {
				for x := range r.nths {
					n = x
				}
			}
			rr = fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(r.key.month), n, icalDay[r.key.weekday])
			if len(r.nths) == 0 {
				rr = ""
			} else if !ongoing {
				rr += ";UNTIL=" + last.at.UTC().Format(utcFormat)
			}
		}
		if rr == "" && len(r.ts) > 1 {
			for _, tr := range r.ts {
				comps = append(comps, observance(tr.dst, tr.local, tr.from, tr.to, tr.name, ""))
			}
			continue
		}
		comps = append(comps, observance(first.dst, first.local, first.from, first.to, first.name, rr))
	}
	return comps
}

// transitionsBetween lists loc's changes of offset, name or DST flag in
// [begin, stop). Past the last explicit transition Go's ZoneBounds reports
// year boundaries too (and may not advance across one): those are skipped.
func transitionsBetween(loc *time.Location, begin, stop time.Time) []zoneTransition {
	var trans []zoneTransition
	for t := begin; t.Before(stop); {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(stop) {
			break
		}
		if !end.After(t) {
			t = t.Add(time.Hour)
			continue
		}
		before := end.Add(-time.Second).In(loc)
		at := end.In(loc)
		name0, from := before.Zone()
		name, to := at.Zone()
		if from != to || name0 != name || before.IsDST() != at.IsDST() {
			trans = append(trans, zoneTransition{at: end, local: naive(end, from), from: from, to: to, name: name, dst: at.IsDST()})
		}
		t = end
	}
	return trans
}

// naive is the wall clock of instant t at UTC offset off, as a UTC time.
func naive(t time.Time, off int) time.Time {
	return t.UTC().Add(time.Duration(off) * time.Second)
}
