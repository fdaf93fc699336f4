// Package calendar is ExoCal's protocol-neutral calendar model: an Event
// (a single item or a recurring series with its exceptions), its Recurrence,
// its TimeZone, and the Source interface through which a protocol backend
// (EWS now, Microsoft Graph later) hands changes to the engine.
//
// The model holds what Exchange means, not how a wire format spells it:
// instants are time.Time in UTC, the series' time zone is kept separately so
// that recurrence can be expanded in local time, and all-day events carry
// their local dates.
//
// Time zones: TimeZone.Resolve maps a Windows zone id to IANA through
// CLDR's windowsZones (windowszones.xml, embedded; territory "001") and
// Go's embedded zone database (time/tzdata), or builds a location from the
// definition the source sent when the id is unknown ("Customized Time
// Zone"); the host's zone is never used. Expansion (Event.Expand,
// SeriesStarts, TouchesWindow) follows Exchange's semantics in the series'
// zone, independently of any iCalendar RRULE.
package calendar

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// In returns midnight at the start of d in loc (see At for a midnight a
// DST change skips).
func (d Date) In(loc *time.Location) time.Time { return d.At(0, loc) }

// At returns the instant of wall-clock time clock (since midnight) on d in
// loc, the way Exchange and RFC 5545 resolve the two special cases: a wall
// time a DST change skips is taken with the offset before the change (so
// 02:30 on a spring-forward night at 02:00 is 03:30 in summer time), and
// one a DST change repeats is its first occurrence. (time.Date leaves both
// unspecified, and in practice answers differently east and west of UTC.)
func (d Date) At(clock time.Duration, loc *time.Location) time.Time {
	wall := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(clock)
	// The offsets in effect around wall (a day either side covers any
	// real zone's offset).
	_, before := wall.Add(-26 * time.Hour).In(loc).Zone()
	_, after := wall.Add(26 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if _, o := t.Zone(); o == off && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() {
		// A skipped wall time: take it with the offset before the change.
		best = wall.Add(-time.Duration(before) * time.Second).In(loc)
	}
	return best
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Event is one calendar item: a single event, or the master of a recurring
// series together with its deleted and modified occurrences.
type Event struct {
	// ItemID is the source's opaque id of the item (EWS ItemId); the engine
	// keys its cache and applies deletes by it.
	ItemID    string
	ChangeKey string
	// UID is the iCalendar UID (EWS UID / Graph iCalUId); the same for a
	// master and all its occurrences.
	UID string

	Subject  string
	Location string
	Body     string // plain text

	// Start and End are instants. For an all-day event they are midnight
	// in TimeZone of the first day and of the day after the last day.
	Start, End time.Time
	AllDay     bool
	// TimeZone is the zone the item was created in (EWS StartTimeZone); the
	// recurrence is expanded in it. EndTimeZone is set only when it differs.
	TimeZone    *TimeZone
	EndTimeZone *TimeZone

	// Recurrence is nil for a single event or a modified occurrence.
	Recurrence *Recurrence
	// DeletedOccurrences are the original start instants of occurrences
	// removed from the series.
	DeletedOccurrences []time.Time
	// ModifiedOccurrences are exceptions: each a whole event whose
	// OriginalStart says which occurrence it replaces.
	ModifiedOccurrences []Event
	// OriginalStart is set on a modified occurrence only: the start the
	// occurrence would have had (its RECURRENCE-ID).
	OriginalStart time.Time

	Organizer *Person
	Attendees []Attendee

	Categories  []string
	FreeBusy    FreeBusy
	Sensitivity Sensitivity
	// Reminder is how long before Start the reminder fires; nil when no
	// reminder is set.
	Reminder  *time.Duration
	Cancelled bool

	LastModified time.Time
	Sequence     int
}

// IsRecurring reports whether e is the master of a series.
func (e *Event) IsRecurring() bool { return e.Recurrence != nil }

// Person is an organizer or attendee.
type Person struct {
	Name  string
	Email string
}

// Attendee is a person invited to a meeting, with their answer.
type Attendee struct {
	Person
	Role     AttendeeRole
	Response Response
}

// AttendeeRole says how an attendee was invited.
type AttendeeRole int

const (
	Required AttendeeRole = iota
	Optional
	Resource
)

// Response is an attendee's answer (EWS ResponseTypeType).
type Response int

const (
	ResponseUnknown Response = iota
	ResponseOrganizer
	ResponseTentative
	ResponseAccept
	ResponseDecline
	ResponseNoResponse
)

// FreeBusy is how the event shows in free/busy (EWS LegacyFreeBusyStatus).
type FreeBusy int

const (
	Busy FreeBusy = iota // the zero value: Exchange's default for a new appointment
	Free
	Tentative
	OutOfOffice
	WorkingElsewhere
	NoData
)

// Sensitivity is the item's sensitivity (EWS SensitivityChoicesType).
type Sensitivity int

const (
	Normal Sensitivity = iota
	Personal
	Private
	Confidential
)
