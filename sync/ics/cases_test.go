package ics

import (
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func dur(d time.Duration) *time.Duration { return &d }

var (
	berlin  = mustLoc("Europe/Berlin")
	newYork = mustLoc("America/New_York")
	sydney  = mustLoc("Australia/Sydney")
	wEurope = &calendar.TimeZone{ID: "W. Europe Standard Time"}
	eastern = &calendar.TimeZone{ID: "Eastern Standard Time"}
	ausEast = &calendar.TimeZone{ID: "AUS Eastern Standard Time"}
	custom  = &calendar.TimeZone{
		ID: "Customized Time Zone", HasDefinition: true,
		StandardOffset: -3 * time.Hour, DaylightOffset: -2 * time.Hour,
		ToDaylight: &calendar.Transition{Month: time.March, Week: 2, Weekday: time.Sunday, At: 2 * time.Hour},
		ToStandard: &calendar.Transition{Month: time.November, Week: 1, Weekday: time.Sunday, At: 2 * time.Hour},
	}
	modified = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
)

// goldenCases are hand-picked events, one golden file each.
var goldenCases = []struct {
	name   string
	opts   Options
	events []calendar.Event
}{
	{"weekly_berlin_dst", Options{}, []calendar.Event{{
		ItemID: "AAA1", UID: "weekly-1", Subject: "Team sync; planning, review\\notes",
		Location: "Room 1", Body: "Line one\nLine two\r\nLine three",
		Start: time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), End: time.Date(2026, 3, 2, 10, 0, 0, 0, berlin),
		TimeZone: wEurope,
		Recurrence: &calendar.Recurrence{Pattern: calendar.Weekly, Interval: 1,
			DaysOfWeek: []calendar.Day{calendar.Monday, calendar.Thursday}, FirstDayOfWeek: time.Monday,
			Range: calendar.EndDate, StartDate: calendar.Date{Year: 2026, Month: 3, Day: 2}, EndDate: calendar.Date{Year: 2026, Month: 4, Day: 30}},
		DeletedOccurrences: []time.Time{time.Date(2026, 3, 30, 9, 0, 0, 0, berlin)},
		ModifiedOccurrences: []calendar.Event{{ItemID: "AAA1x", UID: "weekly-1", Subject: "Team sync (moved)",
			Start: time.Date(2026, 4, 2, 14, 0, 0, 0, berlin), End: time.Date(2026, 4, 2, 15, 0, 0, 0, berlin),
			OriginalStart: time.Date(2026, 4, 2, 9, 0, 0, 0, berlin), TimeZone: wEurope, LastModified: modified}},
		Organizer: &calendar.Person{Name: "Alice Example", Email: "alice@contoso.com"},
		Attendees: []calendar.Attendee{
			{Person: calendar.Person{Name: "Bob, the builder", Email: "bob@contoso.com"}, Role: calendar.Required, Response: calendar.ResponseAccept},
			{Person: calendar.Person{Name: "Carol", Email: "carol@contoso.com"}, Role: calendar.Optional, Response: calendar.ResponseTentative},
			{Person: calendar.Person{Name: "Room 1", Email: "room1@contoso.com"}, Role: calendar.Resource, Response: calendar.ResponseNoResponse},
		},
		Categories: []string{"Blue category", "Work, urgent"}, Reminder: dur(15 * time.Minute),
		LastModified: modified, Sequence: 3,
	}}},
	{"all_day_multi_day", Options{}, []calendar.Event{{
		ItemID: "AAA2", UID: "allday-1", Subject: "Conference", AllDay: true,
		Start: time.Date(2026, 10, 24, 0, 0, 0, 0, sydney), End: time.Date(2026, 10, 27, 0, 0, 0, 0, sydney),
		TimeZone: ausEast, FreeBusy: calendar.OutOfOffice, LastModified: modified,
	}}},
	{"monthly_day31_new_york", Options{}, []calendar.Event{{
		ItemID: "AAA3", UID: "monthly-31", Subject: "Month end",
		Start: time.Date(2026, 1, 31, 17, 0, 0, 0, newYork), End: time.Date(2026, 1, 31, 17, 30, 0, 0, newYork),
		TimeZone: eastern,
		Recurrence: &calendar.Recurrence{Pattern: calendar.AbsoluteMonthly, Interval: 1, DayOfMonth: 31,
			Range: calendar.Numbered, StartDate: calendar.Date{Year: 2026, Month: 1, Day: 31}, Count: 12},
		LastModified: modified,
	}}},
	{"monthly_day30_february", Options{}, []calendar.Event{{
		ItemID: "AAA8", UID: "monthly-30", Subject: "Day 30 from February",
		Start: time.Date(2026, 2, 28, 9, 0, 0, 0, berlin), End: time.Date(2026, 2, 28, 9, 30, 0, 0, berlin),
		TimeZone: wEurope,
		Recurrence: &calendar.Recurrence{Pattern: calendar.AbsoluteMonthly, Interval: 1, DayOfMonth: 30,
			Range: calendar.Numbered, StartDate: calendar.Date{Year: 2026, Month: 2, Day: 1}, Count: 14},
		LastModified: modified,
	}}},
	{"relative_yearly_custom_zone", Options{}, []calendar.Event{{
		ItemID: "AAA4", UID: "relyear", Subject: "Second weekday of March",
		Start: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 3, 13, 0, 0, 0, time.UTC),
		TimeZone: custom,
		Recurrence: &calendar.Recurrence{Pattern: calendar.RelativeYearly, DaysOfWeek: []calendar.Day{calendar.AnyWeekday},
			Index: calendar.Second, Month: time.March, Range: calendar.NoEnd, StartDate: calendar.Date{Year: 2026, Month: 3, Day: 1}},
		FreeBusy: calendar.Tentative, LastModified: modified,
	}}},
	{"private_and_cancelled", Options{}, []calendar.Event{
		{ItemID: "AAA5", UID: "private-1", Subject: "Doctor", Location: "Clinic", Body: "secret",
			Start: time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC),
			TimeZone: &calendar.TimeZone{ID: "UTC"}, Sensitivity: calendar.Private, Reminder: dur(time.Hour),
			Attendees:    []calendar.Attendee{{Person: calendar.Person{Name: "Dr", Email: "dr@example.com"}}},
			LastModified: modified},
		{ItemID: "AAA6", UID: "cancel-1", Subject: "Cancelled: party", Cancelled: true, FreeBusy: calendar.Free,
			Start: time.Date(2026, 5, 5, 18, 0, 0, 0, time.UTC), End: time.Date(2026, 5, 5, 22, 0, 0, 0, time.UTC),
			LastModified: modified, Sequence: 2},
	}},
	{"free_busy_privacy", Options{Privacy: PrivacyFreeBusy}, []calendar.Event{{
		ItemID: "AAA7", UID: "fb-1", Subject: "Secret project", Location: "HQ", Body: "do not tell",
		Start: time.Date(2026, 6, 1, 9, 0, 0, 0, berlin), End: time.Date(2026, 6, 1, 10, 0, 0, 0, berlin),
		TimeZone: wEurope,
		Recurrence: &calendar.Recurrence{Pattern: calendar.Daily, Interval: 2, Range: calendar.Numbered,
			StartDate: calendar.Date{Year: 2026, Month: 6, Day: 1}, Count: 5},
		ModifiedOccurrences: []calendar.Event{{ItemID: "AAA7x", Subject: "Secret moved", Location: "HQ2",
			Start: time.Date(2026, 6, 3, 11, 0, 0, 0, berlin), End: time.Date(2026, 6, 3, 12, 0, 0, 0, berlin),
			OriginalStart: time.Date(2026, 6, 3, 9, 0, 0, 0, berlin), FreeBusy: calendar.Tentative, LastModified: modified}},
		Organizer:  &calendar.Person{Name: "Alice", Email: "alice@contoso.com"},
		Attendees:  []calendar.Attendee{{Person: calendar.Person{Name: "Bob", Email: "bob@contoso.com"}}},
		Categories: []string{"Red"}, Reminder: dur(15 * time.Minute), LastModified: modified,
	}}},
	{"dst_gap_and_crossing", Options{}, []calendar.Event{
		{ItemID: "AAA9", UID: "gap-1", Subject: "Nightly job at 02:30",
			Start: time.Date(2026, 3, 27, 2, 30, 0, 0, berlin), End: time.Date(2026, 3, 27, 3, 0, 0, 0, berlin),
			TimeZone: wEurope,
			Recurrence: &calendar.Recurrence{Pattern: calendar.Daily, Interval: 1, Range: calendar.Numbered,
				StartDate: calendar.Date{Year: 2026, Month: 3, Day: 27}, Count: 4},
			LastModified: modified},
		{ItemID: "AAA10", UID: "cross-1", Subject: "Weekend on call",
			Start: time.Date(2026, 10, 17, 18, 0, 0, 0, berlin), End: time.Date(2026, 10, 19, 8, 0, 0, 0, berlin),
			TimeZone: wEurope,
			Recurrence: &calendar.Recurrence{Pattern: calendar.Weekly, Interval: 1, DaysOfWeek: []calendar.Day{calendar.Saturday},
				FirstDayOfWeek: time.Monday, Range: calendar.Numbered, StartDate: calendar.Date{Year: 2026, Month: 10, Day: 17}, Count: 3},
			LastModified: modified},
	}},
	{"empty", Options{}, nil},
}
