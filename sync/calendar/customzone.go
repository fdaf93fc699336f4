package calendar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// posixTZ renders a definition as a POSIX TZ string (the rule format TZif
// footers use), e.g. "<+0100>-1:00:00<+0200>-2:00:00,M3.5.0/2:00:00,M10.5.0/3:00:00".
// Transition times are the wall clock of the period being left, as in EWS.
func (tz *TimeZone) posixTZ() string {
	var b bytes.Buffer
	b.WriteString(posixName(tz.StandardOffset))
	b.WriteString(posixOffset(tz.StandardOffset))
	if !tz.HasDST() || !validTransition(tz.ToDaylight) || !validTransition(tz.ToStandard) {
		return b.String()
	}
	b.WriteString(posixName(tz.DaylightOffset))
	b.WriteString(posixOffset(tz.DaylightOffset))
	fmt.Fprintf(&b, ",%s,%s", posixRule(tz.ToDaylight), posixRule(tz.ToStandard))
	return b.String()
}

func validTransition(t *Transition) bool {
	return t != nil && t.Month >= time.January && t.Month <= time.December &&
		t.Week >= 1 && t.Week <= 5 && t.Weekday >= time.Sunday && t.Weekday <= time.Saturday &&
		t.At >= 0 && t.At < 24*time.Hour
}

func posixName(off time.Duration) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	m := int(off / time.Minute)
	return fmt.Sprintf("<%c%02d%02d>", sign, m/60, m%60)
}

// posixOffset is the POSIX offset: west of UTC positive.
func posixOffset(off time.Duration) string { return posixClock(-off) }

func posixClock(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	s := int(d / time.Second)
	return fmt.Sprintf("%s%d:%02d:%02d", sign, s/3600, s/60%60, s%60)
}

func posixRule(t *Transition) string {
	return fmt.Sprintf("M%d.%d.%d/%s", int(t.Month), t.Week, int(t.Weekday), posixClock(t.At))
}

var errBadDefinition = errors.New("calendar: time zone definition out of range")

// customLocation builds a *time.Location from the definition: a TZif v2
// file with no explicit transitions and the rule as its footer, which Go's
// time package applies to every instant.
func (tz *TimeZone) customLocation(name string) (*time.Location, error) {
	for _, off := range []time.Duration{tz.StandardOffset, tz.DaylightOffset} {
		if off <= -24*time.Hour || off >= 24*time.Hour || off%time.Second != 0 {
			return nil, errBadDefinition
		}
	}
	abbr := []byte("STD\x00")
	header := func(b *bytes.Buffer) {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
		for _, n := range []uint32{0, 0, 0, 0, 1, uint32(len(abbr))} {
			_ = binary.Write(b, binary.BigEndian, n)
		}
	}
	body := func(b *bytes.Buffer) {
		_ = binary.Write(b, binary.BigEndian, int32(tz.StandardOffset/time.Second))
		b.WriteByte(0) // isdst
		b.WriteByte(0) // abbreviation index
		b.Write(abbr)
	}
	var b bytes.Buffer
	header(&b)
	body(&b)
	header(&b)
	body(&b)
	b.WriteString("\n" + tz.posixTZ() + "\n")
	loc, err := time.LoadLocationFromTZData(name, b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("calendar: build zone %q: %w", name, err)
	}
	return loc, nil
}
