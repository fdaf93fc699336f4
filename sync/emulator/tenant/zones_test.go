package tenant

import (
	"testing"
	"time"
)

// TestZoneTableMatchesIANA checks that the Windows rules in the table give
// the same UTC offset as the IANA location at noon of every day of
// 2025-2028, and around every transition instant.
func TestZoneTableMatchesIANA(t *testing.T) {
	t.Parallel()
	ids := ZoneIDs()
	if len(ids) < 12 {
		t.Fatalf("got %d zones, want at least 12", len(ids))
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			z, ok := Zone(id)
			if !ok {
				t.Fatalf("Zone(%q) not found", id)
			}
			if (z.ToDaylight == nil) != (z.ToStandard == nil) {
				t.Fatalf("only one transition set")
			}
			if z.ToDaylight == nil && z.DaylightBias != z.StandardBias {
				t.Fatalf("no DST but daylight bias %v != standard bias %v", z.DaylightBias, z.StandardBias)
			}
			for d := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2029; d = d.AddDate(0, 0, 1) {
				noon := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, z.Location)
				_, off := noon.Zone()
				if got, want := z.Offset(noon), time.Duration(off)*time.Second; got != want {
					t.Fatalf("%s: offset from Windows rules %v, want IANA %v", noon.Format(time.DateOnly), got, want)
				}
			}
			if z.ToDaylight == nil {
				return
			}
			// The transitions happen at the stated local wall times: one
			// minute before and after each, the rule offsets agree with IANA.
			for y := 2025; y <= 2028; y++ {
				for _, tr := range []*ZoneTransition{z.ToDaylight, z.ToStandard} {
					yy, mm, dd := tr.Date(y)
					// local wall time of the transition, in the offset in force before it
					before := time.Date(yy, mm, dd, 0, 0, 0, 0, time.UTC).Add(tr.TimeOffset)
					var bias time.Duration
					if tr == z.ToDaylight {
						bias = z.StandardBias
					} else {
						bias = z.DaylightBias
					}
					at := before.Add(bias) // UTC instant of the transition
					for _, probe := range []time.Duration{-time.Minute, time.Minute} {
						u := at.Add(probe)
						_, off := u.In(z.Location).Zone()
						if got, want := z.Offset(u), time.Duration(off)*time.Second; got != want {
							t.Errorf("%s %+v: offset %v, want IANA %v", u.Format(time.RFC3339), probe, got, want)
						}
					}
				}
			}
		})
	}
}

func TestZoneUnknown(t *testing.T) {
	t.Parallel()
	if _, ok := Zone("Mars Standard Time"); ok {
		t.Fatal("got ok for an unknown zone, want false")
	}
}
