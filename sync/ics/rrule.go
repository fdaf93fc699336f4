package ics

import (
	"strconv"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

var icalDay = [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// rruleValue is the RRULE of r for a series whose first occurrence starts
// at dtstart, and the last year the series (or, open-ended, the file) needs
// its zone for.
func rruleValue(e *calendar.Event, dtstart time.Time, rz calendar.ResolvedZone) (rule []byte, rdates []time.Time, lastYear int) {
	r := e.Recurrence
	buf := make([]byte, 0, 96)
	add := func(k, v string) {
		if len(buf) > 0 {
			buf = append(buf, ';')
		}
		buf = append(append(append(buf, k...), '='), v...)
	}
	interval := max(r.Interval, 1)
	setPos := func(idx calendar.WeekIndex) string {
		if idx == calendar.Last {
			return "-1"
		}
		return strconv.Itoa(int(idx))
	}
	// byDayRelative writes Index + DaysOfWeek of the relative patterns.
	byDayRelative := func() {
		if len(r.DaysOfWeek) != 1 {
			return
		}
		switch d := r.DaysOfWeek[0]; d {
		case calendar.AnyDay:
			add("BYDAY", "SU,MO,TU,WE,TH,FR,SA")
			add("BYSETPOS", setPos(r.Index))
		case calendar.AnyWeekday:
			add("BYDAY", "MO,TU,WE,TH,FR")
			add("BYSETPOS", setPos(r.Index))
		case calendar.WeekendDay:
			add("BYDAY", "SA,SU")
			add("BYSETPOS", setPos(r.Index))
		default:
			if wd, ok := d.Weekday(); ok {
				add("BYDAY", setPos(r.Index)+icalDay[wd])
			}
		}
	}
	// byMonthDay writes an absolute day. Exchange puts a day the month
	// lacks on the month's last day: for 31 (or any day at least the
	// month's longest length, as Feb 29 in a yearly pattern) that is
	// BYMONTHDAY=-1 exactly. Monthly on the 29th or 30th is BYMONTHDAY=D
	// plus the Februaries as RDATEs (ical.js, Thunderbird's parser, ignores
	// BYSETPOS with BYMONTHDAY, so BYMONTHDAY=28,..,D;BYSETPOS=-1 is not
	// portable).
	februaries := false
	byMonthDay := func(longest int) {
		d := r.DayOfMonth
		switch {
		case d >= longest:
			add("BYMONTHDAY", "-1")
		case d > 28:
			add("BYMONTHDAY", strconv.Itoa(d))
			februaries = true
		default:
			add("BYMONTHDAY", strconv.Itoa(d))
		}
	}
	switch r.Pattern {
	case calendar.Daily:
		add("FREQ", "DAILY")
		if interval > 1 {
			add("INTERVAL", strconv.Itoa(interval))
		}
	case calendar.Weekly:
		add("FREQ", "WEEKLY")
		if interval > 1 {
			add("INTERVAL", strconv.Itoa(interval))
		}
		var arr [7]string
		days := arr[:0]
		var seen [7]bool
		for i := 0; i < 7; i++ {
			wd := (r.FirstDayOfWeek + time.Weekday(i)) % 7
			for _, d := range r.DaysOfWeek {
				if w, ok := d.Weekday(); ok && w == wd && !seen[wd] {
					seen[wd] = true
					days = append(days, icalDay[wd])
				}
			}
		}
		add("BYDAY", strings.Join(days, ","))
		add("WKST", icalDay[r.FirstDayOfWeek%7])
	case calendar.AbsoluteMonthly:
		add("FREQ", "MONTHLY")
		if interval > 1 {
			add("INTERVAL", strconv.Itoa(interval))
		}
		byMonthDay(31)
	case calendar.RelativeMonthly:
		add("FREQ", "MONTHLY")
		if interval > 1 {
			add("INTERVAL", strconv.Itoa(interval))
		}
		byDayRelative()
	case calendar.AbsoluteYearly:
		add("FREQ", "YEARLY")
		add("BYMONTH", strconv.Itoa(int(r.Month)))
		byMonthDay(calendar.DaysIn(2000, r.Month)) // a leap year: the longest length
	case calendar.RelativeYearly:
		add("FREQ", "YEARLY")
		add("BYMONTH", strconv.Itoa(int(r.Month)))
		byDayRelative()
	}

	lastYear = dtstart.Year() + 2
	if !e.LastModified.IsZero() {
		lastYear = max(lastYear, e.LastModified.Year()+2)
	}
	// Horizon of the explicit February RDATEs of a never-ending series.
	horizon := horizonOf(e, dtstart)
	if februaries {
		e.SeriesStarts(func(s, _ time.Time) bool {
			if r.Range == calendar.NoEnd && s.After(horizon) {
				return false
			}
			if ls := s.In(rz.Location); ls.Day() < r.DayOfMonth {
				rdates = append(rdates, s)
			}
			return true
		})
	}
	// Half a day after an occurrence: inclusive of it, before the next (a
	// day or more later), even for readers that misapply a DST offset of a
	// few hours (pytz-based ones use DTSTART's offset for every occurrence).
	const slack = 12 * time.Hour
	switch {
	case r.Range == calendar.EndDate && e.AllDay:
		add("UNTIL", r.EndDate.In(time.UTC).Format(dateFormat))
		lastYear = r.EndDate.Year + 1
	case r.Range == calendar.EndDate:
		// The EndDate at the series' time of day: no occurrence after it
		// is on or before EndDate.
		lt := dtstart.In(rz.Location)
		clock := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second
		add("UNTIL", r.EndDate.At(clock, rz.Location).Add(slack).UTC().Format(utcFormat))
		lastYear = r.EndDate.Year + 1
	case r.Range == calendar.Numbered && !februaries:
		add("COUNT", strconv.Itoa(r.Count))
		lastYear = dtstart.Year() + 1 + numberedYears(r)
	case r.Range == calendar.Numbered:
		// COUNT would not count the February RDATEs: end at the last
		// occurrence instead.
		var last time.Time
		e.SeriesStarts(func(s, _ time.Time) bool { last = s; return true })
		lastYear = last.Year() + 1
		if e.AllDay {
			add("UNTIL", last.In(rz.Location).Format(dateFormat))
		} else {
			add("UNTIL", last.Add(slack).UTC().Format(utcFormat))
		}
	}
	return buf, rdates, lastYear
}

// numberedYears bounds how many years a Numbered series spans.
func numberedYears(r *calendar.Recurrence) int {
	n := min(max(r.Count, 1), 1_000_000)
	iv := min(max(r.Interval, 1), 1000)
	switch r.Pattern {
	case calendar.Daily:
		return n*iv/365 + 1
	case calendar.Weekly:
		return n*iv*7/365 + 1
	case calendar.AbsoluteMonthly, calendar.RelativeMonthly:
		return n*iv/12 + 1
	}
	return n
}

// rdateYears is how many years past the later of its start and its last
// modification a never-ending monthly series on the 29th or 30th lists its
// February occurrences (as RDATEs; see rruleValue).
const rdateYears = 20
