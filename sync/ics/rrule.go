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
func rruleValue(e *calendar.Event, dtstart time.Time, rz calendar.ResolvedZone) (string, int) {
	r := e.Recurrence
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+v) }
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
	// byMonthDay writes an absolute day; past the shortest length of the
	// month(s) it is the last of 28..D (Exchange's "last day" rule).
	byMonthDay := func(shortest int) {
		d := r.DayOfMonth
		if d <= shortest {
			add("BYMONTHDAY", strconv.Itoa(d))
			return
		}
		days := make([]string, 0, 4)
		for x := shortest; x <= d; x++ {
			days = append(days, strconv.Itoa(x))
		}
		add("BYMONTHDAY", strings.Join(days, ","))
		add("BYSETPOS", "-1")
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
		var days []string
		seen := map[time.Weekday]bool{}
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
		byMonthDay(28)
	case calendar.RelativeMonthly:
		add("FREQ", "MONTHLY")
		if interval > 1 {
			add("INTERVAL", strconv.Itoa(interval))
		}
		byDayRelative()
	case calendar.AbsoluteYearly:
		add("FREQ", "YEARLY")
		add("BYMONTH", strconv.Itoa(int(r.Month)))
		shortest := calendar.DaysIn(2001, r.Month) // a non-leap year
		byMonthDay(shortest)
	case calendar.RelativeYearly:
		add("FREQ", "YEARLY")
		add("BYMONTH", strconv.Itoa(int(r.Month)))
		byDayRelative()
	}

	lastYear := dtstart.Year() + 2
	if !e.LastModified.IsZero() {
		lastYear = max(lastYear, e.LastModified.Year()+2)
	}
	switch r.Range {
	case calendar.EndDate:
		if e.AllDay {
			add("UNTIL", r.EndDate.In(time.UTC).Format(dateFormat))
		} else {
			end := time.Date(r.EndDate.Year, r.EndDate.Month, r.EndDate.Day, 23, 59, 59, 0, rz.Location)
			add("UNTIL", end.UTC().Format(utcFormat))
		}
		lastYear = r.EndDate.Year + 1
	case calendar.Numbered:
		add("COUNT", strconv.Itoa(r.Count))
		var last time.Time
		e.SeriesStarts(func(s, _ time.Time) bool { last = s; return true })
		lastYear = last.Year() + 1
	}
	return strings.Join(parts, ";"), lastYear
}
