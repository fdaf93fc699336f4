package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/exocal/exocal/sync/calendar"
)

// fill sets every field reachable from v to a distinct non-zero value
// (slices get two elements, pointers a value), so that a field the codec
// forgets — one added to calendar.Event later, say — fails the round trip.
// ModifiedOccurrences nest one level.
func fill(v reflect.Value, n *int, depth int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n, depth)
	case reflect.Slice:
		if v.Type().Elem() == reflect.TypeFor[calendar.Event]() && depth > 0 {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n, depth+1)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 27, 9, 0, *n, *n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n, depth)
		}
	default:
		panic(fmt.Sprintf("fill: add kind %s (%s)", v.Kind(), v.Type()))
	}
}

func roundTrip(t *testing.T, e *calendar.Event) calendar.Event {
	t.Helper()
	var got calendar.Event
	if err := decodeEvent(appendEvent(nil, e), &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return got
}

func TestCodecRoundTripsEveryField(t *testing.T) {
	t.Parallel()
	var full calendar.Event
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n, 0)
	if len(full.ModifiedOccurrences) != 2 || full.ModifiedOccurrences[0].Recurrence == nil {
		t.Fatalf("fill did not reach nested fields: %+v", full.ModifiedOccurrences)
	}
	reminder := -90 * time.Minute
	cases := []struct {
		name string
		e    calendar.Event
	}{
		{"zero", calendar.Event{}},
		{"every field", full},
		{"empty, not nil, slices", calendar.Event{ItemID: "x", DeletedOccurrences: []time.Time{}, Categories: []string{},
			Attendees: []calendar.Attendee{}, ModifiedOccurrences: []calendar.Event{}, Recurrence: &calendar.Recurrence{DaysOfWeek: []calendar.Day{}}}},
		{"negatives and unicode", calendar.Event{ItemID: "é\x00☃", Reminder: &reminder, Sequence: -1,
			TimeZone: &calendar.TimeZone{StandardOffset: -5 * time.Hour, DaylightOffset: -4 * time.Hour, ToDaylight: &calendar.Transition{Month: 3, Week: 2, At: 2 * time.Hour}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := roundTrip(t, &c.e); !reflect.DeepEqual(got, c.e) {
				t.Errorf("got %+v, want %+v", got, c.e)
			}
		})
	}
}

// The binary form decodes to what schema 1's JSON decoded to, times'
// locations included.
func TestCodecMatchesJSON(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		{},
		time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 27, 9, 30, 0, 123456789, time.FixedZone("CET", 3600)),
		time.Date(1999, 1, 2, 3, 4, 5, 0, time.FixedZone("", -9000)),
		time.Date(2026, 7, 1, 12, 0, 0, 0, time.Local),
		time.Now(), // with a monotonic reading
	}
	for i, tm := range times {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			e := calendar.Event{ItemID: "id", Start: tm, End: tm.Add(time.Hour), DeletedOccurrences: []time.Time{tm}}
			js, err := json.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			var want calendar.Event
			if err := decodeEvent(js, &want); err != nil {
				t.Fatalf("decode JSON: %v", err)
			}
			if got := roundTrip(t, &e); !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v (as from JSON)", got, want)
			}
		})
	}
}

func TestCodecRejectsDamage(t *testing.T) {
	t.Parallel()
	var full calendar.Event
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n, 0)
	b := appendEvent(nil, &full)
	for i := range len(b) {
		var e calendar.Event
		if err := decodeEvent(b[:i], &e); err == nil {
			t.Fatalf("decode of the first %d of %d bytes: got no error, want one", i, len(b))
		}
	}
	var e calendar.Event
	if err := decodeEvent(append(b, 0), &e); err == nil {
		t.Error("decode with a trailing byte: got no error, want one")
	}
	if err := decodeEvent([]byte{0x7f, 1}, &e); err == nil {
		t.Error("decode of an unknown format: got no error, want one")
	}
}

