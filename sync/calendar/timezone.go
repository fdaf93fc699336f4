package calendar

import "time"

// TimeZone is a Windows time zone as Exchange describes it: its id (for
// example "W. Europe Standard Time", or "Customized Time Zone" for one with
// no standard id) and, when the source sent it, its definition. The ICS
// renderer maps a known id to IANA through CLDR and builds a VTIMEZONE from
// the definition when the id is unknown; it never guesses.
type TimeZone struct {
	ID   string
	Name string
	// StandardOffset and DaylightOffset are UTC offsets (east of UTC is
	// positive): EWS Bias is their negation.
	StandardOffset time.Duration
	DaylightOffset time.Duration
	// ToStandard and ToDaylight are the yearly transitions; both nil for a
	// zone without daylight saving time.
	ToStandard *Transition
	ToDaylight *Transition
	// HasDefinition reports whether the offsets and transitions were given
	// by the source (and may be used to build a VTIMEZONE).
	HasDefinition bool
}

// Transition is a yearly change of offset: on the Week-th (1..4, 5 = last)
// Weekday of Month at local time At (wall clock of the period being left).
type Transition struct {
	Month   time.Month
	Week    int
	Weekday time.Weekday
	At      time.Duration
}
