package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

func newTestTenant(t *testing.T, events int) (*Tenant, string) {
	t.Helper()
	tn := Generate(Config{Seed: 11, Mailboxes: 2, Events: events, Now: genNow})
	return tn, "user001@contoso.onmicrosoft.com"
}

func simpleItem(subject string, start time.Time) Item {
	return Item{Subject: subject, Start: start, End: start.Add(time.Hour), StartTimeZone: "W. Europe Standard Time"}
}

func TestAddUpdateDelete(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 5)
	start := genNow.Add(48 * time.Hour)
	added, err := tn.Add(mb, simpleItem("Planning", start))
	if err != nil {
		t.Fatal(err)
	}
	if added.ID == "" || added.ChangeKey == "" || added.UID == "" || added.Created.IsZero() || !added.LastModified.Equal(added.Created) {
		t.Fatalf("got %+v, want id, change key, uid and created == last modified assigned", added)
	}
	if !added.Created.After(genNow) {
		t.Errorf("got created %v, want after Now %v (logical clock)", added.Created, genNow)
	}
	if added.FreeBusy != "Busy" || added.Sensitivity != "Normal" || added.EndTimeZone != added.StartTimeZone {
		t.Errorf("got defaults %q %q %q, want Busy Normal and EndTimeZone = StartTimeZone", added.FreeBusy, added.Sensitivity, added.EndTimeZone)
	}
	got, ok := tn.Item(mb, added.ID)
	if !ok || !reflect.DeepEqual(got, added) {
		t.Fatalf("Item after Add: got %+v %v, want %+v", got, ok, added)
	}
	upd, err := tn.Update(mb, added.ID, func(it *Item) { it.Subject = "Planning (moved)"; it.ID = "hijack" })
	if err != nil {
		t.Fatal(err)
	}
	if upd.ID != added.ID || upd.Subject != "Planning (moved)" || upd.ChangeKey == added.ChangeKey ||
		!upd.LastModified.After(added.LastModified) || upd.Sequence != added.Sequence+1 || !upd.Created.Equal(added.Created) {
		t.Fatalf("Update: got %+v, want same id, new subject, new change key, later LastModified, Sequence+1", upd)
	}
	if _, err := tn.Update(mb, added.ID, func(it *Item) { it.End = it.Start.Add(-time.Hour) }); !errors.Is(err, ErrInvalidItem) {
		t.Errorf("Update with end before start: got %v, want ErrInvalidItem", err)
	}
	if got, _ := tn.Item(mb, added.ID); got.ChangeKey != upd.ChangeKey {
		t.Errorf("failed update changed the item")
	}
	if err := tn.Delete(mb, added.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := tn.Item(mb, added.ID); ok {
		t.Fatal("item still there after Delete")
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"delete twice", tn.Delete(mb, added.ID), ErrNoItem},
		{"update unknown", func() error { _, err := tn.Update(mb, "nope", func(*Item) {}); return err }(), ErrNoItem},
		{"add to unknown mailbox", func() error { _, err := tn.Add("nobody@contoso.onmicrosoft.com", simpleItem("x", start)); return err }(), ErrNoMailbox},
		{"unknown zone", func() error {
			it := simpleItem("x", start)
			it.StartTimeZone = "Mars Standard Time"
			_, err := tn.Add(mb, it)
			return err
		}(), ErrInvalidItem},
		{"bad pattern", func() error {
			it := simpleItem("x", start)
			it.Recurrence = &Recurrence{Pattern: "Hourly", Interval: 1, Range: "NoEnd"}
			_, err := tn.Add(mb, it)
			return err
		}(), ErrInvalidItem},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestCopiesAreDeep(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 40)
	var series Item
	for _, it := range tn.Items(mb) {
		if it.Recurrence != nil && len(it.ModifiedOccurrences) > 0 && len(it.DeletedOccurrences) > 0 {
			series = it
			break
		}
	}
	if series.ID == "" {
		t.Fatal("no series with exceptions")
	}
	series.Recurrence.Interval = 99
	series.ModifiedOccurrences[0].Subject = "scribble"
	series.DeletedOccurrences[0] = time.Time{}
	again, _ := tn.Item(mb, series.ID)
	if again.Recurrence.Interval == 99 || again.ModifiedOccurrences[0].Subject == "scribble" || again.DeletedOccurrences[0].IsZero() {
		t.Fatal("editing a returned item changed the tenant")
	}
}

