package tenant

import (
	"sync"
	"time"
	_ "time/tzdata" // expansion must never depend on the host's zoneinfo
)

// zoneDef is one row of the zone table: a Windows time zone as Windows
// defines it today (the registry's TZI for the current year, which is what
// Exchange Online writes into a TimeZoneDefinition), and the IANA location
// CLDR's windowsZones.xml maps it to (territory "001").
//
// Sources: Microsoft's "Default Time Zones" list and the Windows registry
// (HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Time Zones\<id>\TZI:
// Bias, StandardBias, DaylightBias, StandardDate, DaylightDate), and CLDR
// common/supplemental/windowsZones.xml. Bias is minutes to add to local time
// to get UTC; EWS writes the same numbers as xs:duration (e.g. -PT1H).
// The test TestZoneTableMatchesIANA checks every row against the IANA rules
// for 2025-2028.
type zoneDef struct {
	id, name, iana    string
	bias, daylight    int // minutes; daylight is the total bias in daylight time
	toDST, toStandard *ZoneTransition
}

func tr(month int, dow string, occ int, hh, mm int) *ZoneTransition {
	return &ZoneTransition{Month: month, DayOfWeek: dow, Occurrence: occ, TimeOffset: time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute}
}

var zoneTable = []zoneDef{
	{id: "UTC", name: "(UTC) Coordinated Universal Time", iana: "Etc/UTC", bias: 0, daylight: 0},
	{id: "GMT Standard Time", name: "(UTC+00:00) Dublin, Edinburgh, Lisbon, London", iana: "Europe/London",
		bias: 0, daylight: -60, toDST: tr(3, "Sunday", -1, 1, 0), toStandard: tr(10, "Sunday", -1, 2, 0)},
	{id: "W. Europe Standard Time", name: "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", iana: "Europe/Berlin",
		bias: -60, daylight: -120, toDST: tr(3, "Sunday", -1, 2, 0), toStandard: tr(10, "Sunday", -1, 3, 0)},
	{id: "Romance Standard Time", name: "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", iana: "Europe/Paris",
		bias: -60, daylight: -120, toDST: tr(3, "Sunday", -1, 2, 0), toStandard: tr(10, "Sunday", -1, 3, 0)},
	{id: "Central Europe Standard Time", name: "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague", iana: "Europe/Budapest",
		bias: -60, daylight: -120, toDST: tr(3, "Sunday", -1, 2, 0), toStandard: tr(10, "Sunday", -1, 3, 0)},
	{id: "Eastern Standard Time", name: "(UTC-05:00) Eastern Time (US & Canada)", iana: "America/New_York",
		bias: 300, daylight: 240, toDST: tr(3, "Sunday", 2, 2, 0), toStandard: tr(11, "Sunday", 1, 2, 0)},
	{id: "Central Standard Time", name: "(UTC-06:00) Central Time (US & Canada)", iana: "America/Chicago",
		bias: 360, daylight: 300, toDST: tr(3, "Sunday", 2, 2, 0), toStandard: tr(11, "Sunday", 1, 2, 0)},
	{id: "Pacific Standard Time", name: "(UTC-08:00) Pacific Time (US & Canada)", iana: "America/Los_Angeles",
		bias: 480, daylight: 420, toDST: tr(3, "Sunday", 2, 2, 0), toStandard: tr(11, "Sunday", 1, 2, 0)},
	{id: "E. South America Standard Time", name: "(UTC-03:00) Brasilia", iana: "America/Sao_Paulo",
		bias: 180, daylight: 180}, // Brazil has had no DST since 2019
	{id: "India Standard Time", name: "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", iana: "Asia/Kolkata",
		bias: -330, daylight: -330},
	{id: "Tokyo Standard Time", name: "(UTC+09:00) Osaka, Sapporo, Tokyo", iana: "Asia/Tokyo",
		bias: -540, daylight: -540},
	{id: "AUS Eastern Standard Time", name: "(UTC+10:00) Canberra, Melbourne, Sydney", iana: "Australia/Sydney",
		bias: -600, daylight: -660, toDST: tr(10, "Sunday", 1, 2, 0), toStandard: tr(4, "Sunday", 1, 3, 0)},
	{id: "New Zealand Standard Time", name: "(UTC+12:00) Auckland, Wellington", iana: "Pacific/Auckland",
		bias: -720, daylight: -780, toDST: tr(9, "Sunday", -1, 2, 0), toStandard: tr(4, "Sunday", 1, 3, 0)},
}

