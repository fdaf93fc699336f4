package tenant

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// series builds a master in zone z starting at local "2006-01-02 15:04"
// lasting dur, with recurrence r (StartDate filled from the start).
func mkSeries(t *testing.T, z, local string, dur time.Duration, r Recurrence) Item {
	t.Helper()
	loc := location(z)
	st, err := time.ParseInLocation("2006-01-02 15:04", local, loc)
	if err != nil {
		t.Fatal(err)
	}
	if r.StartDate == "" {
		r.StartDate = st.Format("2006-01-02")
	}
	if r.Range == "" {
		r.Range = "NoEnd"
	}
	return Item{ID: "master", UID: "uid", Subject: "series", Start: st.UTC(), End: st.Add(dur).UTC(),
		StartTimeZone: z, EndTimeZone: z, Recurrence: &r, FreeBusy: "Busy", Sensitivity: "Normal"}
}

func localStarts(occ []Occurrence, z string) []string {
	var out []string
	for _, o := range occ {
		out = append(out, o.Start.In(location(z)).Format("2006-01-02 15:04"))
	}
	return out
}

func utcStarts(occ []Occurrence) []string {
	var out []string
	for _, o := range occ {
		out = append(out, o.Start.UTC().Format("2006-01-02T15:04Z"))
	}
	return out
}

var (
	viewFrom = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	viewTo   = time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC)
)

