package ics

import (
	"bytes"
	"strings"
	"testing"

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
	e.prop("UID", []byte("u"))
	e.prop("ATTENDEE", []byte("mailto:a@b"), param{"ROLE", "REQ-PARTICIPANT"}, param{"CN", "Doe, J"}, param{"CUTYPE", "RESOURCE"})
	e.prop("ATTENDEE", []byte("mailto:c@d"))
	e.prop("DTSTART", []byte("20260101T090000"), param{"TZID", "Europe/Berlin"})
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
		e.prop("X", []byte(c.value), c.p...)
		if e.err == nil {
			t.Errorf("%s: got no error, want one", c.name)
		}
	}
}
