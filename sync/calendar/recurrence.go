package calendar

import "time"

// Pattern is the kind of a recurrence pattern, one per EWS
// RecurrencePatternTypes choice (the regenerating patterns are tasks-only).
type Pattern int

const (
	Daily Pattern = iota + 1
	Weekly
	AbsoluteMonthly // DayOfMonth every Interval months
	RelativeMonthly // Index DaysOfWeek every Interval months
	AbsoluteYearly  // DayOfMonth of Month every year
	RelativeYearly  // Index DaysOfWeek of Month every year
)

// Day is an EWS DayOfWeekType: a weekday, or one of the sets Day, Weekday
// and WeekendDay used by the relative patterns.
type Day int

const (
	Sunday Day = iota
	Monday
	Tuesday
	Wednesday
	Thursday
	Friday
	Saturday
	AnyDay     // "Day": any day of the week
	AnyWeekday // "Weekday": Monday to Friday
	WeekendDay // "WeekendDay": Saturday or Sunday
)

// Weekday returns the time.Weekday of a single day (Sunday..Saturday).
func (d Day) Weekday() (time.Weekday, bool) {
	if d >= Sunday && d <= Saturday {
		return time.Weekday(d), true
	}
	return 0, false
}

// WeekIndex is an EWS DayOfWeekIndexType.
type WeekIndex int

const (
	First WeekIndex = iota + 1
	Second
	Third
	Fourth
	Last
)

// RangeKind says how a series ends.
type RangeKind int

const (
	NoEnd    RangeKind = iota + 1
	EndDate            // ends on EndDate (inclusive, local date)
	Numbered           // ends after Count occurrences
)

// Recurrence is a series' pattern and range, as EWS defines them. Dates are
// local dates in the series' time zone.
type Recurrence struct {
	Pattern  Pattern
	Interval int // Daily, Weekly, AbsoluteMonthly, RelativeMonthly; 1 for yearly
	// DaysOfWeek: Weekly (one or more single days); the relative patterns
	// (exactly one Day, possibly AnyDay/AnyWeekday/WeekendDay).
	DaysOfWeek     []Day
	FirstDayOfWeek time.Weekday // Weekly
	DayOfMonth     int          // AbsoluteMonthly, AbsoluteYearly
	Index          WeekIndex    // RelativeMonthly, RelativeYearly
	Month          time.Month   // AbsoluteYearly, RelativeYearly

	Range     RangeKind
	StartDate Date
	EndDate   Date // Range == EndDate
	Count     int  // Range == Numbered
}
