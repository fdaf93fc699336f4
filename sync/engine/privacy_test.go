package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// TestBusyOnlyFields: busyOnly keeps exactly the busy-block fields, also
// on modified occurrences, and every field of calendar.Event is
// classified, so that a new one gets a decision here.
func TestBusyOnlyFields(t *testing.T) {
	t.Parallel()
	busy := []string{"ItemID", "ChangeKey", "UID", "Start", "End", "AllDay", "TimeZone", "EndTimeZone", "Recurrence",
		"DeletedOccurrences", "ModifiedOccurrences", "OriginalStart", "FreeBusy", "Cancelled", "LastModified", "Sequence"}
	details := []string{"Subject", "Location", "Body", "Organizer", "Attendees", "Categories", "Sensitivity", "Reminder"}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	reminder := 15 * time.Minute
	rich := func(id string) calendar.Event {
		return calendar.Event{
			ItemID: id, ChangeKey: "ck", UID: "uid", Subject: "Merger talks", Location: "Room 1", Body: "Bring the numbers",
			Start: start, End: start.Add(time.Hour), AllDay: true,
			TimeZone: &calendar.TimeZone{ID: "W. Europe Standard Time"}, EndTimeZone: &calendar.TimeZone{ID: "UTC"},
			Recurrence: &calendar.Recurrence{}, DeletedOccurrences: []time.Time{start}, OriginalStart: start,
			Organizer:  &calendar.Person{Name: "Ann", Email: "ann@contoso.com"},
			Attendees:  []calendar.Attendee{{Person: calendar.Person{Name: "Bob"}}},
			Categories: []string{"Red"}, FreeBusy: calendar.Tentative, Sensitivity: calendar.Private,
			Reminder: &reminder, Cancelled: true, LastModified: start, Sequence: 3,
		}
	}
	e := rich("master")
	e.ModifiedOccurrences = []calendar.Event{rich("exception")}
	got := busyOnly(e)
	typ := reflect.TypeOf(got)
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		in, out := reflect.ValueOf(e).Field(i), reflect.ValueOf(got).Field(i)
		switch {
		case slices.Contains(details, name):
			if !out.IsZero() {
				t.Errorf("field %s: got %v, want the zero value (a detail)", name, out.Interface())
			}
			if in.IsZero() {
				t.Errorf("field %s: the test event lacks it; this test shows nothing", name)
			}
		case slices.Contains(busy, name):
			if name == "ModifiedOccurrences" {
				continue
			}
			if !reflect.DeepEqual(in.Interface(), out.Interface()) {
				t.Errorf("field %s: got %v, want %v (a busy block needs it)", name, out.Interface(), in.Interface())
			}
		default:
			t.Errorf("field %s of calendar.Event is not classified: decide whether a busy block needs it (busyOnly)", name)
		}
	}
	want := busyOnly(rich("exception"))
	if len(got.ModifiedOccurrences) != 1 || !reflect.DeepEqual(got.ModifiedOccurrences[0], want) {
		t.Errorf("got modified occurrences %+v, want [%+v]", got.ModifiedOccurrences, want)
	}
	if e.ModifiedOccurrences[0].Subject == "" {
		t.Errorf("busyOnly changed its argument's occurrences")
	}
}

// fbSource is a fakeSource that also implements FreeBusySource, sending
// the details anyway (the engine must drop them).
type fbSource struct {
	*fakeSource
	mu     sync.Mutex
	fb, fu int
}

func (s *fbSource) SyncPage(ctx context.Context, mb, state string) (calendar.Page, error) {
	s.mu.Lock()
	s.fu++
	s.mu.Unlock()
	return s.fakeSource.SyncPage(ctx, mb, state)
}

func (s *fbSource) SyncPageFreeBusy(ctx context.Context, mb, state string) (calendar.Page, error) {
	s.mu.Lock()
	s.fb++
	s.mu.Unlock()
	return s.fakeSource.SyncPage(ctx, mb, state)
}

func (s *fbSource) counts() (freeBusy, full int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fb, s.fu
}

