package calendar

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // zones come from Go's embedded database, never from the host
)

//go:generate ./gen_windowszones.sh

// windowsZonesXML is CLDR's supplemental/windowsZones.xml; its header says
// which CLDR version and where it came from.
//
//go:embed windowszones.xml
var windowsZonesXML []byte

var windowsZones = sync.OnceValues(func() (map[string]string, error) {
	var doc struct {
		MapZones []struct {
			Other     string `xml:"other,attr"`
			Territory string `xml:"territory,attr"`
			Type      string `xml:"type,attr"`
		} `xml:"windowsZones>mapTimezones>mapZone"`
	}
	if err := xml.Unmarshal(windowsZonesXML, &doc); err != nil {
		return nil, fmt.Errorf("calendar: parse windowsZones: %w", err)
	}
	m := make(map[string]string)
	for _, z := range doc.MapZones {
		if z.Territory != "001" {
			continue
		}
		// type may list several zones; the first is the canonical one.
		iana, _, _ := strings.Cut(strings.TrimSpace(z.Type), " ")
		m[z.Other] = iana
	}
	return m, nil
})

// locations caches loaded zones: time.LoadLocation reads and parses the
// zone file on every call.
var locations sync.Map // key string → *time.Location

func loadCached(key string, load func() (*time.Location, error)) (*time.Location, error) {
	if v, ok := locations.Load(key); ok {
		return v.(*time.Location), nil
	}
	loc, err := load()
	if err != nil {
		return nil, err
	}
	v, _ := locations.LoadOrStore(key, loc)
	return v.(*time.Location), nil
}

// IANAZone returns the IANA zone CLDR's windowsZones maps a Windows time
// zone id to (territory "001", the zone for the id as a whole).
func IANAZone(windowsID string) (string, bool) {
	m, err := windowsZones()
	if err != nil {
		return "", false
	}
	iana, ok := m[windowsID]
	return iana, ok
}

// WindowsZoneIDs returns every Windows time zone id CLDR maps, sorted.
func WindowsZoneIDs() []string {
	m, _ := windowsZones()
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ZoneKind says how a TimeZone was resolved.
type ZoneKind int

const (
	// ZoneUTC: no zone, or an unknown id without a definition; times are
	// taken in UTC (nothing better is known, and the host's zone is never
	// guessed).
	ZoneUTC ZoneKind = iota
	// ZoneIANA: a Windows id CLDR maps to an IANA zone.
	ZoneIANA
	// ZoneCustom: an unknown id with a definition from the source.
	ZoneCustom
)

// ResolvedZone is a TimeZone made usable: a *time.Location and the TZID an
// iCalendar file names it by.
type ResolvedZone struct {
	Kind     ZoneKind
	Location *time.Location
	// TZID is the IANA name (ZoneIANA), a name derived from the Windows id
	// and its definition (ZoneCustom), or "" (ZoneUTC).
	TZID string
	// Def is the definition a ZoneCustom zone was built from.
	Def *TimeZone
}

// Resolve maps tz to a location. A nil tz, or an unknown id without a
// definition, resolves to UTC.
func (tz *TimeZone) Resolve() ResolvedZone {
	if tz == nil {
		return ResolvedZone{Kind: ZoneUTC, Location: time.UTC}
	}
	if iana, ok := IANAZone(tz.ID); ok {
		if loc, err := loadCached(iana, func() (*time.Location, error) { return time.LoadLocation(iana) }); err == nil {
			return ResolvedZone{Kind: ZoneIANA, Location: loc, TZID: iana}
		}
	}
	if tz.HasDefinition {
		tzid := tz.customTZID()
		if loc, err := loadCached("custom\x00"+tzid+"\x00"+tz.posixTZ(), func() (*time.Location, error) { return tz.customLocation(tzid) }); err == nil {
			return ResolvedZone{Kind: ZoneCustom, Location: loc, TZID: tzid, Def: tz}
		}
	}
	return ResolvedZone{Kind: ZoneUTC, Location: time.UTC}
}

// Location returns the *time.Location of tz (see Resolve).
func (tz *TimeZone) Location() *time.Location { return tz.Resolve().Location }

// HasDST reports whether a definition has both yearly transitions.
func (tz *TimeZone) HasDST() bool {
	return tz.ToStandard != nil && tz.ToDaylight != nil && tz.StandardOffset != tz.DaylightOffset
}

// customTZID derives a TZID from the id and a hash of the definition, so
// that two different "Customized Time Zone"s in one file never collide.
func (tz *TimeZone) customTZID() string {
	id := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == ';' || r == ':' || r == ',' {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(tz.ID, "_"))
	if len(id) > 40 {
		id = strings.ToValidUTF8(id[:40], "")
	}
	if id == "" {
		id = "Custom"
	}
	return fmt.Sprintf("%s %08x", id, fnv32(tz.posixTZ()))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