var (
	zonesOnce sync.Once
	zonesByID map[string]ZoneInfo
	zoneOrder []string
)

func loadZones() {
	zonesByID = map[string]ZoneInfo{}
	for _, d := range zoneTable {
		loc, err := time.LoadLocation(d.iana)
		if err != nil {
			panic("tenant: zone table: " + err.Error()) // time/tzdata is embedded: cannot happen
		}
		zonesByID[d.id] = ZoneInfo{
			ID: d.id, Name: d.name, Location: loc,
			StandardBias: time.Duration(d.bias) * time.Minute,
			DaylightBias: time.Duration(d.daylight) * time.Minute,
			ToStandard:   d.toStandard, ToDaylight: d.toDST,
		}
		zoneOrder = append(zoneOrder, d.id)
	}
}

func zone(id string) (ZoneInfo, bool) {
	zonesOnce.Do(loadZones)
	z, ok := zonesByID[id]
	if ok {
		// Hand out copies of the transitions so callers cannot edit the table.
		if z.ToStandard != nil {
			c := *z.ToStandard
			z.ToStandard = &c
		}
		if z.ToDaylight != nil {
			c := *z.ToDaylight
			z.ToDaylight = &c
		}
	}
	return z, ok
}

func zoneIDs() []string {
	zonesOnce.Do(loadZones)
	return append([]string(nil), zoneOrder...)
}

func location(id string) *time.Location {
	zonesOnce.Do(loadZones)
	if z, ok := zonesByID[id]; ok {
		return z.Location
	}
	return time.UTC
}

// Date returns the local date of the transition in year.
func (tr ZoneTransition) Date(year int) (y int, m time.Month, d int) {
	wd := weekdayByName[tr.DayOfWeek]
	m = time.Month(tr.Month)
	if tr.Occurrence < 0 || tr.Occurrence >= 5 {
		last := daysIn(year, m)
		t := time.Date(year, m, last, 0, 0, 0, 0, time.UTC)
		back := (int(t.Weekday()) - int(wd) + 7) % 7
		return year, m, last - back
	}
	first := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
	fwd := (int(wd) - int(first.Weekday()) + 7) % 7
	return year, m, 1 + fwd + 7*(tr.Occurrence-1)
}

// Offset returns the zone's UTC offset at instant t computed from the
// Windows rules alone (Bias and transitions), not from the IANA location:
// what a client that only reads the EWS TimeZoneDefinition would compute.
func (z ZoneInfo) Offset(t time.Time) time.Duration {
	std := -z.StandardBias
	if z.ToDaylight == nil || z.ToStandard == nil {
		return std
	}
	dst := -z.DaylightBias
	// Transition instants in UTC: the to-DST time is local standard time,
	// the to-standard time is local daylight time.
	year := t.UTC().Year()
	inDST := func(y int) (start, end time.Time) {
		yy, mm, dd := z.ToDaylight.Date(y)
		start = time.Date(yy, mm, dd, 0, 0, 0, 0, time.UTC).Add(z.ToDaylight.TimeOffset - std)
		yy, mm, dd = z.ToStandard.Date(y)
		end = time.Date(yy, mm, dd, 0, 0, 0, 0, time.UTC).Add(z.ToStandard.TimeOffset - dst)
		return
	}
	start, end := inDST(year)
	if start.Before(end) { // northern hemisphere
		if !t.Before(start) && t.Before(end) {
			return dst
		}
		return std
	}
	// southern hemisphere: DST from start (late in year) to end (early in year)
	if t.Before(end) || !t.Before(start) {
		return dst
	}
	return std
}

var weekdayByName = map[string]time.Weekday{
	"Sunday": time.Sunday, "Monday": time.Monday, "Tuesday": time.Tuesday, "Wednesday": time.Wednesday,
	"Thursday": time.Thursday, "Friday": time.Friday, "Saturday": time.Saturday,
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
