package ics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// The independent parsers (test/ics): Debian's python3-icalendar with
// python3-recurring-ical-events, and npm's ical.js. CI installs both.
const (
	debianPython = "/usr/bin/python3"
	scriptsDir   = "../../test/ics"
)

// parsedOcc is one occurrence as expand.py / expand.mjs print it.
type parsedOcc struct {
	UID          string `json:"uid"`
	RecurrenceID string `json:"recurrence_id"`
	Start        string `json:"start"`
	End          string `json:"end"`
	Summary      string `json:"summary"`
	AllDay       bool   `json:"all_day"`
}

// parsers returns the commands of the independent parsers, skipping the
// test with a clear message when one is not installed.
func parsers(t *testing.T) map[string][]string {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("%s not found: install python3-icalendar and python3-recurring-ical-events (Debian) to run the independent-parser test", debianPython)
	}
	if out, err := exec.Command(debianPython, "-c", "import icalendar, recurring_ical_events").CombinedOutput(); err != nil {
		t.Skipf("Debian python lacks icalendar/recurring_ical_events (apt-get install python3-icalendar python3-recurring-ical-events): %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(scriptsDir, "node_modules", "ical.js")); err != nil {
		t.Skipf("ical.js not installed: run `npm ci` in test/ics to run the independent-parser test")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: install Node.js 20 to run the independent-parser test")
	}
	return map[string][]string{
		"python-icalendar": {debianPython, filepath.Join(scriptsDir, "expand.py")},
		"ical.js":          {node, filepath.Join(scriptsDir, "expand.mjs")},
	}
}

func runParser(t *testing.T, cmd []string, file string, start, end time.Time) []parsedOcc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append(append([]string{}, cmd[1:]...), file, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	c := exec.CommandContext(ctx, cmd[0], args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd, " "), err, stderr.Bytes())
	}
	var occs []parsedOcc
	if err := json.Unmarshal(stdout.Bytes(), &occs); err != nil {
		t.Fatalf("%s: bad JSON: %v", strings.Join(cmd, " "), err)
	}
	return occs
}

// occKey is what the comparison looks at: which event, when, and the
// summary a reader shows.
func occKey(uid string, start, end time.Time, allDay bool, loc *time.Location, summary string) string {
	if allDay {
		return fmt.Sprintf("%s|%s|%s|all-day|%s", uid, start.In(loc).Format("2006-01-02"), end.In(loc).Format("2006-01-02"), summary)
	}
	return fmt.Sprintf("%s|%s|%s|%s", uid, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), summary)
}

// parsedKeys turns a parser's occurrences into keys, keeping those that
// start in [w0, w1) (all-day dates taken in the event's zone).
func parsedKeys(t *testing.T, occs []parsedOcc, zoneOf map[string]*time.Location, w0, w1 time.Time) map[string]int {
	t.Helper()
	keys := map[string]int{}
	for _, o := range occs {
		loc := zoneOf[o.UID]
		if loc == nil {
			t.Errorf("parser returned unknown UID %q", o.UID)
			continue
		}
		var s, e time.Time
		var err1, err2 error
		if o.AllDay {
			s, err1 = time.ParseInLocation("2006-01-02", o.Start, loc)
			e, err2 = time.ParseInLocation("2006-01-02", o.End, loc)
		} else {
			s, err1 = time.Parse(time.RFC3339, o.Start)
			e, err2 = time.Parse(time.RFC3339, o.End)
		}
		if err1 != nil || err2 != nil {
			t.Errorf("parser occurrence %+v: %v %v", o, err1, err2)
			continue
		}
		if s.Before(w0) || !s.Before(w1) {
			continue
		}
		keys[occKey(o.UID, s, e, o.AllDay, loc, o.Summary)]++
	}
	return keys
}

func compareKeys(t *testing.T, who string, got, want map[string]int) {
	t.Helper()
	var missing, extra []string
	for k, n := range want {
		for i := got[k]; i < n; i++ {
			missing = append(missing, k)
		}
	}
	for k, n := range got {
		for i := want[k]; i < n; i++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) == 0 {
		return
	}
	show := func(xs []string) string {
		if len(xs) > 15 {
			xs = append(xs[:15:15], fmt.Sprintf("... (%d more)", len(xs)-15))
		}
		return strings.Join(xs, "\n  ")
	}
	t.Errorf("%s: got %d occurrences that differ from the expected ones\nmissing (expected, not found):\n  %s\nunexpected (found, not expected):\n  %s",
		who, len(missing)+len(extra), show(missing), show(extra))
}

