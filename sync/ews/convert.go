package ews

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// Conversion of EWS calendar items (types.xsd CalendarItemType) into
// sync/calendar's model. Instants become UTC time.Time; recurrence dates
// stay local dates in the series' zone; the time zone definition
// (TimeZoneDefinitionType) becomes offsets and yearly transitions.

func convertItem(w *wireCalendarItem) (calendar.Event, error) {
	ev := calendar.Event{
		ItemID:    strings.TrimSpace(w.ItemID.ID),
		ChangeKey: w.ItemID.ChangeKey,
		UID:       strings.TrimSpace(w.UID),
		Subject:   w.Subject,
		Location:  w.Location,
		AllDay:    w.IsAllDayEvent,
		Cancelled: w.IsCancelled,
		Sequence:  w.AppointmentSequenceNumber,
	}
	if w.Body != nil {
		ev.Body = w.Body.Text
	}
	var err error
	if ev.Start, err = parseDateTimeField("Start", w.Start); err != nil {
		return ev, err
	}
	if ev.End, err = parseDateTimeField("End", w.End); err != nil {
		return ev, err
	}
	if ev.OriginalStart, err = parseDateTimeField("OriginalStart", w.OriginalStart); err != nil {
		return ev, err
	}
	if ev.LastModified, err = parseDateTimeField("LastModifiedTime", w.LastModifiedTime); err != nil {
		return ev, err
	}
	for _, c := range w.Categories {
		if c = strings.TrimSpace(c); c != "" {
			ev.Categories = append(ev.Categories, c)
		}
	}
	ev.FreeBusy = freeBusy(w.LegacyFreeBusyStatus)
	ev.Sensitivity = sensitivity(w.Sensitivity)
	if w.ReminderIsSet != nil && *w.ReminderIsSet {
		m := 0
		if w.ReminderMinutesBeforeStart != nil {
			m = *w.ReminderMinutesBeforeStart
		}
		d := time.Duration(m) * time.Minute
		ev.Reminder = &d
	}
	if w.Organizer != nil && (w.Organizer.EmailAddress != "" || w.Organizer.Name != "") {
		ev.Organizer = &calendar.Person{Name: strings.TrimSpace(w.Organizer.Name), Email: strings.TrimSpace(w.Organizer.EmailAddress)}
	}
	for _, group := range []struct {
		list []wireAttendee
		role calendar.AttendeeRole
	}{{w.RequiredAttendees, calendar.Required}, {w.OptionalAttendees, calendar.Optional}, {w.Resources, calendar.Resource}} {
		for _, a := range group.list {
			ev.Attendees = append(ev.Attendees, calendar.Attendee{
				Person:   calendar.Person{Name: strings.TrimSpace(a.Mailbox.Name), Email: strings.TrimSpace(a.Mailbox.EmailAddress)},
				Role:     group.role,
				Response: response(a.ResponseType),
			})
		}
	}
	if w.StartTimeZone != nil {
		if ev.TimeZone, err = convertTimeZoneCached(w.StartTimeZone); err != nil {
			return ev, err
		}
	}
	if w.EndTimeZone != nil && (ev.TimeZone == nil || w.EndTimeZone.ID != ev.TimeZone.ID) {
		if ev.EndTimeZone, err = convertTimeZoneCached(w.EndTimeZone); err != nil {
			return ev, err
		}
	}
	if w.Recurrence != nil {
		if ev.Recurrence, err = convertRecurrence(w.Recurrence); err != nil {
			return ev, err
		}
	}
	for _, s := range w.DeletedOccurrences {
		t, err := parseDateTimeField("DeletedOccurrence/Start", s)
		if err != nil {
			return ev, err
		}
		ev.DeletedOccurrences = append(ev.DeletedOccurrences, t)
	}
	return ev, nil
}

// parseDateTime parses an xs:dateTime. Exchange always sends a zone ("Z" or
// an offset); one without is read as UTC, as Exchange itself does without a
// time zone context.
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func parseDateTimeField(name, s string) (time.Time, error) {
	t, err := parseDateTime(s)
	if err != nil {
		return t, fmt.Errorf("ews: bad %s %q: %w", name, s, err)
	}
	return t, nil
}