func TestCodecIsSmallerThanJSON(t *testing.T) {
	t.Parallel()
	e := ev("AAMkADk0MzY1ZjZhLTFkNWItNGY3Ny05NGUxLWQ4Y2IyNjE0ZjAxNgBGAAAAAAC", 9)
	e.TimeZone = &calendar.TimeZone{ID: "W. Europe Standard Time", StandardOffset: time.Hour, DaylightOffset: 2 * time.Hour, HasDefinition: true,
		ToStandard: &calendar.Transition{Month: 10, Week: 5, At: 3 * time.Hour}, ToDaylight: &calendar.Transition{Month: 3, Week: 5, At: 2 * time.Hour}}
	e.Organizer = &calendar.Person{Name: "Alice", Email: "alice@contoso.com"}
	js, _ := json.Marshal(&e)
	if b := appendEvent(nil, &e); len(b)*2 > len(js) {
		t.Errorf("binary item: got %d bytes, want at most half of JSON's %d", len(b), len(js))
	}
}

// A schema 1 database (items as JSON, in a completed sync and in a staged
// resync) opens: its items are migrated to the binary form, and the sync
// goes on from where it was.
func TestOpenMigratesSchema1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	const mb = "alice@contoso.com"
	old := []calendar.Event{ev("b", 10), ev("a", 9)}
	reminder := 15 * time.Minute
	old[0].Reminder, old[0].Categories = &reminder, []string{"Red"}
	staged := ev("c", 8)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bktMeta)
		if err := meta.Put(keySchema, []byte("1")); err != nil {
			return err
		}
		mbs, _ := tx.CreateBucket(bktMailboxes)
		b, _ := mbs.CreateBucket([]byte(mb))
		items, _ := b.CreateBucket(bktItems)
		for _, e := range old {
			js, _ := json.Marshal(&e)
			if err := items.Put([]byte(e.ItemID), js); err != nil {
				return err
			}
		}
		st, _ := b.CreateBucket(bktStaging)
		sitems, _ := st.CreateBucket(bktItems)
		js, _ := json.Marshal(&staged)
		for _, kv := range [][2][]byte{{keyState, []byte("old-state")}, {keyCount, []byte("2")}, {keyLast, []byte("2026-11-26T10:00:00Z")}} {
			if err := b.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		if err := st.Put(keyState, []byte("staged-state")); err != nil {
			return err
		}
		return sitems.Put([]byte("c"), js)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	evs, err := s.Events(mb)
	if err != nil {
		t.Fatal(err)
	}
	if want := []calendar.Event{old[1], old[0]}; !reflect.DeepEqual(evs, want) {
		t.Fatalf("events after migration: got %+v, want %+v", evs, want)
	}
	in, err := s.Info(mb)
	if err != nil {
		t.Fatal(err)
	}
	if in.State != "staged-state" || !in.Resyncing || in.Items != 2 {
		t.Fatalf("info after migration: got %+v, want the staged resync at staged-state over 2 items", in)
	}
	err = s.view(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bktMeta).Get(keySchema)); v != strconv.Itoa(SchemaVersion) {
			return fmt.Errorf("schema: got %q, want %d", v, SchemaVersion)
		}
		b := tx.Bucket(bktMailboxes).Bucket([]byte(mb))
		for _, items := range []*bolt.Bucket{b.Bucket(bktItems), b.Bucket(bktStaging).Bucket(bktItems)} {
			if err := items.ForEach(func(k, v []byte) error {
				if v[0] != formatBinary1 {
					return fmt.Errorf("item %s: got format %#x, want %#x", k, v[0], formatBinary1)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The staged resync completes with the migrated staged item.
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("d", 11)}, State: "new", Done: true})
	if got, want := ids(t, s, mb), []string{"c", "d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events after the resync: got %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	if got, want := ids(t, s, mb), []string{"c", "d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events after reopen: got %v, want %v", got, want)
	}
}

// A crash during the migration leaves some items as JSON under schema 2:
// they are read as they are, and rewritten in the binary form when they
// change.
func TestLeftoverJSONItemReads(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	const mb = "bob@contoso.com"
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("a", 9), ev("b", 10)}, State: "s1", Done: true})
	leftover := ev("a", 8)
	leftover.Subject = "from JSON"
	js, _ := json.Marshal(&leftover)
	if err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMailboxes).Bucket([]byte(mb)).Bucket(bktItems).Put([]byte("a"), js)
	}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(mb)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || !reflect.DeepEqual(evs[0], leftover) {
		t.Fatalf("events: got %+v, want the JSON item first, then b", evs)
	}
}