// TestPrivacySwitches: under free-busy the cache and the sink get no
// subject, and SyncPageFreeBusy is used; switching the setting resyncs
// (once) and the cache follows: back to full brings the subjects back,
// and full → free-busy leaves none in the database file (compacted).
func TestPrivacySwitches(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(3)
	src := &fbSource{fakeSource: newFakeSource(2, mbs, 0)}
	for _, mb := range mbs {
		for i := range 5 {
			src.add(mb, fmt.Sprintf("Secret subject %s #%d", mb, i))
		}
	}
	sink := newFakeSink()
	st := openStore(t)
	deps := Deps{Source: src, Store: st, Sink: sink}
	steps := []struct {
		privacy   string
		refetched bool
	}{
		{"free-busy", false}, // a first sync: nothing to refetch
		{"free-busy", false},
		{"full", true},
		{"full", false},
		{"free-busy", true},
		{"free-busy", false},
	}
	for i, step := range steps {
		fb0, fu0 := src.counts()
		res := SyncOnce(context.Background(), Config{Mailboxes: mbs, Privacy: step.privacy, Concurrency: 2}, deps)
		what := fmt.Sprintf("step %d (%s)", i, step.privacy)
		details := step.privacy == "full"
		for _, r := range res {
			if r.Err != nil || r.Refetched != step.refetched {
				t.Fatalf("%s %s: got err %v refetched %v, want no error, refetched %v", what, r.Mailbox, r.Err, r.Refetched, step.refetched)
			}
			evs, err := st.Events(r.Mailbox)
			if err != nil || len(evs) != 5 {
				t.Fatalf("%s %s: got %d cached events, %v; want 5", what, r.Mailbox, len(evs), err)
			}
			for _, e := range evs {
				if got := e.Subject != ""; got != details {
					t.Errorf("%s %s: got cached subject %q, want one: %v", what, r.Mailbox, e.Subject, details)
				}
			}
			for _, line := range sink.file(r.Mailbox) {
				if got := strings.Contains(line, "Secret"); got != details {
					t.Errorf("%s %s: got rendered %q, want a subject: %v", what, r.Mailbox, line, details)
				}
			}
		}
		raw, err := os.ReadFile(st.Path())
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(raw, []byte("Secret subject")); got != details {
			t.Errorf("%s: got subjects in the database file: %v, want %v", what, got, details)
		}
		fb, fu := src.counts()
		if (fb > fb0) != !details || (fu > fu0) != details {
			t.Errorf("%s: got %d SyncPageFreeBusy and %d SyncPage calls, want only the %s kind", what, fb-fb0, fu-fu0, step.privacy)
		}
	}
}

// TestPrivacyOfAnOlderCache: a cache from before the privacy was recorded
// was fetched in full: kept under "full", resynced under "free-busy".
func TestPrivacyOfAnOlderCache(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		privacy   string
		refetched bool
	}{{"full", false}, {"free-busy", true}} {
		t.Run(tc.privacy, func(t *testing.T) {
			t.Parallel()
			mb := "old@contoso.com"
			src := newFakeSource(10, []string{mb}, 4)
			st := openStore(t)
			var evs []calendar.Event
			for _, id := range src.truth(mb) {
				id, _, _ = strings.Cut(id, "=")
				evs = append(evs, src.items[mb][id])
			}
			if err := st.ApplyPage(mb, calendar.Page{Upserts: evs, State: "seq:4", Done: true}); err != nil {
				t.Fatal(err)
			}
			r := SyncOnce(context.Background(), Config{Mailboxes: []string{mb}, Privacy: tc.privacy}, Deps{Source: src, Store: st, Sink: newFakeSink()})[0]
			if r.Err != nil || r.Refetched != tc.refetched {
				t.Fatalf("got err %v refetched %v, want no error, refetched %v", r.Err, r.Refetched, tc.refetched)
			}
			if in, _ := st.Info(mb); in.Privacy != tc.privacy {
				t.Errorf("got recorded privacy %q, want %q", in.Privacy, tc.privacy)
			}
		})
	}
}

// TestServeReloadPrivacy: a privacy change by Reload refetches and
// re-renders every mailbox.
func TestServeReloadPrivacy(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(2)
	src := newFakeSource(3, mbs, 4)
	sink := newFakeSink()
	cfg := Config{Mailboxes: mbs, PollInterval: time.Hour, Debounce: 5 * time.Millisecond, Privacy: "full"}
	e := New(cfg, Deps{Source: src, Store: openStore(t), Sink: sink})
	serve(t, e)
	waitStatus(t, e, "first sync", allIdle)
	hasSubjects := func(mb string) bool {
		return slices.ContainsFunc(sink.file(mb), func(s string) bool { return strings.Contains(s, ":event") })
	}
	for _, mb := range mbs {
		if !hasSubjects(mb) {
			t.Fatalf("%s: got %v, want subjects in full mode", mb, sink.file(mb))
		}
	}
	cfg.Privacy = "free-busy"
	e.Reload(cfg)
	for _, mb := range mbs {
		waitFor(t, mb+" rendered without subjects", func() bool { return len(sink.file(mb)) == 4 && !hasSubjects(mb) })
	}
	cfg.Privacy = "full"
	e.Reload(cfg)
	for _, mb := range mbs {
		waitFor(t, mb+" rendered with subjects again", func() bool { return hasSubjects(mb) })
	}
}