// parseDate parses an xs:date, which may carry a zone suffix
// ("2014-03-08-08:00", "2014-03-08Z"); the zone does not change the date.
func parseDate(s string) (calendar.Date, error) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return calendar.Date{}, fmt.Errorf("ews: bad date %q", s)
	}
	t, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return calendar.Date{}, fmt.Errorf("ews: bad date %q: %w", s, err)
	}
	return calendar.DateOf(t), nil
}

var durationRE = regexp.MustCompile(`^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseDuration parses an xs:duration such as "P0DT8H0M0.0S" or "-PT30M".
// Years and months (never used by EWS time zones) count 365 and 30 days.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "-P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("ews: bad duration %q", s)
	}
	num := func(v string) int64 {
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	d := time.Duration(num(m[2]))*365*24*time.Hour +
		time.Duration(num(m[3]))*30*24*time.Hour +
		time.Duration(num(m[4]))*24*time.Hour +
		time.Duration(num(m[5]))*time.Hour +
		time.Duration(num(m[6]))*time.Minute
	if m[7] != "" {
		f, err := strconv.ParseFloat(m[7], 64)
		if err != nil {
			return 0, fmt.Errorf("ews: bad duration %q", s)
		}
		d += time.Duration(f * float64(time.Second))
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

func freeBusy(s string) calendar.FreeBusy {
	switch strings.TrimSpace(s) {
	case "Free":
		return calendar.Free
	case "Tentative":
		return calendar.Tentative
	case "OOF":
		return calendar.OutOfOffice
	case "WorkingElsewhere":
		return calendar.WorkingElsewhere
	case "NoData":
		return calendar.NoData
	}
	return calendar.Busy
}

func sensitivity(s string) calendar.Sensitivity {
	switch strings.TrimSpace(s) {
	case "Personal":
		return calendar.Personal
	case "Private":
		return calendar.Private
	case "Confidential":
		return calendar.Confidential
	}
	return calendar.Normal
}

func response(s string) calendar.Response {
	switch strings.TrimSpace(s) {
	case "Organizer":
		return calendar.ResponseOrganizer
	case "Tentative":
		return calendar.ResponseTentative
	case "Accept":
		return calendar.ResponseAccept
	case "Decline":
		return calendar.ResponseDecline
	case "NoResponseReceived":
		return calendar.ResponseNoResponse
	}
	return calendar.ResponseUnknown
}

var dayNames = map[string]calendar.Day{
	"Sunday": calendar.Sunday, "Monday": calendar.Monday, "Tuesday": calendar.Tuesday,
	"Wednesday": calendar.Wednesday, "Thursday": calendar.Thursday, "Friday": calendar.Friday,
	"Saturday": calendar.Saturday, "Day": calendar.AnyDay, "Weekday": calendar.AnyWeekday,
	"WeekendDay": calendar.WeekendDay,
}

var indexNames = map[string]calendar.WeekIndex{
	"First": calendar.First, "Second": calendar.Second, "Third": calendar.Third,
	"Fourth": calendar.Fourth, "Last": calendar.Last,
}

func parseDays(s string) ([]calendar.Day, error) {
	var days []calendar.Day
	for _, f := range strings.Fields(s) {
		d, ok := dayNames[f]
		if !ok {
			return nil, fmt.Errorf("ews: bad day of week %q", f)
		}
		days = append(days, d)
	}
	if len(days) == 0 {
		return nil, fmt.Errorf("ews: recurrence without DaysOfWeek")
	}
	return days, nil
}

func parseMonth(s string) (time.Month, error) {
	s = strings.TrimSpace(s)
	for m := time.January; m <= time.December; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("ews: bad month %q", s)
}

func parseIndex(s string) (calendar.WeekIndex, error) {
	i, ok := indexNames[strings.TrimSpace(s)]
	if !ok {
		return 0, fmt.Errorf("ews: bad DayOfWeekIndex %q", s)
	}
	return i, nil
}

// convertRecurrence maps RecurrenceType (pattern + range) to calendar.Recurrence.
func convertRecurrence(w *wireRecurrence) (*calendar.Recurrence, error) {
	r := &calendar.Recurrence{Interval: 1}
	var err error
	interval := func(p *wirePattern) {
		if p.Interval > 0 {
			r.Interval = p.Interval
		}
	}
	switch {
	case w.Daily != nil:
		r.Pattern = calendar.Daily
		interval(w.Daily)
	case w.Weekly != nil:
		r.Pattern = calendar.Weekly
		interval(w.Weekly)
		if r.DaysOfWeek, err = parseDays(w.Weekly.DaysOfWeek); err != nil {
			return nil, err
		}
		r.FirstDayOfWeek = time.Sunday
		if f := strings.TrimSpace(w.Weekly.FirstDayOfWeek); f != "" {
			d, ok := dayNames[f]
			wd, single := d.Weekday()
			if !ok || !single {
				return nil, fmt.Errorf("ews: bad FirstDayOfWeek %q", f)
			}
			r.FirstDayOfWeek = wd
		}
	case w.AbsoluteMonthly != nil:
		r.Pattern = calendar.AbsoluteMonthly
		interval(w.AbsoluteMonthly)
		r.DayOfMonth = w.AbsoluteMonthly.DayOfMonth
	case w.RelativeMonthly != nil:
		r.Pattern = calendar.RelativeMonthly
		interval(w.RelativeMonthly)
		if r.DaysOfWeek, err = parseDays(w.RelativeMonthly.DaysOfWeek); err != nil {
			return nil, err
		}
		if r.Index, err = parseIndex(w.RelativeMonthly.DayOfWeekIndex); err != nil {
			return nil, err
		}
	case w.AbsoluteYearly != nil:
		r.Pattern = calendar.AbsoluteYearly
		r.DayOfMonth = w.AbsoluteYearly.DayOfMonth
		if r.Month, err = parseMonth(w.AbsoluteYearly.Month); err != nil {
			return nil, err
		}
	case w.RelativeYearly != nil:
		r.Pattern = calendar.RelativeYearly
		if r.DaysOfWeek, err = parseDays(w.RelativeYearly.DaysOfWeek); err != nil {
			return nil, err
		}
		if r.Index, err = parseIndex(w.RelativeYearly.DayOfWeekIndex); err != nil {
			return nil, err
		}
		if r.Month, err = parseMonth(w.RelativeYearly.Month); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("ews: recurrence without a supported pattern")
	}
	var rng *wireRange
	switch {
	case w.NoEnd != nil:
		r.Range, rng = calendar.NoEnd, w.NoEnd
	case w.EndDate != nil:
		r.Range, rng = calendar.EndDate, w.EndDate
		if r.EndDate, err = parseDate(w.EndDate.EndDate); err != nil {
			return nil, err
		}
	case w.Numbered != nil:
		r.Range, rng = calendar.Numbered, w.Numbered
		r.Count = w.Numbered.NumberOfOccurrences
	default:
		return nil, fmt.Errorf("ews: recurrence without a range")
	}
	if r.StartDate, err = parseDate(rng.StartDate); err != nil {
		return nil, err
	}
	return r, nil
}

// convertTimeZoneCached is convertTimeZone, or a copy of the conversion
// the zone cache holds for w (each event gets its own TimeZone).
func convertTimeZoneCached(w *wireTimeZoneDef) (*calendar.TimeZone, error) {
	if w.conv == nil {
		return convertTimeZone(w)
	}
	tz := *w.conv
	if tz.ToStandard != nil {
		t := *tz.ToStandard
		tz.ToStandard = &t
	}
	if tz.ToDaylight != nil {
		t := *tz.ToDaylight
		tz.ToDaylight = &t
	}
	return &tz, nil
}

// convertTimeZone maps a TimeZoneDefinitionType to calendar.TimeZone. The
// offsets and transitions come from the transitions group in force last
// (the target of the last entry of Transitions, else the last group).
func convertTimeZone(w *wireTimeZoneDef) (*calendar.TimeZone, error) {
	tz := &calendar.TimeZone{ID: strings.TrimSpace(w.ID), Name: strings.TrimSpace(w.Name)}
	if len(w.Periods) == 0 {
		return tz, nil
	}
	offsets := map[string]time.Duration{}
	for _, p := range w.Periods {
		bias, err := parseDuration(p.Bias)
		if err != nil {
			return nil, err
		}
		offsets[p.ID] = -bias
	}
	var group *wireTransGroup
	if w.Transitions != nil {
		for i := len(w.Transitions.List) - 1; i >= 0 && group == nil; i-- {
			t := w.Transitions.List[i]
			if t.To.Kind != "Group" {
				continue
			}
			for j := range w.TransitionsGroups {
				if w.TransitionsGroups[j].ID == strings.TrimSpace(t.To.Value) {
					group = &w.TransitionsGroups[j]
					break
				}
			}
		}
	}
	if group == nil && len(w.TransitionsGroups) > 0 {
		group = &w.TransitionsGroups[len(w.TransitionsGroups)-1]
	}
	if group == nil {
		// no transitions: a zone with one period.
		tz.StandardOffset = -mustBias(w.Periods[0].Bias)
		tz.DaylightOffset = tz.StandardOffset
		tz.HasDefinition = true
		return tz, nil
	}
	var recurring []wireTransition
	var plain *wireTransition
	for i := range group.Transitions {
		t := group.Transitions[i]
		switch t.XMLName.Local {
		case "RecurringDayTransition":
			recurring = append(recurring, t)
		case "Transition":
			if plain == nil {
				plain = &group.Transitions[i]
			}
		}
	}
	lookup := func(t wireTransition) (time.Duration, error) {
		off, ok := offsets[strings.TrimSpace(t.To.Value)]
		if !ok || t.To.Kind != "Period" {
			return 0, fmt.Errorf("ews: time zone %q: transition to unknown period %q", tz.ID, t.To.Value)
		}
		return off, nil
	}
	if len(recurring) < 2 {
		target := plain
		if target == nil && len(recurring) == 1 {
			target = &recurring[0]
		}
		if target == nil {
			return nil, fmt.Errorf("ews: time zone %q: transitions group %q has no usable transition", tz.ID, group.ID)
		}
		off, err := lookup(*target)
		if err != nil {
			return nil, err
		}
		tz.StandardOffset, tz.DaylightOffset, tz.HasDefinition = off, off, true
		return tz, nil
	}
	a, b := recurring[0], recurring[1]
	offA, err := lookup(a)
	if err != nil {
		return nil, err
	}
	offB, err := lookup(b)
	if err != nil {
		return nil, err
	}
	if offA == offB {
		tz.StandardOffset, tz.DaylightOffset, tz.HasDefinition = offA, offA, true
		return tz, nil
	}
	// The period with the larger offset is daylight saving time.
	toStd, toDlt := a, b
	tz.StandardOffset, tz.DaylightOffset = offA, offB
	if offA > offB {
		toStd, toDlt = b, a
		tz.StandardOffset, tz.DaylightOffset = offB, offA
	}
	if tz.ToStandard, err = convertTransition(toStd); err != nil {
		return nil, err
	}
	if tz.ToDaylight, err = convertTransition(toDlt); err != nil {
		return nil, err
	}
	tz.HasDefinition = true
	return tz, nil
}

func mustBias(s string) time.Duration {
	d, _ := parseDuration(s)
	return d
}

func convertTransition(t wireTransition) (*calendar.Transition, error) {
	at, err := parseDuration(t.TimeOffset)
	if err != nil {
		return nil, err
	}
	d, ok := dayNames[strings.TrimSpace(t.DayOfWeek)]
	wd, single := d.Weekday()
	if !ok || !single {
		return nil, fmt.Errorf("ews: bad transition DayOfWeek %q", t.DayOfWeek)
	}
	if t.Month < 1 || t.Month > 12 {
		return nil, fmt.Errorf("ews: bad transition month %d", t.Month)
	}
	week := t.Occurrence
	if week < 0 || week > 5 {
		week = 5 // -1: the last one
	}
	if week == 0 {
		return nil, fmt.Errorf("ews: bad transition occurrence %d", t.Occurrence)
	}
	return &calendar.Transition{Month: time.Month(t.Month), Week: week, Weekday: wd, At: at}, nil
}
