package tenant

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var genNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{Seed: 42, Mailboxes: 5, Events: 60, Now: genNow}
	a, b := Generate(cfg), Generate(cfg)
	if !reflect.DeepEqual(a.Mailboxes(), b.Mailboxes()) {
		t.Fatalf("mailboxes differ: %v vs %v", a.Mailboxes(), b.Mailboxes())
	}
	from, to := genNow.AddDate(0, 0, -30), genNow.AddDate(1, 0, 0)
	if da, db := a.Dump(from, to), b.Dump(from, to); !reflect.DeepEqual(da, db) {
		t.Fatal("two Generates with the same config differ")
	}
	c := Generate(Config{Seed: 43, Mailboxes: 5, Events: 60, Now: genNow})
	if reflect.DeepEqual(a.Items(a.Mailboxes()[1]), c.Items(c.Mailboxes()[1])) {
		t.Fatal("different seeds gave identical items")
	}
}

func TestGenerateLayout(t *testing.T) {
	t.Parallel()
	tn := Generate(Config{Seed: 1, Mailboxes: 12, Events: 3, Now: genNow, Domain: "fabrikam.example"})
	boxes := tn.Mailboxes()
	if len(boxes) != 12 {
		t.Fatalf("got %d mailboxes, want 12", len(boxes))
	}
	rooms := 0
	for _, b := range boxes {
		if strings.HasPrefix(b, "room-") {
			rooms++
		}
		if !strings.HasSuffix(b, "@fabrikam.example") {
			t.Errorf("got address %q, want domain fabrikam.example", b)
		}
		if !tn.HasMailbox(strings.ToUpper(b)) {
			t.Errorf("HasMailbox(%q) upper-case: got false, want true", b)
		}
		if n := len(tn.Items(b)); n != 3 {
			t.Errorf("%s: got %d items, want 3", b, n)
		}
	}
	if rooms != 1 || !slices.Contains(boxes, "user001@fabrikam.example") || !slices.Contains(boxes, "user011@fabrikam.example") {
		t.Fatalf("got %v, want user001..user011 and one room", boxes)
	}
	if tn.Domain() != "fabrikam.example" {
		t.Fatalf("got domain %q", tn.Domain())
	}
}

// features classifies an item independently of the generator's recipes.
func features(it Item) []string {
	var f []string
	add := func(s ...string) { f = append(f, strings.Join(s, ":")) }
	local := func(t time.Time) time.Time { return t.In(location(it.StartTimeZone)) }
	multiDay := civilOf(local(it.End)).Sub(civilOf(local(it.Start))) > 24*time.Hour ||
		(!it.AllDay && civilOf(local(it.End)).After(civilOf(local(it.Start))) && it.End.Sub(it.Start) > 12*time.Hour)
	switch {
	case it.Recurrence != nil:
		r := it.Recurrence
		add("pattern", r.Pattern)
		add("range", r.Range)
		add("pattern-range", r.Pattern, r.Range)
		switch r.Pattern {
		case "Weekly":
			if len(r.DaysOfWeek) > 1 {
				add("weekly-several-days")
			}
			if r.Interval > 1 {
				add("weekly-interval")
			}
			add("fdow", r.FirstDayOfWeek)
		case "AbsoluteMonthly":
			if r.DayOfMonth >= 29 {
				add("day", "29+")
			}
			if r.DayOfMonth == 31 {
				add("day", "31")
			}
		case "RelativeMonthly", "RelativeYearly":
			sel := r.DaysOfWeek[0]
			if _, ok := weekdayByName[sel]; ok {
				sel = "specific"
			}
			add("rel-index", r.DayOfWeekIndex)
			add("rel-selector", sel)
		}
		if it.AllDay {
			add("recurring-allday")
		}
		if len(it.DeletedOccurrences) > 0 {
			add("deleted-occurrence")
		}
		for _, e := range it.ModifiedOccurrences {
			if !e.Start.Equal(e.OriginalStart) {
				add("exception-moved")
			}
			if e.Subject != it.Subject {
				add("exception-subject")
			}
			if e.Location != it.Location {
				add("exception-location")
			}
			if e.IsCancelled {
				add("exception-cancelled")
			}
		}
		// DST: the series' occurrences have more than one UTC offset.
		offs := map[int]bool{}
		for _, o := range Expand(it, genNow.AddDate(0, 0, -30), genNow.AddDate(0, 0, 365)) {
			_, off := o.Start.In(location(it.StartTimeZone)).Zone()
			offs[off] = true
		}
		if len(offs) > 1 {
			add("crosses-dst")
		}
		if ls := local(it.Start); ls.Hour() == 2 && ls.Minute() == 30 {
			add("gap-time")
		}
	case it.AllDay && multiDay:
		add("multiday-allday")
	case it.AllDay:
		add("single-allday")
	case multiDay:
		add("multiday-timed")
	case it.Start.Equal(it.End):
		add("zero-length")
	default:
		add("single-timed")
	}
	add("freebusy", it.FreeBusy)
	add("sensitivity", it.Sensitivity)
	add("zone", it.StartTimeZone)
	if it.IsCancelled {
		add("cancelled")
	}
	if it.ReminderSet {
		add("reminder")
	} else {
		add("no-reminder")
	}
	if len(it.Categories) > 0 {
		add("categories")
	}
	if it.Location != "" {
		add("location")
	}
	for _, a := range it.Attendees {
		add("response", a.Response)
		add("role", a.Role)
	}
	return f
}