func TestExpandPatterns(t *testing.T) {
	t.Parallel()
	const we, et = "W. Europe Standard Time", "Eastern Standard Time"
	tests := []struct {
		name      string
		zone      string
		start     string
		rec       Recurrence
		wantLocal []string
		wantUTC   []string // optional
	}{
		{"daily interval 2 over spring DST", we, "2026-03-27 09:00",
			Recurrence{Pattern: "Daily", Interval: 2, Range: "Numbered", Count: 3},
			[]string{"2026-03-27 09:00", "2026-03-29 09:00", "2026-03-31 09:00"},
			[]string{"2026-03-27T08:00Z", "2026-03-29T07:00Z", "2026-03-31T07:00Z"}},
		{"weekly Wed+Fri interval 2 from Monday weeks", we, "2026-01-07 10:00",
			Recurrence{Pattern: "Weekly", Interval: 2, DaysOfWeek: []string{"Friday", "Monday", "Wednesday"}, FirstDayOfWeek: "Monday", Range: "Numbered", Count: 5},
			[]string{"2026-01-07 10:00", "2026-01-09 10:00", "2026-01-19 10:00", "2026-01-21 10:00", "2026-01-23 10:00"}, nil},
		{"weekly Sun+Mon interval 2, weeks start Sunday", we, "2026-01-05 10:00",
			Recurrence{Pattern: "Weekly", Interval: 2, DaysOfWeek: []string{"Sunday", "Monday"}, FirstDayOfWeek: "Sunday", Range: "Numbered", Count: 5},
			[]string{"2026-01-05 10:00", "2026-01-18 10:00", "2026-01-19 10:00", "2026-02-01 10:00", "2026-02-02 10:00"}, nil},
		{"weekly Sun+Mon interval 2, weeks start Monday", we, "2026-01-05 10:00",
			Recurrence{Pattern: "Weekly", Interval: 2, DaysOfWeek: []string{"Sunday", "Monday"}, FirstDayOfWeek: "Monday", Range: "Numbered", Count: 4},
			[]string{"2026-01-05 10:00", "2026-01-11 10:00", "2026-01-19 10:00", "2026-01-25 10:00"}, nil},
		{"weekly Monday over US DST", et, "2026-03-02 09:00",
			Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{"Monday"}, FirstDayOfWeek: "Sunday", Range: "Numbered", Count: 3},
			[]string{"2026-03-02 09:00", "2026-03-09 09:00", "2026-03-16 09:00"},
			[]string{"2026-03-02T14:00Z", "2026-03-09T13:00Z", "2026-03-16T13:00Z"}},
		{"absolute monthly 31 falls on last day", we, "2026-01-31 08:00",
			Recurrence{Pattern: "AbsoluteMonthly", Interval: 1, DayOfMonth: 31, Range: "Numbered", Count: 4},
			[]string{"2026-01-31 08:00", "2026-02-28 08:00", "2026-03-31 08:00", "2026-04-30 08:00"}, nil},
		{"absolute monthly 30 in leap February", we, "2028-01-30 08:00",
			Recurrence{Pattern: "AbsoluteMonthly", Interval: 1, DayOfMonth: 30, Range: "Numbered", Count: 3},
			[]string{"2028-01-30 08:00", "2028-02-29 08:00", "2028-03-30 08:00"}, nil},
		{"absolute monthly 29 every 3 months", we, "2026-02-28 08:00",
			Recurrence{Pattern: "AbsoluteMonthly", Interval: 3, DayOfMonth: 29, StartDate: "2026-02-28", Range: "Numbered", Count: 3},
			[]string{"2026-02-28 08:00", "2026-05-29 08:00", "2026-08-29 08:00"}, nil},
		{"relative monthly last Friday", we, "2026-01-30 16:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"Friday"}, DayOfWeekIndex: "Last", Range: "Numbered", Count: 3},
			[]string{"2026-01-30 16:00", "2026-02-27 16:00", "2026-03-27 16:00"}, nil},
		{"relative monthly last weekday", we, "2026-05-29 16:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"Weekday"}, DayOfWeekIndex: "Last", Range: "Numbered", Count: 2},
			[]string{"2026-05-29 16:00", "2026-06-30 16:00"}, nil},
		{"relative monthly first weekend day", we, "2026-01-03 11:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"WeekendDay"}, DayOfWeekIndex: "First", Range: "Numbered", Count: 3},
			[]string{"2026-01-03 11:00", "2026-02-01 11:00", "2026-03-01 11:00"}, nil},
		{"relative monthly second weekend day", we, "2026-01-04 11:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"WeekendDay"}, DayOfWeekIndex: "Second", Range: "Numbered", Count: 2},
			[]string{"2026-01-04 11:00", "2026-02-07 11:00"}, nil},
		{"relative monthly last weekend day", we, "2026-01-31 11:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"WeekendDay"}, DayOfWeekIndex: "Last", Range: "Numbered", Count: 2},
			[]string{"2026-01-31 11:00", "2026-02-28 11:00"}, nil},
		{"relative monthly third day, every 2 months", we, "2026-01-03 07:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 2, DaysOfWeek: []string{"Day"}, DayOfWeekIndex: "Third", Range: "Numbered", Count: 3},
			[]string{"2026-01-03 07:00", "2026-03-03 07:00", "2026-05-03 07:00"}, nil},
		{"relative monthly last day", we, "2026-01-31 07:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"Day"}, DayOfWeekIndex: "Last", Range: "Numbered", Count: 3},
			[]string{"2026-01-31 07:00", "2026-02-28 07:00", "2026-03-31 07:00"}, nil},
		{"relative monthly first Monday starting mid-month", we, "2026-01-15 07:00",
			Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{"Monday"}, DayOfWeekIndex: "First", StartDate: "2026-01-15", Range: "Numbered", Count: 2},
			[]string{"2026-02-02 07:00", "2026-03-02 07:00"}, nil},
		{"relative yearly last Sunday of March", we, "2026-03-29 10:00",
			Recurrence{Pattern: "RelativeYearly", DaysOfWeek: []string{"Sunday"}, DayOfWeekIndex: "Last", Month: "March", Range: "Numbered", Count: 2},
			[]string{"2026-03-29 10:00", "2027-03-28 10:00"},
			[]string{"2026-03-29T08:00Z", "2027-03-28T08:00Z"}},
		{"relative yearly first Monday of September", et, "2026-09-07 12:00",
			Recurrence{Pattern: "RelativeYearly", DaysOfWeek: []string{"Monday"}, DayOfWeekIndex: "First", Month: "September", Range: "EndDate", EndDate: "2027-09-06"},
			[]string{"2026-09-07 12:00", "2027-09-06 12:00"}, nil},
		{"absolute yearly February 29", we, "2028-02-29 12:00",
			Recurrence{Pattern: "AbsoluteYearly", DayOfMonth: 29, Month: "February", Range: "Numbered", Count: 3},
			[]string{"2028-02-29 12:00", "2029-02-28 12:00", "2030-02-28 12:00"}, nil},
		{"end date is inclusive of the local date", "Tokyo Standard Time", "2026-06-01 23:30",
			Recurrence{Pattern: "Daily", Interval: 1, Range: "EndDate", EndDate: "2026-06-03"},
			[]string{"2026-06-01 23:30", "2026-06-02 23:30", "2026-06-03 23:30"},
			[]string{"2026-06-01T14:30Z", "2026-06-02T14:30Z", "2026-06-03T14:30Z"}},
		{"spring-forward gap moves 02:30 to 03:30", we, "2026-03-28 02:30",
			Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 3},
			[]string{"2026-03-28 02:30", "2026-03-29 03:30", "2026-03-30 02:30"},
			[]string{"2026-03-28T01:30Z", "2026-03-29T01:30Z", "2026-03-30T00:30Z"}},
		{"fall-back overlap takes the first 02:30", we, "2026-10-24 02:30",
			Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 3},
			[]string{"2026-10-24 02:30", "2026-10-25 02:30", "2026-10-26 02:30"},
			[]string{"2026-10-24T00:30Z", "2026-10-25T00:30Z", "2026-10-26T01:30Z"}},
		{"southern hemisphere DST start", "AUS Eastern Standard Time", "2026-10-03 09:00",
			Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 2},
			[]string{"2026-10-03 09:00", "2026-10-04 09:00"},
			[]string{"2026-10-02T23:00Z", "2026-10-03T22:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			it := mkSeries(t, tc.zone, tc.start, 30*time.Minute, tc.rec)
			got := Expand(it, viewFrom, viewTo)
			if gl := localStarts(got, tc.zone); !slices.Equal(gl, tc.wantLocal) {
				t.Fatalf("got local starts %v, want %v", gl, tc.wantLocal)
			}
			if tc.wantUTC != nil {
				if gu := utcStarts(got); !slices.Equal(gu, tc.wantUTC) {
					t.Fatalf("got UTC starts %v, want %v", gu, tc.wantUTC)
				}
			}
			for i, o := range got {
				if o.InstanceIndex != i+1 || o.Type != "Occurrence" || o.MasterID != "master" || !o.OriginalStart.Equal(o.Start) {
					t.Errorf("occurrence %d: got index %d type %s master %q original %v, want %d Occurrence master %v", i, o.InstanceIndex, o.Type, o.MasterID, o.OriginalStart, i+1, o.Start)
				}
				if d := o.End.Sub(o.Start); d != 30*time.Minute {
					t.Errorf("occurrence %d: got duration %v, want 30m", i, d)
				}
			}
		})
	}
}

