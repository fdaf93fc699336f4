package backend_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/engine"
)

// TestPrivacyKeepsDetailsOffDisk runs syncs against the emulator under
// free-busy, then full, then free-busy again. Under free-busy neither the
// state database (its raw bytes) nor the ICS files hold any subject, body,
// location, category or attendee; under full they do (so the check can
// fail). Each switch refetches every mailbox; the free-busy files are the
// same bytes as the full cache rendered free-busy (the smaller GetItem
// loses nothing a busy block needs); a free-busy sync receives fewer bytes.
func TestPrivacyKeepsDetailsOffDisk(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2, 30, nil)
	mbs := f.tn.Mailboxes()
	secrets := []string{"Zebra-Subject-8812", "Zebra-Body-5531", "Zebra-Location-2290", "Zebra-Category-4417",
		"zebra-attendee-6620@fabrikam.com", "Zebra-Exception-Subject-3391"}
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour).UTC()
	for _, mb := range mbs {
		if _, err := f.tn.Add(mb, tenant.Item{Subject: secrets[0], Body: secrets[1], Location: secrets[2], Categories: []string{secrets[3]},
			Attendees: []tenant.Attendee{{Person: tenant.Person{Name: "Zed", Email: secrets[4]}, Role: "Required", Response: "Accept"}},
			IsMeeting: true, Organizer: tenant.Person{Name: "Ann", Email: mb},
			Start: start, End: start.Add(time.Hour), StartTimeZone: "W. Europe Standard Time", EndTimeZone: "W. Europe Standard Time",
			FreeBusy: "Busy", Sensitivity: "Normal"}); err != nil {
			t.Fatal(err)
		}
	}
	// An exception (fetched by its own GetItem) with its own subject.
	excepted := false
	for _, it := range f.tn.Items(mbs[0]) {
		if len(it.ModifiedOccurrences) > 0 {
			if _, err := f.tn.Update(mbs[0], it.ID, func(it *tenant.Item) { it.ModifiedOccurrences[0].Subject = secrets[5] }); err != nil {
				t.Fatal(err)
			}
			excepted = true
			break
		}
	}
	if !excepted {
		t.Fatal("the tenant has no series with an exception; this test needs one")
	}
	b := f.backend(t)

	type snapshot struct {
		db       []byte
		ics      map[string][]byte
		received int64
	}
	run := func(what, privacy string, refetched bool) snapshot {
		t.Helper()
		cfg := f.config()
		cfg.Privacy = privacy
		r0 := f.counter.received.Load()
		for _, r := range engine.SyncOnce(context.Background(), cfg, f.deps(b)) {
			if r.Err != nil || r.Refetched != refetched || !r.Written {
				t.Fatalf("%s: %s: got err %v refetched %v written %v, want no error, refetched %v, written", what, r.Mailbox, r.Err, r.Refetched, r.Written, refetched)
			}
		}
		s := snapshot{ics: map[string][]byte{}, received: f.counter.received.Load() - r0}
		var err error
		if s.db, err = os.ReadFile(f.st.Path()); err != nil {
			t.Fatal(err)
		}
		for _, mb := range mbs {
			if s.ics[mb], err = os.ReadFile(backend.FilePath(f.dir, mb)); err != nil {
				t.Fatal(err)
			}
		}
		wantIn := privacy == "full"
		for _, sec := range secrets {
			if got := bytes.Contains(s.db, []byte(sec)); got != wantIn {
				t.Errorf("%s: got %q in the state database: %v, want %v", what, sec, got, wantIn)
			}
			inICS := false
			for _, b := range s.ics {
				// Unfolded: a folded line splits a long value.
				b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n "), nil), []byte("\r\n\t"), nil)
				inICS = inICS || bytes.Contains(b, []byte(sec))
			}
			if inICS != wantIn {
				t.Errorf("%s: got %q in an ICS file: %v, want %v", what, sec, inICS, wantIn)
			}
		}
		return s
	}

	fb := run("first free-busy sync", "free-busy", false)
	full := run("switch to full", "full", true)
	// The full cache rendered free-busy is the free-busy sync's file.
	other := t.TempDir()
	w0, w1 := f.config().Window(time.Now())
	for _, mb := range mbs {
		events, err := f.st.Events(mb)
		if err != nil {
			t.Fatal(err)
		}
		var kept []calendar.Event
		for _, e := range events {
			if calendar.TouchesWindow(e, w0, w1) {
				kept = append(kept, e)
			}
		}
		if _, err := (backend.ICSSink{}).Render(context.Background(), mb, kept, engine.RenderOptions{Dir: other, Privacy: "free-busy", Start: w0, End: w1}); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(backend.FilePath(other, mb))
		if !bytes.Equal(got, fb.ics[mb]) {
			t.Errorf("%s: the full cache rendered free-busy differs from the free-busy sync's file", mb)
		}
	}
	again := run("switch back to free-busy", "free-busy", true)
	for _, mb := range mbs {
		if !bytes.Equal(again.ics[mb], fb.ics[mb]) {
			t.Errorf("%s: got a different free-busy file after full and back, want the same bytes", mb)
		}
	}
	if fb.received >= full.received {
		t.Errorf("got %d bytes received by the free-busy sync, %d by the full one; want fewer", fb.received, full.received)
	}
	t.Logf("bytes received: free-busy %d, full %d (%.0f%%)", fb.received, full.received, 100*float64(fb.received)/float64(full.received))
	f.validateRequests(t, "SyncFolderItems", "GetItem")
}