// TestIndependentParsersAgreeWithEmulator renders the emulated tenant's
// mailboxes (every pattern and range, several Windows zones, both DST
// changes, deleted and modified occurrences, all-day and multi-day items)
// and checks that python-icalendar and ical.js expand each file over two
// years to exactly the occurrences the emulator's own CalendarView gives:
// the expectation and the ICS come from different code.
func TestIndependentParsersAgreeWithEmulator(t *testing.T) {
	cmds := parsers(t)
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tn := tenant.Generate(tenant.Config{Seed: 5, Mailboxes: 3, Events: 150, Now: now})
	w0, w1 := now.AddDate(0, -1, 0), now.AddDate(2, -1, 0)
	dir := t.TempDir()
	series := 0
	for _, mbx := range tn.Mailboxes() {
		items := tn.Items(mbx)
		events := make([]calendar.Event, 0, len(items))
		zoneOf := map[string]*time.Location{}
		masterSens := map[string]string{}
		for _, it := range items {
			events = append(events, eventFromTenant(t, it))
			z, ok := tenant.Zone(it.StartTimeZone)
			if !ok {
				t.Fatalf("item %s: unknown zone %q", it.ID, it.StartTimeZone)
			}
			zoneOf[it.UID] = z.Location
			masterSens[it.UID] = it.Sensitivity
			if it.Recurrence != nil {
				series++
			}
		}
		if _, err := WriteFile(dir, mbx, events, Options{}); err != nil {
			t.Fatalf("WriteFile(%s): %v", mbx, err)
		}
		want := map[string]int{}
		for _, o := range tn.CalendarView(mbx, w0, w1) {
			if o.Start.Before(w0) {
				continue
			}
			summary := o.Subject
			if o.Sensitivity != "Normal" && o.Sensitivity != "" || masterSens[o.UID] != "Normal" && masterSens[o.UID] != "" {
				summary = privateSummary
			}
			want[occKey(o.UID, o.Start, o.End, o.AllDay, zoneOf[o.UID], summary)]++
		}
		file := filepath.Join(dir, mbx+".ics")
		for _, name := range []string{"python-icalendar", "ical.js"} {
			occs := runParser(t, cmds[name], file, w0.AddDate(0, 0, -3), w1.AddDate(0, 0, 3))
			compareKeys(t, mbx+" via "+name, parsedKeys(t, occs, zoneOf, w0, w1), want)
		}
	}
	if series < 100 {
		t.Errorf("got %d series from the emulator, want at least 100 for the check to mean something", series)
	}
	t.Logf("%d mailboxes, %d series checked against CalendarView over %s..%s", len(tn.Mailboxes()), series, w0.Format("2006-01-02"), w1.Format("2006-01-02"))
}