func TestExpandExceptionsAndView(t *testing.T) {
	t.Parallel()
	const z = "W. Europe Standard Time"
	it := mkSeries(t, z, "2026-06-01 09:00", time.Hour, Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 5})
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, location(z))
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	it.DeletedOccurrences = []time.Time{at("2026-06-02 09:00")}
	it.ModifiedOccurrences = []Item{
		{ID: "exc3", Subject: "moved", OriginalStart: at("2026-06-03 09:00"), Start: at("2026-06-03 14:00"), End: at("2026-06-03 15:30"), FreeBusy: "Tentative"},
		// the 5th is moved before the 4th
		{ID: "exc5", Subject: "moved early", OriginalStart: at("2026-06-05 09:00"), Start: at("2026-06-04 07:00"), End: at("2026-06-04 08:00")},
	}
	got := Expand(it, viewFrom, viewTo)
	type row struct {
		id    string
		typ   string
		idx   int
		start string
		subj  string
	}
	var rows []row
	for _, o := range got {
		rows = append(rows, row{o.ItemID, o.Type, o.InstanceIndex, o.Start.In(location(z)).Format("01-02 15:04"), o.Subject})
	}
	want := []row{
		{OccurrenceID("master", 1), "Occurrence", 1, "06-01 09:00", "series"},
		{"exc3", "Exception", 3, "06-03 14:00", "moved"},
		{"exc5", "Exception", 5, "06-04 07:00", "moved early"},
		{OccurrenceID("master", 4), "Occurrence", 4, "06-04 09:00", "series"},
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("got %v, want %v", rows, want)
	}
	if !got[1].OriginalStart.Equal(at("2026-06-03 09:00")) {
		t.Errorf("exception original start: got %v, want 2026-06-03 09:00 local", got[1].OriginalStart)
	}

	// View edges: items that end after start and start before end.
	views := []struct {
		name     string
		from, to string
		want     []string
	}{
		{"starts inside an occurrence", "2026-06-01 09:30", "2026-06-01 12:00", []string{"06-01 09:00"}},
		{"ends exactly at a start", "2026-06-01 08:00", "2026-06-01 09:00", nil},
		{"starts exactly at an end", "2026-06-01 10:00", "2026-06-01 12:00", nil},
		{"exception judged at its new time", "2026-06-03 08:00", "2026-06-03 10:00", nil},
		{"exception at its new time", "2026-06-03 13:00", "2026-06-03 16:00", []string{"06-03 14:00"}},
		{"exception moved earlier into the view", "2026-06-04 00:00", "2026-06-04 08:30", []string{"06-04 07:00"}},
		{"deleted occurrence left out", "2026-06-02 00:00", "2026-06-03 00:00", nil},
	}
	for _, v := range views {
		occ := Expand(it, at(v.from), at(v.to))
		var gotS []string
		for _, o := range occ {
			gotS = append(gotS, o.Start.In(location(z)).Format("01-02 15:04"))
		}
		if !slices.Equal(gotS, v.want) {
			t.Errorf("%s: got %v, want %v", v.name, gotS, v.want)
		}
	}
}

