package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/exocal/exocal/sync/calendar"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func ev(id string, hour int) calendar.Event {
	start := time.Date(2026, 11, 27, hour, 0, 0, 0, time.UTC)
	return calendar.Event{ItemID: id, UID: "uid-" + id, Subject: "s " + id, Start: start, End: start.Add(time.Hour)}
}

func ids(t *testing.T, s *Store, mailbox string) []string {
	t.Helper()
	evs, err := s.Events(mailbox)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	out := []string{}
	for _, e := range evs {
		out = append(out, e.ItemID)
	}
	return out
}

func apply(t *testing.T, s *Store, mailbox string, p calendar.Page) {
	t.Helper()
	if err := s.ApplyPage(mailbox, p); err != nil {
		t.Fatalf("ApplyPage(%s, %s): %v", mailbox, p.State, err)
	}
}

func TestIncrementalPagesAndReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	const mb = "Alice@Contoso.com"

	// A first sync is staged: nothing visible before Done.
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("b", 10), ev("a", 9)}, State: "s1"})
	if got := ids(t, s, mb); len(got) != 0 {
		t.Fatalf("events after a partial first sync: got %v, want none (staged)", got)
	}
	// Crash here: the state advanced with its items; reopen resumes from s1.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	in, err := s.Info(mb)
	if err != nil {
		t.Fatal(err)
	}
	if in.State != "s1" || !in.Resyncing {
		t.Fatalf("after reopen: got state %q resyncing %v, want s1 true", in.State, in.Resyncing)
	}
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("c", 8)}, Deletes: []string{"b"}, State: "s2", Done: true})
	if got, want := ids(t, s, mb), []string{"c", "a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events after Done: got %v, want %v (sorted by start)", got, want)
	}
	in, _ = s.Info("alice@contoso.COM") // addresses are case-insensitive
	if in.State != "s2" || in.Resyncing || in.Items != 2 || in.LastSuccess.IsZero() {
		t.Fatalf("info: got %+v, want state s2, not resyncing, 2 items, a success time", in)
	}
	// Incremental pages apply directly, and re-applying a page is harmless.
	p := calendar.Page{Upserts: []calendar.Event{ev("d", 11)}, Deletes: []string{"a", "zz"}, State: "s3"}
	apply(t, s, mb, p)
	apply(t, s, mb, p)
	if got, want := ids(t, s, mb), []string{"c", "d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events after incremental page: got %v, want %v", got, want)
	}
	if st, _ := s.State(mb); st != "s3" {
		t.Fatalf("state: got %q, want s3", st)
	}
}

func TestResetKeepsItemsUntilDone(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	const mb = "room@contoso.com"
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("old1", 1), ev("old2", 2)}, State: "x1", Done: true})

	if err := s.Reset(mb); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.State(mb); st != "" {
		t.Fatalf("state after Reset: got %q, want empty", st)
	}
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("old2", 2), ev("new", 3)}, State: "y1"})
	if got, want := ids(t, s, mb), []string{"old1", "old2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events during resync: got %v, want the old set %v", got, want)
	}
	// A second Reset mid-resync starts the staging over.
	if err := s.Reset(mb); err != nil {
		t.Fatal(err)
	}
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("new", 3)}, State: "z1", Done: true})
	if got, want := ids(t, s, mb), []string{"new"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events after resync: got %v, want %v", got, want)
	}
	in, _ := s.Info(mb)
	if in.State != "z1" || in.Resyncing || in.Items != 1 {
		t.Fatalf("info after resync: got %+v, want state z1, 1 item", in)
	}
}

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	rem := 15 * time.Minute
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	e := calendar.Event{
		ItemID: "AAMk=", ChangeKey: "ck", UID: "u", Subject: "Weekly", Location: "R1", Body: "b",
		Start: start, End: start.Add(time.Hour),
		TimeZone:            &calendar.TimeZone{ID: "W. Europe Standard Time", StandardOffset: time.Hour, DaylightOffset: 2 * time.Hour, ToDaylight: &calendar.Transition{Month: 3, Week: 5, Weekday: time.Sunday, At: 2 * time.Hour}, HasDefinition: true},
		Recurrence:          &calendar.Recurrence{Pattern: calendar.Weekly, Interval: 1, DaysOfWeek: []calendar.Day{calendar.Monday}, Range: calendar.NoEnd, StartDate: calendar.Date{Year: 2026, Month: 3, Day: 2}},
		DeletedOccurrences:  []time.Time{start.AddDate(0, 0, 7)},
		ModifiedOccurrences: []calendar.Event{{ItemID: "ex", Subject: "moved", Start: start.AddDate(0, 0, 14).Add(time.Hour), End: start.AddDate(0, 0, 14).Add(2 * time.Hour), OriginalStart: start.AddDate(0, 0, 14)}},
		Organizer:           &calendar.Person{Name: "A", Email: "a@x"},
		Attendees:           []calendar.Attendee{{Person: calendar.Person{Name: "B", Email: "b@x"}, Role: calendar.Optional, Response: calendar.ResponseAccept}},
		Categories:          []string{"Red"}, FreeBusy: calendar.Tentative, Sensitivity: calendar.Private,
		Reminder: &rem, LastModified: start, Sequence: 3,
	}
	apply(t, s, "a@x", calendar.Page{Upserts: []calendar.Event{e}, State: "s", Done: true})
	got, err := s.Events("a@x")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}
}

func TestRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	err := s.ApplyPage("a@x", calendar.Page{Upserts: []calendar.Event{{Subject: "no id"}}, State: "s1", Done: true})
	if err == nil {
		t.Fatal("ApplyPage with an empty ItemID: got nil error, want one")
	}
	if st, _ := s.State("a@x"); st != "" {
		t.Fatalf("state after a refused page: got %q, want empty (nothing applied)", st)
	}
}

func TestForgetAndMailboxes(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	apply(t, s, "B@x", calendar.Page{Upserts: []calendar.Event{ev("1", 1)}, State: "s", Done: true})
	apply(t, s, "a@x", calendar.Page{State: "s", Done: true})
	got, _ := s.Mailboxes()
	if want := []string{"a@x", "b@x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Mailboxes: got %v, want %v", got, want)
	}
	if err := s.Forget("b@X"); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget("nobody@x"); err != nil {
		t.Fatalf("Forget of an unknown mailbox: got %v, want nil", err)
	}
	if got := ids(t, s, "b@x"); len(got) != 0 {
		t.Fatalf("events after Forget: got %v, want none", got)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	if _, err := Open(path, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open while held: got %v, want ErrLocked", err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Put(keySchema, []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, 0); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open of a newer schema: got %v, want ErrSchema", err)
	}
}

func TestItemCountMatchesItems(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	const mb = "a@x"
	rng := rand.New(rand.NewPCG(1, 2))
	for step := 0; step < 200; step++ {
		if step%50 == 25 {
			if err := s.Reset(mb); err != nil {
				t.Fatal(err)
			}
		}
		var p calendar.Page
		for range rng.IntN(4) {
			p.Upserts = append(p.Upserts, ev(fmt.Sprint(rng.IntN(20)), rng.IntN(24)))
		}
		for range rng.IntN(3) {
			p.Deletes = append(p.Deletes, fmt.Sprint(rng.IntN(20)))
		}
		p.State, p.Done = fmt.Sprint("s", step), rng.IntN(3) > 0
		apply(t, s, mb, p)
		in, err := s.Info(mb)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := in.Items, len(ids(t, s, mb)); got != want {
			t.Fatalf("step %d: got Items %d, want %d (the events stored)", step, got, want)
		}
	}
}

// Two upserts of one item in a page: the later wins, and it counts once.
func TestApplyPageDuplicateUpsertLaterWins(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	first, later := ev("x", 9), ev("x", 11)
	later.Subject = "later"
	apply(t, s, "a@contoso.com", calendar.Page{Upserts: []calendar.Event{ev("z", 8), first, ev("a", 10), later}, State: "s1", Done: true})
	evs, err := s.Events("a@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[2].ItemID != "x" || evs[2].Subject != "later" {
		t.Fatalf("events: got %+v, want z, a and the later x", evs)
	}
	if in, _ := s.Info("a@contoso.com"); in.Items != 3 {
		t.Fatalf("items: got %d, want 3", in.Items)
	}
}

// A damaged database file gets a sentence that says deleting it is safe.
func TestOpenDamagedSaysDeleteIt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, time.Second)
	if err == nil || !strings.Contains(err.Error(), "is damaged") || !strings.Contains(err.Error(), "delete it, and the next sync rebuilds it") {
		t.Errorf("Open of a damaged file: got %v, want a sentence that says deleting it is safe", err)
	}
}
