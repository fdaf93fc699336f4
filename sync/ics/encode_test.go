package ics

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// TestEncoderMatchesGoIcal checks the hand-written encoder against go-ical:
// the encoder also collects what it writes as go-ical components, and
// go-ical's own Encoder must write the same bytes (unfolded: go-ical does
// not fold lines) for a few thousand varied events. It also checks that
// collecting the components does not change the output.
func TestEncoderMatchesGoIcal(t *testing.T) {
	t.Parallel()
	for _, s := range corpus(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if len(s.events) == 0 {
				t.Skip("go-ical does not encode an empty calendar")
			}
			plain, err := render("m@contoso.com", s.events, s.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, cal, err := renderTree("m@contoso.com", s.events, s.opts, true)
			if err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			if !bytes.Equal(got, plain.Bytes()) {
				t.Fatalf("collecting components changed the output")
			}
			var want bytes.Buffer
			if err := ical.NewEncoder(&want).Encode(cal); err != nil {
				t.Fatalf("go-ical Encode: %v", err)
			}
			if unfolded := strings.ReplaceAll(string(got), "\r\n ", ""); unfolded != want.String() {
				gl, wl := strings.Split(unfolded, "\r\n"), strings.Split(want.String(), "\r\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("line %d: got %q, want (go-ical) %q", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("got %d lines, want (go-ical) %d", len(gl), len(wl))
			}
			if n := strings.Count(want.String(), "BEGIN:VEVENT"); n < len(s.events)/2 {
				t.Fatalf("got %d VEVENTs for %d events", n, len(s.events))
			}
		})
	}
}

// TestEncoderProp checks parameter sorting and quoting, property order and
// the values go-ical refuses.
func TestEncoderProp(t *testing.T) {
	t.Parallel()
	e := &encoder{}
	e.begin("VEVENT")
	e.prop(pUID, []byte("u"))
	e.prop(pAttendee, []byte("mailto:a@b"), param{"ROLE", "REQ-PARTICIPANT"}, param{"CN", "Doe, J"}, param{"CUTYPE", "RESOURCE"})
	e.prop(pAttendee, []byte("mailto:c@d"))
	e.prop(pDateTimeStart, []byte("20260101T090000"), param{"TZID", "Europe/Berlin"})
	e.end("VEVENT")
	want := "BEGIN:VEVENT\r\n" +
		"ATTENDEE;CN=\"Doe, J\";CUTYPE=RESOURCE;ROLE=REQ-PARTICIPANT:mailto:a@b\r\n" +
		"ATTENDEE:mailto:c@d\r\n" +
		"DTSTART;TZID=Europe/Berlin:20260101T090000\r\n" +
		"UID:u\r\nEND:VEVENT\r\n"
	if got := string(e.buf); got != want || e.err != nil {
		t.Errorf("got %q (err %v), want %q", got, e.err, want)
	}
	for _, c := range []struct {
		name  string
		value string
		p     []param
	}{
		{"crlf in value", "a\r\nB:c", nil},
		{"quote in param", "x", []param{{"CN", `a"b`}}},
	} {
		e := &encoder{}
		e.begin("VEVENT")
		e.prop(pSummary, []byte(c.value), c.p...)
		if e.err == nil {
			t.Errorf("%s: got no error, want one", c.name)
		}
	}
}

// TestSortVevents checks the keyed sort against a plain stable sort, with
// shared prefixes, NUL bytes, prefixes of each other and duplicates.
func TestSortVevents(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"", "\x00", "a", "b", "ab", "\xff", "0400000082"}
	for round := range 200 {
		vs := make([]vevent, rng.IntN(40))
		prefix := alphabet[rng.IntN(len(alphabet))] + "040000008200E00074C5B7101A82E008"
		for i := range vs {
			uid := prefix
			for range rng.IntN(4) {
				uid += alphabet[rng.IntN(len(alphabet))]
			}
			vs[i] = vevent{uid: uid, recurrenceID: alphabet[rng.IntN(3)], itemID: alphabet[rng.IntN(3)], lo: i}
		}
		want := slices.Clone(vs)
		slices.SortStableFunc(want, func(a, b vevent) int { return compareVevents(&a, &b) })
		for i, idx := range sortVevents(vs) {
			if vs[idx].lo != want[i].lo {
				t.Fatalf("round %d, position %d: got vevent %d (%q), want %d (%q)", round, i, vs[idx].lo, vs[idx].uid, want[i].lo, want[i].uid)
			}
		}
	}
}

// TestAppendText checks the fast TEXT writer against cleanText+escapeText
// on random strings of tricky pieces (controls, CR/LF, escapes, invalid
// and valid UTF-8, U+FFFD).
func TestAppendText(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", " ", "\t", "\n", "\r", "\r\n", "\x00", "\x1f", "\x7f", "\\", ";", ",", "\\n", "é", "€", "𝄞", "\uFFFD", "\xff", "\xe2\x82", "\xc3", "\x80"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var sb strings.Builder
		for range rng.IntN(8) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := sb.String()
		if got, want := string(appendText([]byte("x"), s)), "x"+escapeText(cleanText(s)); got != want {
			t.Fatalf("appendText(%q): got %q, want %q", s, got, want)
		}
	}
}

// TestAppendTimes checks the time writers against package time's Format,
// across zones and years (negative, before 1000, after 9999).
func TestAppendTimes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	zones := []*time.Location{time.UTC, berlin, newYork, sydney, mustLoc("Asia/Kathmandu"), mustLoc("America/St_Johns")}
	for range 20000 {
		sec := rng.Int64N(2*400_000_000_000) - 400_000_000_000 // about ±12,000 years
		if rng.IntN(2) == 0 {
			sec = rng.Int64N(5_000_000_000) // 1970..2128
		}
		tm := time.Unix(sec, 0).In(zones[rng.IntN(len(zones))])
		for _, c := range []struct{ got, want string }{
			{string(appendDate(nil, tm)), tm.Format(dateFormat)},
			{string(appendLocal(nil, tm)), tm.Format(localFormat)},
			{string(appendUTC(nil, tm)), tm.UTC().Format(utcFormat)},
		} {
			if c.got != c.want {
				t.Fatalf("%v: got %q, want %q", tm, c.got, c.want)
			}
		}
	}
}
