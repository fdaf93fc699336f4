package calendar

import (
	"testing"
	"time"
)

func TestEveryWindowsZoneLoads(t *testing.T) {
	t.Parallel()
	ids := WindowsZoneIDs()
	if len(ids) < 130 {
		t.Fatalf("got %d Windows zone ids from CLDR, want at least 130", len(ids))
	}
	for _, id := range ids {
		iana, ok := IANAZone(id)
		if !ok || iana == "" {
			t.Errorf("IANAZone(%q): got %q, %v, want a zone", id, iana, ok)
			continue
		}
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("zone %q -> %q: Go cannot load it: %v", id, iana, err)
		}
		tz := &TimeZone{ID: id}
		if r := tz.Resolve(); r.Kind != ZoneIANA || r.TZID != iana {
			t.Errorf("Resolve(%q): got kind %v TZID %q, want ZoneIANA %q", id, r.Kind, r.TZID, iana)
		}
	}
}

func TestKnownMappings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ win, iana string }{
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"Eastern Standard Time", "America/New_York"},
		{"AUS Eastern Standard Time", "Australia/Sydney"},
		{"India Standard Time", "Asia/Calcutta"},
		{"UTC", "Etc/UTC"},
	} {
		got, ok := IANAZone(c.win)
		if !ok || got != c.iana {
			t.Errorf("IANAZone(%q): got %q, %v, want %q", c.win, got, ok, c.iana)
		}
	}
}

func TestCustomZoneMatchesDefinition(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	sydney, _ := time.LoadLocation("Australia/Sydney")
	cases := []struct {
		name string
		tz   TimeZone
		ref  *time.Location
	}{
		{"central europe", TimeZone{
			ID: "Customized Time Zone", HasDefinition: true,
			StandardOffset: time.Hour, DaylightOffset: 2 * time.Hour,
			ToDaylight: &Transition{Month: time.March, Week: 5, Weekday: time.Sunday, At: 2 * time.Hour},
			ToStandard: &Transition{Month: time.October, Week: 5, Weekday: time.Sunday, At: 3 * time.Hour},
		}, berlin},
		{"southern hemisphere", TimeZone{
			ID: "Customized Time Zone", HasDefinition: true,
			StandardOffset: 10 * time.Hour, DaylightOffset: 11 * time.Hour,
			ToDaylight: &Transition{Month: time.October, Week: 1, Weekday: time.Sunday, At: 2 * time.Hour},
			ToStandard: &Transition{Month: time.April, Week: 1, Weekday: time.Sunday, At: 3 * time.Hour},
		}, sydney},
		{"no dst", TimeZone{ID: "Customized Time Zone", HasDefinition: true,
			StandardOffset: 5*time.Hour + 30*time.Minute, DaylightOffset: 5*time.Hour + 30*time.Minute},
			time.FixedZone("x", 5*3600+1800)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := c.tz.Resolve()
			if r.Kind != ZoneCustom {
				t.Fatalf("got kind %v, want ZoneCustom", r.Kind)
			}
			for at := time.Date(2015, 1, 1, 0, 30, 0, 0, time.UTC); at.Year() < 2035; at = at.Add(7 * time.Hour) {
				_, got := at.In(r.Location).Zone()
				_, want := at.In(c.ref).Zone()
				if got != want {
					t.Fatalf("offset at %v: got %d, want %d", at, got, want)
				}
			}
		})
	}
}

func TestUnknownZoneWithoutDefinitionIsUTC(t *testing.T) {
	t.Parallel()
	r := (&TimeZone{ID: "Customized Time Zone"}).Resolve()
	if r.Kind != ZoneUTC || r.Location != time.UTC {
		t.Errorf("got %v %v, want UTC", r.Kind, r.Location)
	}
}
