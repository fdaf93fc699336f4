package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/exocal/exocal/sync/calendar"
)

func info(t *testing.T, s *Store, mailbox string) Info {
	t.Helper()
	in, err := s.Info(mailbox)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	return in
}

// TestPrivacyFollowsTheItems: the recorded privacy is the mailbox's, or
// during a resync the staged one (by default the mailbox's), which
// replaces it when the resync completes; dropping items fetched under
// another privacy (a completed resync, or a Reset of staged items) makes
// CompactIfNeeded compact, once.
func TestPrivacyFollowsTheItems(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	const mb = "a@contoso.com"
	if got := info(t, s, mb).Privacy; got != "" {
		t.Fatalf("unknown mailbox: got privacy %q, want none", got)
	}
	page := func(id, state string, done bool) func() error {
		return func() error {
			var ups []calendar.Event
			if id != "" {
				ups = []calendar.Event{ev(id, 9)}
			}
			return s.ApplyPage(mb, calendar.Page{Upserts: ups, State: state, Done: done})
		}
	}
	setPrivacy := func(p string) func() error { return func() error { return s.SetPrivacy(mb, p) } }
	reset := func() error { return s.Reset(mb) }
	steps := []struct {
		name    string
		do      []func() error
		want    string
		staging bool
		compact bool
	}{
		{"a first sync", []func() error{setPrivacy("full"), page("a", "s1", false), page("", "s2", true)}, "full", false, false},
		{"reset", []func() error{reset}, "full", true, false},
		{"set during the resync", []func() error{setPrivacy("free-busy")}, "free-busy", true, false},
		{"a resync page", []func() error{page("b", "r1", false)}, "free-busy", true, false},
		{"the resync's last page", []func() error{page("", "r2", true)}, "free-busy", false, true},
		{"a resync without SetPrivacy", []func() error{reset, page("c", "r3", true)}, "free-busy", false, false},
		{"a reset of staged full items", []func() error{reset, setPrivacy("full"), page("d", "r4", false), reset}, "free-busy", true, true},
		{"a reset of staged items of the same privacy", []func() error{page("e", "r5", false), reset}, "free-busy", true, false},
	}
	for _, st := range steps {
		for i, do := range st.do {
			if err := do(); err != nil {
				t.Fatalf("%s, call %d: %v", st.name, i, err)
			}
		}
		in := info(t, s, mb)
		if in.Privacy != st.want || in.Resyncing != st.staging {
			t.Errorf("after %s: got privacy %q resyncing %v, want %q %v", st.name, in.Privacy, in.Resyncing, st.want, st.staging)
		}
		did, err := s.CompactIfNeeded()
		if err != nil || did != st.compact {
			t.Errorf("after %s: got CompactIfNeeded %v, %v, want %v", st.name, did, err, st.compact)
		}
		if did, _ := s.CompactIfNeeded(); did {
			t.Errorf("after %s: got a second compaction, want one", st.name)
		}
	}
	if got := ids(t, s, mb); strings.Join(got, ",") != "c" {
		t.Errorf("got items %v, want c", got)
	}
}

// TestCompactDropsDeletedBytes: bbolt keeps a deleted item's bytes in
// freed pages; Compact rewrites the file without them, and the store works
// on (reads, writes, reopen), also while other goroutines use it.
func TestCompactDropsDeletedBytes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	const mb = "a@contoso.com"
	secret := "Quarterly layoffs planning ZQX-7731"
	var page calendar.Page
	for i := range 50 {
		e := ev(strings.Repeat("x", i+1), 9)
		e.Body = secret + strings.Repeat(" filler", 40)
		page.Upserts = append(page.Upserts, e)
	}
	page.State, page.Done = "s1", true
	apply(t, s, mb, page)
	// A resync that no longer has the details replaces every item.
	if err := s.Reset(mb); err != nil {
		t.Fatal(err)
	}
	for i := range page.Upserts {
		page.Upserts[i].Body = ""
	}
	page.State = "s2"
	apply(t, s, mb, page)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(secret)) {
		t.Fatalf("before Compact: the deleted details are not in the file; this test shows nothing")
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Events(mb); err != nil {
					t.Errorf("Events during Compact: %v", err)
					return
				}
			}
		})
	}
	if err := s.Compact(); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	close(stop)
	wg.Wait()
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Errorf("after Compact: got the deleted details in the file, want them gone")
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("got a leftover %s.compact (%v), want none", path, err)
	}
	if got := len(ids(t, s, mb)); got != 50 {
		t.Errorf("after Compact: got %d items, want 50", got)
	}
	apply(t, s, mb, calendar.Page{Upserts: []calendar.Event{ev("new", 10)}, State: "s3", Done: true})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	if in := info(t, s, mb); in.Items != 51 || in.State != "s3" {
		t.Errorf("reopened: got %d items state %q, want 51 s3", in.Items, in.State)
	}
}
