// Package ics renders ExoCal's calendar model (sync/calendar) as iCalendar
// (RFC 5545) with github.com/emersion/go-ical, and writes one file per
// mailbox atomically.
//
// Output is deterministic: events are ordered by UID then RECURRENCE-ID,
// time zones by TZID, and nothing depends on the clock or on map order, so
// identical input gives byte-identical files and an unchanged mailbox's
// file is never rewritten.
//
// Choices where Exchange and iCalendar differ:
//   - Time zones: a Windows id CLDR maps is written as its IANA zone, with a
//     VTIMEZONE generated from Go's zone data (time/tzdata) for the years
//     the file uses; an unknown id with a definition ("Customized Time
//     Zone") gets a VTIMEZONE built from that definition and a TZID made of
//     the id and a hash of the definition; an unknown id without a
//     definition is written in UTC. The host's zone is never used.
//   - A series' DTSTART is its first real occurrence (the first date the
//     pattern gives on or after the recurrence's StartDate), so parsers that
//     count DTSTART as an occurrence and those that do not agree.
//   - AbsoluteMonthly/AbsoluteYearly on a day a month may lack: Exchange
//     puts the occurrence on the month's last day. Day 31 (and Feb 29
//     yearly) is BYMONTHDAY=-1, exactly that. Monthly on the 29th or 30th
//     is BYMONTHDAY=D plus the February occurrences as RDATEs (for a
//     never-ending series, for 20 years past its start or last change),
//     because ical.js ignores BYSETPOS with BYMONTHDAY; such a Numbered
//     series ends with UNTIL instead of COUNT.
//   - EndDate ranges: UNTIL is, in UTC, half a day after EndDate at the
//     series' time of day (for the Numbered case above: after the last
//     occurrence): inclusive of the last occurrence and before the next,
//     also for readers that misapply a DST offset; for all-day series the
//     DATE of EndDate (or of the last occurrence).
//   - Occurrences readers disagree on get an explicit override VEVENT
//     (same UID, RECURRENCE-ID, exact DTSTART/DTEND), for 20 years past the
//     series' start or last change: those whose wall time a DST change
//     skips (Exchange and RFC 5545 move them forward by the gap, ical.js
//     backward; RECURRENCE-ID/EXDATE then carry the nominal wall time the
//     RRULE generates), and those a DST change falls inside (Exchange keeps
//     the exact length, ical.js the wall-clock length).
//
// The data model is go-ical's (Component, Prop, Params): VTIMEZONEs are
// built as go-ical components, and files parse back with its Decoder.
// Events are written property by property by this package's encoder,
// without building go-ical components (maps and sorts per event would make
// 100,000 events take seconds); it writes exactly what go-ical's Encoder
// writes for the same components (properties and parameters sorted by
// name; a test checks this on thousands of events) but folds lines at 75
// octets (go-ical does not). Events are encoded in parallel, one worker
// per CPU, and the file is written from the workers' buffers without
// joining them first.
//   - Sensitivity: Normal → CLASS:PUBLIC; Personal and Private →
//     CLASS:PRIVATE; Confidential → CLASS:CONFIDENTIAL. Personal, Private
//     and Confidential items are all written as "Private appointment"
//     without location, description, organizer, attendees or categories
//     (a file leaves the mailbox's access control behind, so ExoCal errs on
//     the side of hiding).
//   - Privacy FreeBusy writes only busy blocks: times, recurrence,
//     exceptions' times, TRANSP and X-MICROSOFT-CDO-BUSYSTATUS, with SUMMARY
//     naming the free/busy status; no subjects, places, people, bodies,
//     categories or reminders.
package ics

import (
	"fmt"
	"strings"
)

// Privacy says how much of each event a file shows.
type Privacy int

const (
	// PrivacyFull exports everything except the details of private items.
	PrivacyFull Privacy = iota
	// PrivacyFreeBusy exports only busy blocks.
	PrivacyFreeBusy
)

// ParsePrivacy maps the config values "full" and "free-busy".
func ParsePrivacy(s string) (Privacy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "full":
		return PrivacyFull, nil
	case "free-busy", "freebusy":
		return PrivacyFreeBusy, nil
	}
	return 0, fmt.Errorf("ics: unknown privacy %q (want full or free-busy)", s)
}

// String returns the config spelling of p.
func (p Privacy) String() string {
	if p == PrivacyFreeBusy {
		return "free-busy"
	}
	return "full"
}

// Options control rendering.
type Options struct {
	Privacy Privacy
}

// ProductID is the PRODID of every file.
const ProductID = "-//ExoCal//ExoCal//EN"

// maxLine is the longest content line in octets, CRLF excluded (RFC 5545 3.1).
const maxLine = 75
