package ews

import (
	"encoding/xml"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

func TestConvertRecurrencePatterns(t *testing.T) {
	t.Parallel()
	d := func(y int, m time.Month, day int) calendar.Date { return calendar.Date{Year: y, Month: m, Day: day} }
	tests := []struct {
		name string
		xml  string
		want calendar.Recurrence
	}{
		{"daily no end", `<DailyRecurrence><Interval>3</Interval></DailyRecurrence><NoEndRecurrence><StartDate>2024-01-02Z</StartDate></NoEndRecurrence>`,
			calendar.Recurrence{Pattern: calendar.Daily, Interval: 3, Range: calendar.NoEnd, StartDate: d(2024, 1, 2)}},
		{"weekly end date", `<WeeklyRecurrence><Interval>1</Interval><DaysOfWeek>Monday Wednesday Friday</DaysOfWeek></WeeklyRecurrence><EndDateRecurrence><StartDate>2024-01-01</StartDate><EndDate>2024-06-30+02:00</EndDate></EndDateRecurrence>`,
			calendar.Recurrence{Pattern: calendar.Weekly, Interval: 1, DaysOfWeek: []calendar.Day{calendar.Monday, calendar.Wednesday, calendar.Friday},
				FirstDayOfWeek: time.Sunday, Range: calendar.EndDate, StartDate: d(2024, 1, 1), EndDate: d(2024, 6, 30)}},
		{"absolute monthly", `<AbsoluteMonthlyRecurrence><Interval>2</Interval><DayOfMonth>31</DayOfMonth></AbsoluteMonthlyRecurrence><NumberedRecurrence><StartDate>2024-01-31</StartDate><NumberOfOccurrences>6</NumberOfOccurrences></NumberedRecurrence>`,
			calendar.Recurrence{Pattern: calendar.AbsoluteMonthly, Interval: 2, DayOfMonth: 31, Range: calendar.Numbered, StartDate: d(2024, 1, 31), Count: 6}},
		{"relative monthly weekday", `<RelativeMonthlyRecurrence><Interval>1</Interval><DaysOfWeek>Weekday</DaysOfWeek><DayOfWeekIndex>Last</DayOfWeekIndex></RelativeMonthlyRecurrence><NoEndRecurrence><StartDate>2024-01-31</StartDate></NoEndRecurrence>`,
			calendar.Recurrence{Pattern: calendar.RelativeMonthly, Interval: 1, DaysOfWeek: []calendar.Day{calendar.AnyWeekday}, Index: calendar.Last, Range: calendar.NoEnd, StartDate: d(2024, 1, 31)}},
		{"absolute yearly", `<AbsoluteYearlyRecurrence><DayOfMonth>29</DayOfMonth><Month>February</Month></AbsoluteYearlyRecurrence><NoEndRecurrence><StartDate>2024-02-29</StartDate></NoEndRecurrence>`,
			calendar.Recurrence{Pattern: calendar.AbsoluteYearly, Interval: 1, DayOfMonth: 29, Month: time.February, Range: calendar.NoEnd, StartDate: d(2024, 2, 29)}},
		{"relative yearly weekend day", `<RelativeYearlyRecurrence><DaysOfWeek>WeekendDay</DaysOfWeek><DayOfWeekIndex>First</DayOfWeekIndex><Month>May</Month></RelativeYearlyRecurrence><NumberedRecurrence><StartDate>2024-05-04</StartDate><NumberOfOccurrences>3</NumberOfOccurrences></NumberedRecurrence>`,
			calendar.Recurrence{Pattern: calendar.RelativeYearly, Interval: 1, DaysOfWeek: []calendar.Day{calendar.WeekendDay}, Index: calendar.First, Month: time.May, Range: calendar.Numbered, StartDate: d(2024, 5, 4), Count: 3}},
		{"relative monthly any day", `<RelativeMonthlyRecurrence><Interval>1</Interval><DaysOfWeek>Day</DaysOfWeek><DayOfWeekIndex>Second</DayOfWeekIndex></RelativeMonthlyRecurrence><NoEndRecurrence><StartDate>2024-01-02</StartDate></NoEndRecurrence>`,
			calendar.Recurrence{Pattern: calendar.RelativeMonthly, Interval: 1, DaysOfWeek: []calendar.Day{calendar.AnyDay}, Index: calendar.Second, Range: calendar.NoEnd, StartDate: d(2024, 1, 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var w wireRecurrence
			if err := xml.Unmarshal([]byte("<Recurrence>"+tt.xml+"</Recurrence>"), &w); err != nil {
				t.Fatal(err)
			}
			got, err := convertRecurrence(&w)
			if err != nil {
				t.Fatal(err)
			}
			if !equalRecurrence(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func equalRecurrence(a, b calendar.Recurrence) bool {
	if len(a.DaysOfWeek) != len(b.DaysOfWeek) {
		return false
	}
	for i := range a.DaysOfWeek {
		if a.DaysOfWeek[i] != b.DaysOfWeek[i] {
			return false
		}
	}
	a.DaysOfWeek, b.DaysOfWeek = nil, nil
	return a.Pattern == b.Pattern && a.Interval == b.Interval && a.FirstDayOfWeek == b.FirstDayOfWeek &&
		a.DayOfMonth == b.DayOfMonth && a.Index == b.Index && a.Month == b.Month && a.Range == b.Range &&
		a.StartDate == b.StartDate && a.EndDate == b.EndDate && a.Count == b.Count
}

func TestConvertRecurrenceErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`<NoEndRecurrence><StartDate>2024-01-01</StartDate></NoEndRecurrence>`,
		`<DailyRecurrence><Interval>1</Interval></DailyRecurrence>`,
		`<WeeklyRecurrence><Interval>1</Interval><DaysOfWeek>Funday</DaysOfWeek></WeeklyRecurrence><NoEndRecurrence><StartDate>2024-01-01</StartDate></NoEndRecurrence>`,
		`<AbsoluteYearlyRecurrence><DayOfMonth>1</DayOfMonth><Month>Smarch</Month></AbsoluteYearlyRecurrence><NoEndRecurrence><StartDate>2024-01-01</StartDate></NoEndRecurrence>`,
		`<DailyRecurrence><Interval>1</Interval></DailyRecurrence><NoEndRecurrence><StartDate>24-1-1</StartDate></NoEndRecurrence>`,
	} {
		var w wireRecurrence
		if err := xml.Unmarshal([]byte("<Recurrence>"+in+"</Recurrence>"), &w); err != nil {
			t.Fatal(err)
		}
		if _, err := convertRecurrence(&w); err == nil {
			t.Errorf("convertRecurrence(%s): got nil error, want one", in)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"P0DT8H0M0.0S", 8 * time.Hour, true},
		{"-PT1H", -time.Hour, true},
		{"-P0DT5H30M0.0S", -(5*time.Hour + 30*time.Minute), true},
		{"PT0S", 0, true},
		{"PT2H30M", 2*time.Hour + 30*time.Minute, true},
		{"P1D", 24 * time.Hour, true},
		{"PT1.5S", 1500 * time.Millisecond, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"8H", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q): got %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestConvertTimeZoneWithoutDST(t *testing.T) {
	t.Parallel()
	in := `<StartTimeZone Id="India Standard Time" Name="(UTC+05:30) Chennai"><Periods><Period Bias="-P0DT5H30M0.0S" Name="Standard" Id="Std"/></Periods><TransitionsGroups><TransitionsGroup Id="0"><Transition><To Kind="Period">Std</To></Transition></TransitionsGroup></TransitionsGroups><Transitions><Transition><To Kind="Group">0</To></Transition></Transitions></StartTimeZone>`
	var w wireTimeZoneDef
	if err := xml.Unmarshal([]byte(in), &w); err != nil {
		t.Fatal(err)
	}
	tz, err := convertTimeZone(&w)
	if err != nil {
		t.Fatal(err)
	}
	want := 5*time.Hour + 30*time.Minute
	if tz.ID != "India Standard Time" || tz.StandardOffset != want || tz.DaylightOffset != want || tz.ToDaylight != nil || tz.ToStandard != nil || !tz.HasDefinition {
		t.Errorf("got %+v", tz)
	}
	// An id without a definition (EndTimeZone Id="…" only).
	var bare wireTimeZoneDef
	xml.Unmarshal([]byte(`<EndTimeZone Id="UTC"/>`), &bare)
	tz, err = convertTimeZone(&bare)
	if err != nil || tz.ID != "UTC" || tz.HasDefinition {
		t.Errorf("got %+v, %v; want id only", tz, err)
	}
}
