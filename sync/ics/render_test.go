package ics

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// checkLines checks RFC 5545 3.1: CRLF line ends, at most 75 octets a
// line, continuation lines start with a space, no line split inside a
// UTF-8 sequence, no control characters but HTAB.
func checkLines(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Fatalf("output does not end with CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) > 75 {
			t.Errorf("line %d: got %d octets, want at most 75: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d: not valid UTF-8 (split inside a character?): %q", i+1, l)
		}
		if strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			t.Errorf("line %d: control character: %q", i+1, l)
		}
		if i == 0 && l != "BEGIN:VCALENDAR" {
			t.Errorf("first line: got %q, want BEGIN:VCALENDAR", l)
		}
	}
}

// cleaned is what a reader should get back for a text field.
func cleaned(s string) string { return cleanText(s) }

func FuzzRender(f *testing.F) {
	f.Add("Team sync; planning, review\\notes", "Room 1", "Line one\nLine two\r\nthree", "Blue, category", "Alice \"A\"", "alice@contoso.com", "uid-1", "alice@contoso.com")
	f.Add("Injected\r\nATTENDEE:mailto:evil@example.com\r\nX: y", "a\rb", "\x00\x01\x7f", "", "", "", "", "bob@contoso.com")
	f.Add(strings.Repeat("ü€𝄞", 40), strings.Repeat("a", 200), strings.Repeat("é", 100), "カテゴリー", "名前", "x@y", strings.Repeat("u", 100), "z@contoso.com")
	f.Add("\xff\xfe invalid utf8", "tab\there", "\\n not a newline", ";;;,,,", "CN=x;ROLE=y:", "mailto:\r\nX", "a;b,c", "m")
	f.Fuzz(func(t *testing.T, subject, location, body, category, name, email, uid, mailbox string) {
		e := calendar.Event{
			ItemID: "item", UID: uid, Subject: subject, Location: location, Body: body,
			Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
			TimeZone:   &calendar.TimeZone{ID: name}, // an arbitrary zone id: UTC unless CLDR knows it
			Categories: []string{category, subject},
			Organizer:  &calendar.Person{Name: name, Email: email},
			Attendees:  []calendar.Attendee{{Person: calendar.Person{Name: name, Email: email}}},
			Recurrence: &calendar.Recurrence{Pattern: calendar.Daily, Interval: 1, Range: calendar.Numbered,
				StartDate: calendar.Date{Year: 2026, Month: 3, Day: 2}, Count: 3},
			ModifiedOccurrences: []calendar.Event{{Subject: body, Location: subject,
				Start: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC),
				OriginalStart: time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)}},
			Reminder:     dur(15 * time.Minute),
			LastModified: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		}
		var a, b bytes.Buffer
		if err := Render(&a, mailbox, []calendar.Event{e}, Options{}); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if err := Render(&b, mailbox, []calendar.Event{e}, Options{}); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("two renders differ")
		}
		checkLines(t, a.Bytes())
		// The hand-written encoder writes what go-ical's Encoder writes
		// for the same components (unfolded).
		out, tree, err := renderTree(mailbox, []calendar.Event{e}, Options{}, true)
		if err != nil {
			t.Fatalf("renderTree: %v", err)
		}
		var viaGoIcal bytes.Buffer
		if err := ical.NewEncoder(&viaGoIcal).Encode(tree); err != nil {
			t.Fatalf("go-ical Encode: %v", err)
		}
		if got := strings.ReplaceAll(string(out.Bytes()), "\r\n ", ""); got != viaGoIcal.String() {
			t.Fatalf("got (unfolded)\n%s\nwant (go-ical)\n%s", got, viaGoIcal.String())
		}
		cal, err := ical.NewDecoder(bytes.NewReader(a.Bytes())).Decode()
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, a.Bytes())
		}
		var events []*ical.Component
		for _, c := range cal.Children {
			if c.Name == ical.CompEvent {
				events = append(events, c)
			}
		}
		if len(events) != 2 {
			t.Fatalf("got %d VEVENTs, want 2", len(events))
		}
		allowed := map[string]bool{"UID": true, "DTSTAMP": true, "LAST-MODIFIED": true, "SEQUENCE": true, "TRANSP": true,
			"X-MICROSOFT-CDO-BUSYSTATUS": true, "CLASS": true, "SUMMARY": true, "LOCATION": true, "DESCRIPTION": true,
			"CATEGORIES": true, "ORGANIZER": true, "ATTENDEE": true, "DTSTART": true, "DTEND": true, "RRULE": true,
			"RECURRENCE-ID": true}
		for _, ev := range events {
			for name, props := range ev.Props {
				if !allowed[name] {
					t.Errorf("unexpected property %s (injected?)", name)
				}
				if name == "ATTENDEE" && len(props) != 1 {
					t.Errorf("got %d ATTENDEEs, want 1", len(props))
				}
			}
			gotUID, err := ev.Props.Text(ical.PropUID)
			if err != nil {
				t.Fatalf("UID: %v", err)
			}
			if wantUID := cleaned(uid); uid != "" && gotUID != wantUID {
				t.Errorf("UID: got %q, want %q", gotUID, wantUID)
			}
		}
		master := events[0]
		if master.Props.Get(ical.PropRecurrenceID) != nil {
			master = events[1]
		}
		if got, _ := master.Props.Text(ical.PropSummary); got != cleaned(subject) {
			t.Errorf("SUMMARY: got %q, want %q", got, cleaned(subject))
		}
		if location != "" {
			if got, _ := master.Props.Text(ical.PropLocation); got != cleaned(location) {
				t.Errorf("LOCATION: got %q, want %q", got, cleaned(location))
			}
		}
		if body != "" {
			if got, _ := master.Props.Text(ical.PropDescription); got != cleaned(body) {
				t.Errorf("DESCRIPTION: got %q, want %q", got, cleaned(body))
			}
		}
		cats, err := master.Props.Get(ical.PropCategories).TextList()
		if err != nil || len(cats) != 2 || cats[0] != cleaned(category) || cats[1] != cleaned(subject) {
			t.Errorf("CATEGORIES: got %q (%v), want [%q %q]", cats, err, cleaned(category), cleaned(subject))
		}
		if got, _ := cal.Props.Text("X-WR-CALNAME"); got != cleaned(mailbox) {
			t.Errorf("X-WR-CALNAME: got %q, want %q", got, cleaned(mailbox))
		}
	})
}