func TestGenerateCoverage(t *testing.T) {
	t.Parallel()
	want := []string{
		"single-timed", "single-allday", "multiday-allday", "multiday-timed", "zero-length",
		"pattern:Daily", "pattern:Weekly", "pattern:AbsoluteMonthly", "pattern:RelativeMonthly", "pattern:AbsoluteYearly", "pattern:RelativeYearly",
		"range:NoEnd", "range:EndDate", "range:Numbered",
		"weekly-several-days", "weekly-interval", "fdow:Monday", "fdow:Sunday", "day:29+", "day:31",
		"rel-index:First", "rel-index:Second", "rel-index:Third", "rel-index:Fourth", "rel-index:Last",
		"rel-selector:specific", "rel-selector:Day", "rel-selector:Weekday", "rel-selector:WeekendDay",
		"recurring-allday", "deleted-occurrence", "exception-moved", "exception-subject", "exception-location", "exception-cancelled",
		"crosses-dst", "gap-time", "cancelled", "reminder", "no-reminder", "categories", "location",
		"response:Accept", "response:Tentative", "response:Decline", "response:NoResponseReceived",
		"role:Required", "role:Optional", "role:Resource",
	}
	for _, fb := range validFreeBusy {
		want = append(want, "freebusy:"+fb)
	}
	for _, s := range validSensitivity {
		want = append(want, "sensitivity:"+s)
	}
	for _, z := range ZoneIDs() {
		want = append(want, "zone:"+z)
	}
	for _, seed := range []int64{1, 2, 99} {
		tn := Generate(Config{Seed: seed, Mailboxes: 4, Events: 40, Now: genNow})
		// user001 alone must hold every kind (rooms are in the tenant for Resource).
		got := map[string]bool{}
		for _, b := range tn.Mailboxes() {
			if b != "user001@contoso.onmicrosoft.com" && !strings.HasPrefix(b, "room-") {
				continue
			}
			for _, it := range tn.Items(b) {
				for _, f := range features(it) {
					if b == "user001@contoso.onmicrosoft.com" || f == "role:Resource" {
						got[f] = true
					}
				}
			}
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("seed %d: no item with %s in a 40-event mailbox", seed, w)
			}
		}
	}
}

// TestGenerateInsideWindow: every item, every exception and every deleted
// occurrence lies inside the default sync window, and every series starts
// on its first pattern date.
func TestGenerateInsideWindow(t *testing.T) {
	t.Parallel()
	nows := []time.Time{genNow, time.Date(2027, 3, 20, 23, 0, 0, 0, time.UTC), time.Date(2026, 10, 30, 3, 0, 0, 0, time.UTC)}
	for k := range 40 { // Nows spread over three years, at varied hours
		nows = append(nows, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(k)*(23*24+7)*time.Hour))
	}
	for i, now := range nows {
		from, to := now.AddDate(0, 0, -30), now.AddDate(0, 0, 365)
		mbx, events := 1, 40
		if i < 3 {
			mbx, events = 3, 80
		}
		tn := Generate(Config{Seed: int64(5 + i), Mailboxes: mbx, Events: events, Now: now})
		for _, b := range tn.Mailboxes() {
			view := tn.CalendarView(b, from, to)
			seen := map[string]bool{}
			for _, o := range view {
				seen[o.ItemID] = true
				seen[o.MasterID] = true
			}
			for _, it := range tn.Items(b) {
				if !seen[it.ID] {
					t.Errorf("%s %s %q: no occurrence in [%v, %v)", now.Format(time.DateOnly), b, it.Subject, from, to)
				}
				for _, e := range it.ModifiedOccurrences {
					if !seen[e.ID] {
						t.Errorf("%s %q: exception %v not in the window view", b, it.Subject, e.OriginalStart)
					}
				}
				for _, d := range it.DeletedOccurrences {
					if d.Before(from) || !d.Before(to) {
						t.Errorf("%s %q: deleted occurrence %v outside the window", b, it.Subject, d)
					}
				}
				if it.Recurrence != nil {
					o, ok := nthOccurrence(it, 1)
					if !ok || !o.OriginalStart.Equal(it.Start) {
						t.Errorf("%s %q: master start %v is not the first occurrence %v", b, it.Subject, it.Start, o.OriginalStart)
					}
					if sd := it.Start.In(location(it.StartTimeZone)).Format("2006-01-02"); sd != it.Recurrence.StartDate {
						t.Errorf("%q: StartDate %s, master's local date %s", it.Subject, it.Recurrence.StartDate, sd)
					}
				}
				if it.Created.After(now) || it.LastModified.After(now) || it.LastModified.Before(it.Created) {
					t.Errorf("%q: created %v modified %v, want created <= modified <= now", it.Subject, it.Created, it.LastModified)
				}
			}
		}
	}
}

func TestGenerateIDs(t *testing.T) {
	t.Parallel()
	tn := Generate(Config{Seed: 3, Mailboxes: 3, Events: 50, Now: genNow})
	ids := map[string]bool{}
	uids := map[string]bool{}
	for _, b := range tn.Mailboxes() {
		for _, it := range tn.Items(b) {
			for _, id := range append([]string{it.ID}, func() (x []string) {
				for _, e := range it.ModifiedOccurrences {
					x = append(x, e.ID)
					if e.UID != it.UID {
						t.Errorf("exception UID %q != master UID %q", e.UID, it.UID)
					}
					got, ok := tn.Item(b, e.ID)
					if !ok || !got.OriginalStart.Equal(e.OriginalStart) {
						t.Errorf("Item(%s) by exception id: got ok=%v", e.ID, ok)
					}
				}
				return
			}()...) {
				if ids[id] {
					t.Errorf("duplicate id %s", id)
				}
				ids[id] = true
			}
			if uids[it.UID] || len(it.UID) != 112 {
				t.Errorf("UID %q: duplicate or not 112 hex digits", it.UID)
			}
			uids[it.UID] = true
			if it.ChangeKey == "" {
				t.Errorf("%s: empty change key", it.ID)
			}
		}
	}
}