func TestExpandNumberedCountsDeleted(t *testing.T) {
	t.Parallel()
	const z = "Pacific Standard Time"
	it := mkSeries(t, z, "2026-11-01 08:00", time.Hour, Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{"Sunday"}, FirstDayOfWeek: "Sunday", Range: "Numbered", Count: 4})
	// Delete the 2nd (2026-11-08 08:00 PST = 16:00Z).
	it.DeletedOccurrences = []time.Time{time.Date(2026, 11, 8, 16, 0, 0, 0, time.UTC)}
	got := Expand(it, viewFrom, viewTo)
	var idx []int
	for _, o := range got {
		idx = append(idx, o.InstanceIndex)
	}
	if want := []int{1, 3, 4}; !slices.Equal(idx, want) {
		t.Fatalf("got indexes %v, want %v", idx, want)
	}
	// 2026-11-01 is the US fall-back day: 08:00 is PST (16:00Z).
	if got, want := utcStarts(got), []string{"2026-11-01T16:00Z", "2026-11-15T16:00Z", "2026-11-22T16:00Z"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	first, last, ok := FirstLast(it)
	if !ok || first.InstanceIndex != 1 || last.InstanceIndex != 4 {
		t.Fatalf("FirstLast: got %d..%d ok=%v, want 1..4 true", first.InstanceIndex, last.InstanceIndex, ok)
	}
}

func TestExpandAllDayAcrossDST(t *testing.T) {
	t.Parallel()
	const z = "W. Europe Standard Time"
	it := mkSeries(t, z, "2026-03-21 00:00", 24*time.Hour, Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{"Saturday"}, Range: "Numbered", Count: 3})
	it.AllDay = true
	got := Expand(it, viewFrom, viewTo)
	var spans []string
	for _, o := range got {
		spans = append(spans, o.Start.Format("01-02T15Z")+"/"+o.End.Format("01-02T15Z"))
	}
	want := []string{"03-20T23Z/03-21T23Z", "03-27T23Z/03-28T23Z", "04-03T22Z/04-04T22Z"}
	if !slices.Equal(spans, want) {
		t.Fatalf("got %v, want %v", spans, want)
	}
}

func TestExpandSingleAndMultiDayAllDay(t *testing.T) {
	t.Parallel()
	loc := location("India Standard Time")
	st := time.Date(2026, 7, 1, 0, 0, 0, 0, loc)
	it := Item{ID: "single", UID: "u", Start: st.UTC(), End: st.AddDate(0, 0, 3).UTC(), AllDay: true, StartTimeZone: "India Standard Time"}
	got := Expand(it, st.AddDate(0, 0, 2), st.AddDate(0, 0, 10))
	if len(got) != 1 || got[0].Type != "Single" || got[0].InstanceIndex != 0 || got[0].MasterID != "" {
		t.Fatalf("got %+v, want one Single", got)
	}
	if got := Expand(it, st.AddDate(0, 0, 3), st.AddDate(0, 0, 10)); len(got) != 0 {
		t.Fatalf("got %d occurrences in a view starting at the end, want 0", len(got))
	}
}

func TestOccurrenceAt(t *testing.T) {
	t.Parallel()
	tn := Generate(Config{Seed: 1, Mailboxes: 1, Events: 0, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	mbx := tn.Mailboxes()[0]
	it := mkSeries(t, "UTC", "2026-06-01 09:00", time.Hour, Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 3})
	it.ID = ""
	it.DeletedOccurrences = []time.Time{time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)}
	it, err := tn.Add(mbx, it)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := tn.OccurrenceAt(mbx, it.ID, 3); err != nil || !o.Start.Equal(time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("index 3: got %v %v, want 2026-06-03 09:00Z", o.Start, err)
	}
	if _, err := tn.OccurrenceAt(mbx, it.ID, 2); !errors.Is(err, ErrOccurrenceDeleted) {
		t.Errorf("index 2: got %v, want ErrOccurrenceDeleted", err)
	}
	if _, err := tn.OccurrenceAt(mbx, it.ID, 4); !errors.Is(err, ErrOccurrenceOutOfRange) {
		t.Errorf("index 4: got %v, want ErrOccurrenceOutOfRange", err)
	}
	// Deleting an occurrence by its id turns it into a deleted occurrence.
	if err := tn.Delete(mbx, OccurrenceID(it.ID, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.OccurrenceAt(mbx, it.ID, 3); !errors.Is(err, ErrOccurrenceDeleted) {
		t.Errorf("index 3 after delete: got %v, want ErrOccurrenceDeleted", err)
	}
}

func TestExpandZeroLength(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 7, 1, 17, 0, 0, 0, time.UTC)
	it := Item{ID: "z", Start: at, End: at, StartTimeZone: "UTC"}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"view starts at it", at, at.Add(time.Hour), 1},
		{"view ends at it", at.Add(-time.Hour), at, 0},
		{"view around it", at.Add(-time.Hour), at.Add(time.Hour), 1},
	} {
		if got := len(Expand(it, tc.from, tc.to)); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}