func TestExceptionUpdateAndDelete(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 0)
	it := mkSeries(t, "Eastern Standard Time", "2026-12-01 10:00", time.Hour, Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 5})
	it.ID = ""
	m, err := tn.Add(mb, it)
	if err != nil {
		t.Fatal(err)
	}
	// Modify the 2nd occurrence through the master: a new exception.
	o2, err := tn.OccurrenceAt(mb, m.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	m, err = tn.Update(mb, m.ID, func(x *Item) {
		x.ModifiedOccurrences = append(x.ModifiedOccurrences, Item{Subject: "later", OriginalStart: o2.Start, Start: o2.Start.Add(3 * time.Hour), End: o2.End.Add(3 * time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ModifiedOccurrences) != 1 || m.ModifiedOccurrences[0].ID == "" || m.ModifiedOccurrences[0].UID != m.UID {
		t.Fatalf("got exceptions %+v, want one with its own id and the master's UID", m.ModifiedOccurrences)
	}
	excID := m.ModifiedOccurrences[0].ID
	// Update the exception by its own id: the master changes too.
	e, err := tn.Update(mb, excID, func(x *Item) { x.Subject = "later still"; x.OriginalStart = time.Time{} })
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != excID || e.Subject != "later still" || !e.OriginalStart.Equal(o2.Start) {
		t.Fatalf("got %+v, want the exception with its id and original start kept", e)
	}
	m2, _ := tn.Item(mb, m.ID)
	if m2.ChangeKey == m.ChangeKey || m2.ModifiedOccurrences[0].Subject != "later still" {
		t.Fatalf("master after exception update: change key %q (was %q), subject %q", m2.ChangeKey, m.ChangeKey, m2.ModifiedOccurrences[0].Subject)
	}
	// Update a plain occurrence by its occurrence id: it becomes an exception.
	e4, err := tn.Update(mb, OccurrenceID(m.ID, 4), func(x *Item) { x.Location = "Boardroom" })
	if err != nil {
		t.Fatal(err)
	}
	o4, _ := tn.OccurrenceAt(mb, m.ID, 4)
	if e4.ID == "" || e4.ID == excID || e4.Location != "Boardroom" || o4.Type != "Exception" || o4.ItemID != e4.ID || !e4.OriginalStart.Equal(o4.Start) {
		t.Fatalf("occurrence update: got exception %+v, occurrence %+v", e4, o4)
	}
	if _, err := tn.Update(mb, OccurrenceID(m.ID, 9), func(*Item) {}); !errors.Is(err, ErrOccurrenceOutOfRange) {
		t.Fatalf("update of occurrence 9 of 5: got %v, want ErrOccurrenceOutOfRange", err)
	}
	if err := tn.Delete(mb, e4.ID); err != nil {
		t.Fatal(err)
	}
	// Delete the exception: it becomes a deleted occurrence.
	if err := tn.Delete(mb, excID); err != nil {
		t.Fatal(err)
	}
	m3, _ := tn.Item(mb, m.ID)
	if len(m3.ModifiedOccurrences) != 0 || len(m3.DeletedOccurrences) != 2 || !m3.DeletedOccurrences[0].Equal(o2.Start) {
		t.Fatalf("after deleting the exception: got modified %d deleted %v, want 0 and [%v]", len(m3.ModifiedOccurrences), m3.DeletedOccurrences, o2.Start)
	}
	if _, ok := tn.Item(mb, excID); ok {
		t.Fatal("exception still found by id after delete")
	}
	// Changing the series' time drops deleted occurrences that no longer exist.
	m4, err := tn.Update(mb, m.ID, func(x *Item) { x.Start, x.End = x.Start.Add(time.Hour), x.End.Add(time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m4.DeletedOccurrences) != 0 {
		t.Fatalf("after moving the series: got deleted %v, want none", m4.DeletedOccurrences)
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 3)
	initial, head0 := tn.Journal(mb, 0)
	if len(initial) != 3 || head0 != 3 {
		t.Fatalf("initial journal: got %d changes head %d, want 3 Created, head 3", len(initial), head0)
	}
	for i, c := range initial {
		if c.Kind != Created || c.Seq != uint64(i+1) {
			t.Errorf("initial change %d: got %+v, want Created seq %d", i, c, i+1)
		}
	}
	items := tn.Items(mb)
	a, _ := tn.Add(mb, simpleItem("A", genNow.Add(time.Hour)))   // 4
	b, _ := tn.Add(mb, simpleItem("B", genNow.Add(2*time.Hour))) // 5
	tn.Update(mb, items[0].ID, func(it *Item) { it.Subject = "x" })
	tn.Update(mb, a.ID, func(it *Item) { it.Subject = "A2" })
	tn.Delete(mb, b.ID)
	tn.Delete(mb, items[1].ID)
	tn.Update(mb, items[0].ID, func(it *Item) { it.Subject = "y" })
	type kv struct {
		id   string
		kind ChangeKind
	}
	tests := []struct {
		name  string
		after uint64
		want  []kv
	}{
		// A reader at head0 never saw A or B: A is Created (its update folded
		// in), B vanishes; items[1] Deleted; items[0] Updated (latest).
		{"reader at head0", head0, []kv{{a.ID, Created}, {items[1].ID, Deleted}, {items[0].ID, Updated}}},
		// A reader from the start sees only what exists, all as Created.
		{"reader from zero", 0, []kv{{items[2].ID, Created}, {a.ID, Created}, {items[0].ID, Created}}},
		// A reader that saw A and B: A Updated, B Deleted.
		{"reader after B's creation", 5, []kv{{a.ID, Updated}, {b.ID, Deleted}, {items[1].ID, Deleted}, {items[0].ID, Updated}}},
	}
	for _, tc := range tests {
		got, head := tn.Journal(mb, tc.after)
		var gotKV []kv
		for i, c := range got {
			gotKV = append(gotKV, kv{c.ItemID, c.Kind})
			if i > 0 && c.Seq <= got[i-1].Seq {
				t.Errorf("%s: seqs not increasing: %d after %d", tc.name, c.Seq, got[i-1].Seq)
			}
			if c.Seq <= tc.after || c.Seq > head {
				t.Errorf("%s: seq %d outside (%d, %d]", tc.name, c.Seq, tc.after, head)
			}
		}
		if !slices.Equal(gotKV, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, gotKV, tc.want)
		}
		if head != 10 {
			t.Errorf("%s: got head %d, want 10", tc.name, head)
		}
	}
	if got, head := tn.Journal(mb, 10); len(got) != 0 || head != 10 {
		t.Errorf("at head: got %v head %d, want nothing, 10", got, head)
	}
	if got, head := tn.Journal("nobody@x", 0); got != nil || head != 0 {
		t.Errorf("unknown mailbox: got %v %d", got, head)
	}
	// Many updates of one item keep one entry (compaction).
	for i := range 300 {
		tn.Update(mb, items[2].ID, func(it *Item) { it.Subject = fmt.Sprint(i) })
	}
	got, _ := tn.Journal(mb, 10)
	if len(got) != 1 || got[0].Kind != Updated || got[0].ItemID != items[2].ID {
		t.Fatalf("after 300 updates: got %v, want one Updated", got)
	}
}

func TestLastModifiedMonotonic(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 2)
	var last time.Time
	for i := range 20 {
		it, err := tn.Add(mb, simpleItem(fmt.Sprint(i), genNow))
		if err != nil {
			t.Fatal(err)
		}
		if !it.LastModified.After(last) {
			t.Fatalf("add %d: LastModified %v not after %v", i, it.LastModified, last)
		}
		last = it.LastModified
	}
	// A wall clock that stands still or goes back still gives increasing times.
	wall := genNow.Add(time.Hour)
	tn.SetClock(func() time.Time { return wall })
	for i := range 5 {
		it, _ := tn.Add(mb, simpleItem(fmt.Sprint(i), genNow))
		if !it.LastModified.After(last) {
			t.Fatalf("wall add %d: LastModified %v not after %v", i, it.LastModified, last)
		}
		last = it.LastModified
		wall = wall.Add(-time.Minute)
	}
}

func TestWatchOrderAndCancel(t *testing.T) {
	t.Parallel()
	tn := Generate(Config{Seed: 1, Mailboxes: 3, Events: 1, Now: genNow})
	boxes := tn.Mailboxes()
	type ev struct {
		mb string
		c  Change
	}
	var mu sync.Mutex
	var got []ev
	done := make(chan struct{})
	const n = 200
	block := make(chan struct{})
	cancel := tn.Watch(func(m string, c Change) {
		<-block // a slow watcher must not block mutations
		mu.Lock()
		got = append(got, ev{m, c})
		if len(got) == 3*n {
			close(done)
		}
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for _, b := range boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if _, err := tn.Add(b, simpleItem(fmt.Sprint(i), genNow)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait() // returns although the watcher is blocked
	close(block)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watcher did not get every change")
	}
	cancel()
	mu.Lock()
	last := map[string]uint64{}
	for _, e := range got {
		if e.c.Seq <= last[e.mb] {
			t.Fatalf("%s: seq %d after %d: out of order", e.mb, e.c.Seq, last[e.mb])
		}
		last[e.mb] = e.c.Seq
		if e.c.Kind != Created {
			t.Fatalf("got kind %v, want Created", e.c.Kind)
		}
	}
	mu.Unlock()
	for _, b := range boxes {
		if _, head := tn.Journal(b, 0); last[b] != head {
			t.Errorf("%s: last notified seq %d, journal head %d", b, last[b], head)
		}
	}
	// After cancel, no more calls.
	tn.Add(boxes[0], simpleItem("after", genNow))
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	if len(got) != 3*n {
		t.Errorf("got %d calls after cancel, want %d", len(got), 3*n)
	}
	mu.Unlock()
	cancel() // idempotent
}

// TestWatchCallbackMayUseTenant: callbacks run off-lock, so they can read
// and even change the tenant without deadlock.
func TestWatchCallbackMayUseTenant(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 1)
	got := make(chan Item, 1)
	cancel := tn.Watch(func(m string, c Change) {
		it, _ := tn.Item(m, c.ItemID)
		if c.Kind == Created {
			tn.Update(m, c.ItemID, func(x *Item) { x.Subject += " (seen)" })
			got <- it
		}
	})
	defer cancel()
	if _, err := tn.Add(mb, simpleItem("ping", genNow)); err != nil {
		t.Fatal(err)
	}
	select {
	case it := <-got:
		if it.Subject != "ping" {
			t.Fatalf("got %q, want ping", it.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback")
	}
}

func TestCalendarViewAndDumpRoundTrip(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 40)
	from, to := genNow.AddDate(0, 0, -30), genNow.AddDate(0, 0, 365)
	view := tn.CalendarView(mb, from, to)
	types := map[string]int{}
	for i, o := range view {
		types[o.Type]++
		if i > 0 && (o.Start.Before(view[i-1].Start) || (o.Start.Equal(view[i-1].Start) && o.ItemID < view[i-1].ItemID)) {
			t.Fatalf("view not sorted at %d", i)
		}
		if !o.End.After(from) && !o.Start.Equal(o.End) || !o.Start.Before(to) {
			t.Fatalf("occurrence %v-%v outside view", o.Start, o.End)
		}
	}
	for _, typ := range []string{"Single", "Occurrence", "Exception"} {
		if types[typ] == 0 {
			t.Errorf("view has no %s", typ)
		}
	}
	d := tn.Dump(from, to)
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back GroundTruth
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	raw2, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(raw2) {
		t.Fatal("Dump does not survive a JSON round trip")
	}
	if !reflect.DeepEqual(back.Mailboxes[mb], normalizeItems(tn.Items(mb))) {
		t.Fatal("Dump's items differ from Items")
	}
	if !reflect.DeepEqual(back.View[mb], normalizeView(view)) {
		t.Fatal("Dump's view differs from CalendarView")
	}
	if len(back.Mailboxes[mb]) != 40 {
		t.Fatalf("got %d items in the dump, want 40", len(back.Mailboxes[mb]))
	}
}

// normalizeItems/normalizeView pass values through JSON so that
// reflect.DeepEqual compares instants, not time.Location pointers.
func normalizeItems(v []Item) []Item {
	raw, _ := json.Marshal(v)
	var out []Item
	json.Unmarshal(raw, &out)
	return out
}

func normalizeView(v []Occurrence) []Occurrence {
	raw, _ := json.Marshal(v)
	var out []Occurrence
	json.Unmarshal(raw, &out)
	return out
}

func TestAddAlignsSeriesStart(t *testing.T) {
	t.Parallel()
	tn, mb := newTestTenant(t, 0)
	// Sunday 2026-12-06 10:00 Tokyo, a weekly Monday/Thursday series without StartDate.
	loc := location("Tokyo Standard Time")
	st := time.Date(2026, 12, 6, 10, 0, 0, 0, loc)
	it := Item{Subject: "x", Start: st, End: st.Add(time.Hour), StartTimeZone: "Tokyo Standard Time",
		Recurrence: &Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{"Thursday", "Monday"}, Range: "Numbered", Count: 2}}
	got, err := tn.Add(mb, it)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 7, 10, 0, 0, 0, loc)
	if !got.Start.Equal(want) || got.End.Sub(got.Start) != time.Hour || got.Recurrence.StartDate != "2026-12-06" {
		t.Fatalf("got start %v (%v long), StartDate %s; want %v, 1h, 2026-12-06", got.Start.In(loc), got.End.Sub(got.Start), got.Recurrence.StartDate, want)
	}
}
