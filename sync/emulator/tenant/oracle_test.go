package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// toRRULE writes an EWS recurrence as an RFC 5545 RRULE with the same
// meaning, for the independent oracle (python-dateutil). Exchange's
// "day 29/30/31 falls on the month's last day when the month is shorter"
// becomes BYMONTHDAY=28..N;BYSETPOS=-1; EWS's Day/Weekday/WeekendDay become
// BYDAY sets with BYSETPOS; the EndDate range (a local date, inclusive)
// becomes a local UNTIL at the end of that day.
func toRRULE(r *Recurrence) string {
	var p []string
	abs := func(dom int) string {
		if dom < 29 {
			return fmt.Sprintf("BYMONTHDAY=%d", dom)
		}
		var days []string
		for d := 28; d <= dom; d++ {
			days = append(days, fmt.Sprint(d))
		}
		return "BYMONTHDAY=" + strings.Join(days, ",") + ";BYSETPOS=-1"
	}
	ical := map[string]string{"Sunday": "SU", "Monday": "MO", "Tuesday": "TU", "Wednesday": "WE", "Thursday": "TH", "Friday": "FR", "Saturday": "SA"}
	rel := func() string {
		var days []string
		switch sel := r.DaysOfWeek[0]; sel {
		case "Day":
			days = []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}
		case "Weekday":
			days = []string{"MO", "TU", "WE", "TH", "FR"}
		case "WeekendDay":
			days = []string{"SU", "SA"}
		default:
			days = []string{ical[sel]}
		}
		return fmt.Sprintf("BYDAY=%s;BYSETPOS=%d", strings.Join(days, ","), indexByName[r.DayOfWeekIndex])
	}
	switch r.Pattern {
	case "Daily":
		p = append(p, "FREQ=DAILY", fmt.Sprintf("INTERVAL=%d", r.Interval))
	case "Weekly":
		var days []string
		for _, d := range r.DaysOfWeek {
			days = append(days, ical[d])
		}
		wkst := "SU"
		if r.FirstDayOfWeek != "" {
			wkst = ical[r.FirstDayOfWeek]
		}
		p = append(p, "FREQ=WEEKLY", fmt.Sprintf("INTERVAL=%d", r.Interval), "BYDAY="+strings.Join(days, ","), "WKST="+wkst)
	case "AbsoluteMonthly":
		p = append(p, "FREQ=MONTHLY", fmt.Sprintf("INTERVAL=%d", r.Interval), abs(r.DayOfMonth))
	case "RelativeMonthly":
		p = append(p, "FREQ=MONTHLY", fmt.Sprintf("INTERVAL=%d", r.Interval), rel())
	case "AbsoluteYearly":
		p = append(p, "FREQ=YEARLY", fmt.Sprintf("BYMONTH=%d", monthByName[r.Month]), abs(r.DayOfMonth))
	case "RelativeYearly":
		p = append(p, "FREQ=YEARLY", fmt.Sprintf("BYMONTH=%d", monthByName[r.Month]), rel())
	}
	switch r.Range {
	case "Numbered":
		p = append(p, fmt.Sprintf("COUNT=%d", r.Count))
	case "EndDate":
		d, _ := ParseDate(r.EndDate)
		p = append(p, "UNTIL="+d.Format("20060102")+"T235959")
	}
	return strings.Join(p, ";")
}

// TestExpansionAgainstDateutil compares the instances of every generated
// series (deleted ones included, exceptions at their original starts) with
// python-dateutil's expansion of the equivalent RRULE.
func TestExpansionAgainstDateutil(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3 (Debian's python3-dateutil is the oracle)")
	}
	if err := exec.Command(py, "-c", "import dateutil.rrule, zoneinfo").Run(); err != nil {
		t.Skip("python3-dateutil not installed")
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	from, to := now.AddDate(0, 0, -30), now.AddDate(0, 0, 700)
	type job struct {
		ID      string `json:"id"`
		TZ      string `json:"tz"`
		DTStart string `json:"dtstart"`
		RRule   string `json:"rrule"`
		From    string `json:"from"`
		To      string `json:"to"`
	}
	var jobs []job
	want := map[string][]string{}
	rules := map[string]string{}
	for _, seed := range []int64{1, 2, 3} {
		tn := Generate(Config{Seed: seed, Mailboxes: 2, Events: 120, Now: now})
		for _, mb := range tn.Mailboxes() {
			for _, it := range tn.Items(mb) {
				if it.Recurrence == nil {
					continue
				}
				z, _ := Zone(it.StartTimeZone)
				id := fmt.Sprintf("%d/%s", seed, it.ID)
				jobs = append(jobs, job{id, z.Location.String(), it.Start.In(z.Location).Format("2006-01-02T15:04:05"),
					toRRULE(it.Recurrence), from.Format(time.RFC3339), to.Format(time.RFC3339)})
				rules[id] = toRRULE(it.Recurrence) + " @ " + it.Start.In(z.Location).Format(time.RFC3339) + " " + z.Location.String()
				sr, err := newSeries(&it)
				if err != nil {
					t.Fatal(err)
				}
				var starts []string
				sr.walk(civilOf(to.In(z.Location)).AddDate(0, 0, 1), func(in instance) bool {
					if !in.start.Before(from) && in.start.Before(to) {
						starts = append(starts, in.start.UTC().Format("2006-01-02T15:04:05Z"))
					}
					return in.start.Before(to)
				})
				want[id] = starts
			}
		}
	}
	in, _ := json.Marshal(jobs)
	cmd := exec.Command(py, "testdata/rrule_oracle.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v: %s", err, stderr.String())
	}
	var got map[string][]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(jobs) || len(jobs) < 100 {
		t.Fatalf("oracle answered %d of %d series (want >= 100 series)", len(got), len(jobs))
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("%s (%s):\n tenant %v\n oracle %v", id, rules[id], w, got[id])
		}
	}
}