// eventFromTenant converts an emulator item to the calendar model, as
// sync/ews does from the wire (test code: the two sides share no code).
func eventFromTenant(t *testing.T, it tenant.Item) calendar.Event {
	t.Helper()
	e := calendar.Event{
		ItemID: it.ID, ChangeKey: it.ChangeKey, UID: it.UID,
		Subject: it.Subject, Location: it.Location, Body: it.Body,
		Start: it.Start, End: it.End, AllDay: it.AllDay,
		TimeZone:           zoneFromTenant(it.StartTimeZone),
		DeletedOccurrences: it.DeletedOccurrences,
		OriginalStart:      it.OriginalStart,
		Categories:         it.Categories,
		FreeBusy:           map[string]calendar.FreeBusy{"Free": calendar.Free, "Tentative": calendar.Tentative, "Busy": calendar.Busy, "OOF": calendar.OutOfOffice, "WorkingElsewhere": calendar.WorkingElsewhere, "NoData": calendar.NoData}[it.FreeBusy],
		Sensitivity:        map[string]calendar.Sensitivity{"Personal": calendar.Personal, "Private": calendar.Private, "Confidential": calendar.Confidential}[it.Sensitivity],
		Cancelled:          it.IsCancelled,
		LastModified:       it.LastModified,
		Sequence:           it.Sequence,
	}
	if it.EndTimeZone != "" && it.EndTimeZone != it.StartTimeZone {
		e.EndTimeZone = zoneFromTenant(it.EndTimeZone)
	}
	if it.ReminderSet {
		d := time.Duration(it.ReminderMinutes) * time.Minute
		e.Reminder = &d
	}
	if it.Organizer.Email != "" {
		e.Organizer = &calendar.Person{Name: it.Organizer.Name, Email: it.Organizer.Email}
	}
	for _, a := range it.Attendees {
		e.Attendees = append(e.Attendees, calendar.Attendee{
			Person:   calendar.Person{Name: a.Name, Email: a.Email},
			Role:     map[string]calendar.AttendeeRole{"Optional": calendar.Optional, "Resource": calendar.Resource}[a.Role],
			Response: map[string]calendar.Response{"Organizer": calendar.ResponseOrganizer, "Tentative": calendar.ResponseTentative, "Accept": calendar.ResponseAccept, "Decline": calendar.ResponseDecline, "NoResponseReceived": calendar.ResponseNoResponse}[a.Response],
		})
	}
	for _, m := range it.ModifiedOccurrences {
		e.ModifiedOccurrences = append(e.ModifiedOccurrences, eventFromTenant(t, m))
	}
	if r := it.Recurrence; r != nil {
		days := map[string]calendar.Day{"Sunday": calendar.Sunday, "Monday": calendar.Monday, "Tuesday": calendar.Tuesday, "Wednesday": calendar.Wednesday,
			"Thursday": calendar.Thursday, "Friday": calendar.Friday, "Saturday": calendar.Saturday, "Day": calendar.AnyDay, "Weekday": calendar.AnyWeekday, "WeekendDay": calendar.WeekendDay}
		rec := &calendar.Recurrence{
			Pattern: map[string]calendar.Pattern{"Daily": calendar.Daily, "Weekly": calendar.Weekly, "AbsoluteMonthly": calendar.AbsoluteMonthly,
				"RelativeMonthly": calendar.RelativeMonthly, "AbsoluteYearly": calendar.AbsoluteYearly, "RelativeYearly": calendar.RelativeYearly}[r.Pattern],
			Interval:   r.Interval,
			DayOfMonth: r.DayOfMonth,
			Index:      map[string]calendar.WeekIndex{"First": calendar.First, "Second": calendar.Second, "Third": calendar.Third, "Fourth": calendar.Fourth, "Last": calendar.Last}[r.DayOfWeekIndex],
			Range:      map[string]calendar.RangeKind{"NoEnd": calendar.NoEnd, "EndDate": calendar.EndDate, "Numbered": calendar.Numbered}[r.Range],
			Count:      r.Count,
		}
		if rec.Pattern == 0 || rec.Range == 0 {
			t.Fatalf("item %s: unknown recurrence %+v", it.ID, r)
		}
		for _, d := range r.DaysOfWeek {
			rec.DaysOfWeek = append(rec.DaysOfWeek, days[d])
		}
		if r.FirstDayOfWeek != "" {
			wd, _ := days[r.FirstDayOfWeek].Weekday()
			rec.FirstDayOfWeek = wd
		}
		if r.Month != "" {
			for m := time.January; m <= time.December; m++ {
				if m.String() == r.Month {
					rec.Month = m
				}
			}
		}
		rec.StartDate = parseDate(t, r.StartDate)
		if r.EndDate != "" {
			rec.EndDate = parseDate(t, r.EndDate)
		}
		e.Recurrence = rec
	}
	return e
}

func parseDate(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatalf("bad date %q: %v", s, err)
	}
	return calendar.DateOf(d)
}

// zoneFromTenant is the zone as EWS sends it: the id and its definition.
func zoneFromTenant(id string) *calendar.TimeZone {
	z, ok := tenant.Zone(id)
	if !ok {
		return &calendar.TimeZone{ID: id}
	}
	tz := &calendar.TimeZone{ID: z.ID, Name: z.Name, StandardOffset: -z.StandardBias, DaylightOffset: -z.DaylightBias, HasDefinition: true}
	conv := func(zt *tenant.ZoneTransition) *calendar.Transition {
		if zt == nil {
			return nil
		}
		week := zt.Occurrence
		if week < 0 {
			week = 5
		}
		var wd time.Weekday
		for d := time.Sunday; d <= time.Saturday; d++ {
			if d.String() == zt.DayOfWeek {
				wd = d
			}
		}
		return &calendar.Transition{Month: time.Month(zt.Month), Week: week, Weekday: wd, At: zt.TimeOffset}
	}
	tz.ToStandard, tz.ToDaylight = conv(z.ToStandard), conv(z.ToDaylight)
	return tz
}