func TestRenderDeterministicAndOrdered(t *testing.T) {
	t.Parallel()
	tn := tenant.Generate(tenant.Config{Seed: 3, Mailboxes: 1, Events: 120, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	mbx := tn.Mailboxes()[0]
	var events []calendar.Event
	for _, it := range tn.Items(mbx) {
		events = append(events, eventFromTenant(t, it))
	}
	var first bytes.Buffer
	if err := Render(&first, mbx, events, Options{}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5; i++ {
		shuffled := append([]calendar.Event(nil), events...)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		var again bytes.Buffer
		if err := Render(&again, mbx, shuffled, Options{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), again.Bytes()) {
			t.Fatalf("render %d of shuffled input differs from the first", i+2)
		}
	}
	// VEVENTs are ordered by UID, then RECURRENCE-ID (master first).
	cal, err := ical.NewDecoder(bytes.NewReader(first.Bytes())).Decode()
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		uid, _ := c.Props.Text(ical.PropUID)
		rid := ""
		if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
			tm, err := p.DateTime(time.UTC)
			if err != nil {
				rid = p.Value
			} else {
				rid = tm.UTC().Format("20060102T150405Z")
			}
		}
		key := uid + "\x00" + rid
		if key < prev {
			t.Errorf("VEVENT %q/%q out of order", uid, rid)
		}
		prev = key
	}
	checkLines(t, first.Bytes())
}

func TestEveryTZIDHasVTIMEZONE(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases {
		var buf bytes.Buffer
		if err := Render(&buf, "m", c.events, c.opts); err != nil {
			t.Fatal(err)
		}
		defined := map[string]bool{}
		used := map[string]bool{}
		for _, l := range strings.Split(strings.ReplaceAll(buf.String(), "\r\n ", ""), "\r\n") {
			if strings.HasPrefix(l, "TZID:") {
				defined[strings.TrimPrefix(l, "TZID:")] = true
			}
			if i := strings.Index(l, ";TZID="); i >= 0 {
				rest := l[i+len(";TZID="):]
				end := strings.IndexAny(rest, ";:")
				used[rest[:end]] = true
			}
		}
		for id := range used {
			if !defined[id] {
				t.Errorf("%s: TZID %q used without a VTIMEZONE", c.name, id)
			}
		}
	}
}

func TestPrivacy(t *testing.T) {
	t.Parallel()
	secret := []string{"Secret project", "HQ", "do not tell", "alice@contoso.com", "bob@contoso.com", "Red", "Secret moved", "HQ2"}
	var fb bytes.Buffer
	for _, c := range goldenCases {
		if c.name == "free_busy_privacy" {
			if err := Render(&fb, "m", c.events, c.opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range secret {
		if strings.Contains(fb.String(), s) {
			t.Errorf("free/busy export contains %q", s)
		}
	}
	for _, want := range []string{"SUMMARY:Busy", "SUMMARY:Tentative", "RRULE:", "RECURRENCE-ID"} {
		if !strings.Contains(fb.String(), want) {
			t.Errorf("free/busy export lacks %q", want)
		}
	}
	var full bytes.Buffer
	for _, c := range goldenCases {
		if c.name == "private_and_cancelled" {
			if err := Render(&full, "m", c.events, c.opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range []string{"Doctor", "Clinic", "secret", "dr@example.com"} {
		if strings.Contains(full.String(), s) {
			t.Errorf("private item's %q is in the export", s)
		}
	}
	for _, want := range []string{"SUMMARY:Private appointment", "CLASS:PRIVATE", "STATUS:CANCELLED", "TRANSP:TRANSPARENT"} {
		if !strings.Contains(full.String(), want) {
			t.Errorf("export lacks %q", want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "export")
	events := goldenCases[0].events
	changed, err := WriteFile(dir, "alice@contoso.com", events, Options{})
	if err != nil || !changed {
		t.Fatalf("first WriteFile: got changed=%v err=%v, want true, nil", changed, err)
	}
	path := filepath.Join(dir, "alice@contoso.com.ics")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode: got %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Errorf("folder mode: got %v, want 0700", di.Mode().Perm())
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	changed, err = WriteFile(dir, "alice@contoso.com", events, Options{})
	if err != nil || changed {
		t.Fatalf("unchanged WriteFile: got changed=%v err=%v, want false, nil", changed, err)
	}
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Errorf("unchanged file rewritten: mtime %v, want %v", fi.ModTime(), old)
	}
	changed, err = WriteFile(dir, "alice@contoso.com", goldenCases[1].events, Options{})
	if err != nil || !changed {
		t.Fatalf("changed WriteFile: got changed=%v err=%v, want true, nil", changed, err)
	}
	var want bytes.Buffer
	if err := Render(&want, "alice@contoso.com", goldenCases[1].events, Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("file content is not the new rendering")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only the .ics file (no temporary files)", names)
	}
}

func TestFileNameRejectsPaths(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mailbox string
		ok      bool
	}{
		{"alice@contoso.com", true},
		{"room.everest@contoso.onmicrosoft.com", true},
		{"", false}, {".", false}, {"..", false}, {"../etc/passwd", false}, {"a/b", false},
		{`a\b`, false}, {"a..b", false}, {"a\x00b", false}, {"a\nb", false},
	} {
		_, err := FileName(c.mailbox)
		if (err == nil) != c.ok {
			t.Errorf("FileName(%q): got err=%v, want ok=%v", c.mailbox, err, c.ok)
		}
		if _, err := WriteFile(t.TempDir(), c.mailbox, nil, Options{}); !c.ok && err == nil {
			t.Errorf("WriteFile(%q): got nil error, want ErrBadMailbox", c.mailbox)
		}
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"SUMMARY:" + strings.Repeat("a", 200),
		"SUMMARY:" + strings.Repeat("€", 100),
		"SUMMARY:" + strings.Repeat("𝄞x", 50),
		"X:short",
	} {
		e := &encoder{}
		e.line = append(e.line, in...)
		e.flush()
		checkLines(t, append([]byte("BEGIN:VCALENDAR\r\n"), e.buf...))
		if got := strings.ReplaceAll(string(e.buf), "\r\n ", ""); got != in+"\r\n" {
			t.Errorf("unfolded: got %q, want %q", got, in)
		}
	}
}
