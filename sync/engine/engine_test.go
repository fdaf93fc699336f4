package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/store"
)

// waitLimit bounds how long a test waits for the engine to converge; it is
// a failure deadline, not a speed assertion.
const waitLimit = 20 * time.Second

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mailboxes(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("user%03d@contoso.com", i+1))
	}
	return out
}

func TestSyncOnce(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(5)
	src := newFakeSource(3, mbs, 7)
	sink := newFakeSink()
	st := openStore(t)
	deps := Deps{Source: src, Store: st, Sink: sink}
	cfg := Config{Mailboxes: mbs, ExportDir: "/out", Concurrency: 2}

	res := SyncOnce(context.Background(), cfg, deps)
	for i, r := range res {
		if r.Mailbox != mbs[i] || r.Err != nil || r.Exported != 7 || !r.Written {
			t.Fatalf("first run %s: got %+v, want no error, 7 exported, written", mbs[i], r)
		}
		if got, want := sink.file(mbs[i]), src.truth(mbs[i]); !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", mbs[i], got, want)
		}
	}
	// Full sync of 7 items at 3 per page: 3 pages.
	if got := src.callCount(mbs[0]); got != 3 {
		t.Fatalf("first run pages: got %d, want 3", got)
	}

	// Change one mailbox; a second run costs one page per quiet mailbox,
	// and rewrites only the changed file.
	id := src.add(mbs[1], "new")
	src.update(mbs[1], fmt.Sprintf("%s/%04d", mbs[1], 8), "renamed")
	before := map[string]int{}
	for _, mb := range mbs {
		before[mb] = src.callCount(mb)
	}
	res = SyncOnce(context.Background(), cfg, deps)
	for i, r := range res {
		mb := mbs[i]
		if r.Err != nil {
			t.Fatalf("second run %s: %v", mb, r.Err)
		}
		if got := src.callCount(mb) - before[mb]; got != 1 {
			t.Errorf("second run %s: got %d SyncPage calls, want 1", mb, got)
		}
		wantWritten := mb == mbs[1]
		if r.Written != wantWritten {
			t.Errorf("second run %s: got written %v, want %v", mb, r.Written, wantWritten)
		}
		if got, want := sink.file(mb), src.truth(mb); !slices.Equal(got, want) {
			t.Fatalf("second run %s: got %v, want %v", mb, got, want)
		}
	}
	if !slices.Contains(sink.file(mbs[1]), id+"=1:new") {
		t.Fatalf("added item missing from %v", sink.file(mbs[1]))
	}
}

func TestSyncOnceFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(src *fakeSource, mb string)
		wantErr  error
		resynced bool
	}{
		{"invalid sync state resyncs and drops deleted items", func(src *fakeSource, mb string) {
			src.remove(mb, mb+"/0002")
			src.add(mb, "after")
			src.invalidOnce[mb] = true
		}, nil, true},
		{"transient error is reported", func(src *fakeSource, mb string) {
			src.failNext[mb] = 1
		}, errTransient, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mb := "room@contoso.com"
			src := newFakeSource(2, []string{mb}, 5)
			sink := newFakeSink()
			deps := Deps{Source: src, Store: openStore(t), Sink: sink}
			cfg := Config{Mailboxes: []string{mb}}
			if r := SyncOnce(context.Background(), cfg, deps)[0]; r.Err != nil {
				t.Fatal(r.Err)
			}
			tt.setup(src, mb)
			r := SyncOnce(context.Background(), cfg, deps)[0]
			if !errors.Is(r.Err, tt.wantErr) || r.Resynced != tt.resynced {
				t.Fatalf("got err %v resynced %v, want err %v resynced %v", r.Err, r.Resynced, tt.wantErr, tt.resynced)
			}
			if tt.wantErr != nil {
				// The next run converges.
				if r = SyncOnce(context.Background(), cfg, deps)[0]; r.Err != nil {
					t.Fatalf("retry: %v", r.Err)
				}
			}
			if got, want := sink.file(mb), src.truth(mb); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestWindowFilter(t *testing.T) {
	t.Parallel()
	mb := "a@contoso.com"
	src := newFakeSource(10, []string{mb}, 0)
	src.add(mb, "inside")
	src.mu.Lock()
	old := calendar.Event{ItemID: "old", ChangeKey: "1", Subject: "long ago", Start: time.Now().AddDate(-2, 0, 0).UTC(), End: time.Now().AddDate(-2, 0, 0).Add(time.Hour).UTC()}
	src.items[mb]["old"] = old
	src.journal[mb] = append(src.journal[mb], "old")
	src.mu.Unlock()
	sink := newFakeSink()
	touches := func(e *calendar.Event, start, end time.Time) bool { return e.End.After(start) && e.Start.Before(end) }
	r := SyncOnce(context.Background(), Config{Mailboxes: []string{mb}, WindowPastDays: 30, WindowFutureDays: 30},
		Deps{Source: src, Store: openStore(t), Sink: sink, Touches: touches})
	if r[0].Err != nil || r[0].Items != 2 || r[0].Exported != 1 {
		t.Fatalf("got %+v, want 2 items cached, 1 exported", r[0])
	}
	if got := sink.file(mb); len(got) != 1 || got[0] == "old=1:long ago" {
		t.Fatalf("rendered %v, want only the event inside the window", got)
	}
	if want := 61; int(sink.opts.End.Sub(sink.opts.Start).Hours()/24+0.5) != want {
		t.Fatalf("window: got %v..%v, want %d days", sink.opts.Start, sink.opts.End, want)
	}
}

// serve runs an engine until the test ends.
func serve(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
	})
}

// waitStatus waits for a status matching ok.
func waitStatus(t *testing.T, e *Engine, what string, ok func(Status) bool) Status {
	t.Helper()
	ch, cancel := e.Subscribe()
	defer cancel()
	deadline := time.After(waitLimit)
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last status %+v", what, e.Status())
		}
	}
}

// waitFor polls cond (for facts outside Status).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allIdle(s Status) bool { return s.State == StateIdle }

func TestServeStreaming(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(4)
	src := newFakeSource(4, mbs, 6)
	sink := newFakeSink()
	w := &fakeWatcher{}
	e := New(Config{Mailboxes: mbs, PollInterval: time.Hour, Debounce: 10 * time.Millisecond},
		Deps{Source: src, Watcher: w, Store: openStore(t), Sink: sink})
	serve(t, e)
	waitStatus(t, e, "first sync and streaming up", func(s Status) bool { return allIdle(s) && s.Streaming })
	for _, mb := range mbs {
		if got, want := sink.file(mb), src.truth(mb); !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", mb, got, want)
		}
	}
	calls := map[string]int{}
	for _, mb := range mbs {
		calls[mb] = src.callCount(mb)
	}
	// Add, change, delete in one mailbox; notify; only it is synced.
	mb := mbs[2]
	id := src.add(mb, "added")
	src.update(mb, mb+"/0013", "changed")
	src.remove(mb, mb+"/0014")
	if !w.fire(mb) {
		t.Fatal("watcher not running")
	}
	waitFor(t, "notified change in the file", func() bool { return slices.Equal(sink.file(mb), src.truth(mb)) })
	if !slices.Contains(sink.file(mb), id+"=1:added") {
		t.Fatalf("added item missing: %v", sink.file(mb))
	}
	waitStatus(t, e, "idle again", allIdle)
	for _, other := range mbs {
		if other == mb {
			continue
		}
		if got := src.callCount(other); got != calls[other] {
			t.Errorf("%s: got %d SyncPage calls, want %d (no polling, not notified)", other, got, calls[other])
		}
	}
}

func TestServeRetriesAndNotifies(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(3)
	src := newFakeSource(5, mbs, 4)
	src.failNext[mbs[1]] = 3
	sink := newFakeSink()
	var mu sync.Mutex
	var notes []string
	e := New(Config{Mailboxes: mbs, PollInterval: time.Hour, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond},
		Deps{Source: src, Store: openStore(t), Sink: sink, Notify: func(title, body string) {
			mu.Lock()
			notes = append(notes, title+": "+body)
			mu.Unlock()
		}})
	serve(t, e)
	s := waitStatus(t, e, "a warning", func(s Status) bool { return s.State == StateWarning })
	if s.Failed != 1 || !errors.Is(s.Err, errTransient) || s.Mailboxes[1].State != MailboxError || s.Mailboxes[1].RetryAt.IsZero() {
		t.Fatalf("warning status: got %+v, want mailbox 2 failing with errTransient and a retry time", s)
	}
	waitStatus(t, e, "recovery", allIdle)
	if got, want := sink.file(mbs[1]), src.truth(mbs[1]); !slices.Equal(got, want) {
		t.Fatalf("after retries: got %v, want %v", got, want)
	}
	if got := src.callCount(mbs[1]); got < 4 {
		t.Fatalf("calls: got %d, want at least 4 (3 failures, then success)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) != 1 {
		t.Fatalf("notifications: got %q, want exactly one", notes)
	}
}

func TestServeWatcherFailsPollingCovers(t *testing.T) {
	t.Parallel()
	mb := "a@contoso.com"
	src := newFakeSource(5, []string{mb}, 2)
	sink := newFakeSink()
	w := &fakeWatcher{alwaysFail: true}
	e := New(Config{Mailboxes: []string{mb}, PollInterval: 20 * time.Millisecond, StreamingPollInterval: time.Hour,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 10 * time.Millisecond},
		Deps{Source: src, Watcher: w, Store: openStore(t), Sink: sink})
	serve(t, e)
	s := waitStatus(t, e, "a stream error", func(s Status) bool { return s.StreamErr != nil })
	if s.Streaming {
		t.Fatalf("got Streaming true with StreamErr %v, want false", s.StreamErr)
	}
	src.add(mb, "seen by polling")
	waitFor(t, "polling to pick up the change", func() bool { return slices.Equal(sink.file(mb), src.truth(mb)) })
	waitFor(t, "watch retried", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.calls >= 3 })
}

func TestServeWatcherRecovers(t *testing.T) {
	t.Parallel()
	mb := "a@contoso.com"
	src := newFakeSource(5, []string{mb}, 2)
	w := &fakeWatcher{failures: 2}
	e := New(Config{Mailboxes: []string{mb}, PollInterval: time.Hour, Debounce: 5 * time.Millisecond,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 10 * time.Millisecond},
		Deps{Source: src, Watcher: w, Store: openStore(t), Sink: newFakeSink()})
	serve(t, e)
	s := waitStatus(t, e, "streaming up after failures", func(s Status) bool { return s.Streaming && allIdle(s) })
	if s.StreamErr != nil {
		t.Fatalf("got StreamErr %v once up, want nil", s.StreamErr)
	}
}

func TestServePauseResumeSyncNow(t *testing.T) {
	t.Parallel()
	mb := "a@contoso.com"
	src := newFakeSource(5, []string{mb}, 2)
	sink := newFakeSink()
	e := New(Config{Mailboxes: []string{mb}, PollInterval: time.Hour}, Deps{Source: src, Store: openStore(t), Sink: sink})
	serve(t, e)
	waitStatus(t, e, "first sync", allIdle)
	e.Pause()
	waitStatus(t, e, "paused", func(s Status) bool { return s.State == StatePaused })
	src.add(mb, "while paused")
	e.Resume()
	waitFor(t, "resume to sync", func() bool { return slices.Equal(sink.file(mb), src.truth(mb)) })
	src.add(mb, "sync now")
	e.SyncNow()
	waitFor(t, "sync now", func() bool { return slices.Equal(sink.file(mb), src.truth(mb)) })
}

// SyncNow while a mailbox's sync is under way runs it once more after it,
// even when that sync fails (its retry would come much later): a caller
// waiting for a sync that started after its request (Attempted) is
// answered, not left waiting for the backoff.
func TestServeSyncNowWhileRunning(t *testing.T) {
	t.Parallel()
	mb := "a@contoso.com"
	src := newFakeSource(5, []string{mb}, 2)
	e := New(Config{Mailboxes: []string{mb}, PollInterval: time.Hour, BackoffMin: time.Hour, BackoffMax: time.Hour},
		Deps{Source: src, Store: openStore(t), Sink: newFakeSink()})
	serve(t, e)
	first := waitStatus(t, e, "first sync", allIdle)
	if first.Mailboxes[0].Attempted.IsZero() {
		t.Fatalf("after the first sync: Attempted is zero, want its start")
	}

	gate := make(chan struct{})
	src.mu.Lock()
	src.gate = gate
	src.failNext[mb] = 1 // the sync under way will fail
	src.mu.Unlock()
	e.SyncNow()
	waitStatus(t, e, "a sync under way", func(s Status) bool { return s.Mailboxes[0].State == MailboxSyncing })
	requested := time.Now()
	e.SyncNow()
	src.mu.Lock()
	src.gate = nil
	src.mu.Unlock()
	close(gate)
	s := waitStatus(t, e, "a sync started after the request", func(s Status) bool {
		return !s.Mailboxes[0].Attempted.Before(requested) && s.Mailboxes[0].State != MailboxSyncing
	})
	if m := s.Mailboxes[0]; m.State != MailboxIdle || m.Err != nil {
		t.Errorf("after the rerun: got state %v, err %v; want idle (only the first attempt failed)", m.State, m.Err)
	}
}

// With streams up from the start, a quiet tenant costs nothing: the first
// stream's arrival stretches the safety-net poll (it was left at
// PollInterval, so every mailbox was polled once after start).
func TestServeFirstStreamStretchesPoll(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(3)
	src := newFakeSource(5, mbs, 2)
	w := &fakeHealthWatcher{}
	e := New(Config{Mailboxes: mbs, PollInterval: 40 * time.Millisecond, StreamingPollInterval: time.Hour, Debounce: 5 * time.Millisecond},
		Deps{Source: src, Watcher: w, Store: openStore(t), Sink: newFakeSink()})
	serve(t, e)
	waitStatus(t, e, "first sync with streams up", func(s Status) bool { return allIdle(s) && s.Streaming })
	before := map[string]int{}
	for _, mb := range mbs {
		before[mb] = src.callCount(mb)
	}
	time.Sleep(400 * time.Millisecond) // ten poll intervals, all quiet
	for _, mb := range mbs {
		if got := src.callCount(mb); got != before[mb] {
			t.Errorf("%s: got %d SyncPage calls over a quiet spell with its stream up, want %d (no poll)", mb, got, before[mb])
		}
	}
}

// A sync cut short by Serve's own shutdown is no failure: no error state,
// no warning notification.
func TestServeShutdownIsNoFailure(t *testing.T) {
	t.Parallel()
	mb := "a@contoso.com"
	src := newFakeSource(5, []string{mb}, 2)
	src.block = true
	var notes []string
	var mu sync.Mutex
	e := New(Config{Mailboxes: []string{mb}, PollInterval: time.Hour}, Deps{Source: src, Store: openStore(t), Sink: newFakeSink(),
		Notify: func(title, body string) { mu.Lock(); notes = append(notes, title); mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	waitStatus(t, e, "a sync under way", func(s Status) bool { return s.Mailboxes[0].State == MailboxSyncing })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	st := e.Status()
	if m := st.Mailboxes[0]; m.State == MailboxError || m.Err != nil || st.Failed != 0 {
		t.Errorf("after shutdown mid-sync: got state %v, err %v, failed %d; want no failure", m.State, m.Err, st.Failed)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) != 0 {
		t.Errorf("notifications on shutdown: %q, want none", notes)
	}
}

func TestServeReload(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(3)
	src := newFakeSource(5, mbs, 2)
	sink := newFakeSink()
	st := openStore(t)
	w := &fakeWatcher{}
	e := New(Config{Mailboxes: mbs[:2], ExportDir: "/a", PollInterval: time.Hour, Debounce: 5 * time.Millisecond},
		Deps{Source: src, Watcher: w, Store: st, Sink: sink})
	serve(t, e)
	waitStatus(t, e, "first sync", func(s Status) bool { return allIdle(s) && s.Streaming })

	e.Reload(Config{Mailboxes: []string{mbs[1], mbs[2]}, ExportDir: "/b", PollInterval: time.Hour, Debounce: 5 * time.Millisecond})
	waitStatus(t, e, "reloaded", func(s Status) bool {
		return allIdle(s) && s.ExportDir == "/b" && len(s.Mailboxes) == 2 && s.Mailboxes[1].Address == mbs[2] && s.Mailboxes[1].LastSuccess.After(time.Time{})
	})
	waitFor(t, "re-render into the new dir", func() bool { sink.mu.Lock(); defer sink.mu.Unlock(); return sink.opts.Dir == "/b" })
	if got, want := sink.file(mbs[2]), src.truth(mbs[2]); !slices.Equal(got, want) {
		t.Fatalf("added mailbox: got %v, want %v", got, want)
	}
	if in, _ := st.Info(mbs[0]); in.State != "" || in.Items != 0 {
		t.Fatalf("removed mailbox still stored: %+v", in)
	}
	waitFor(t, "watcher restarted with the new mailboxes", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return slices.Equal(w.watching, []string{mbs[1], mbs[2]})
	})
}

func TestServeShutdownCancelsSync(t *testing.T) {
	t.Parallel()
	src := newFakeSource(5, []string{"a@x"}, 1)
	src.block = true
	e := New(Config{Mailboxes: []string{"a@x"}}, Deps{Source: src, Store: openStore(t), Sink: newFakeSink()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	waitStatus(t, e, "syncing", func(s Status) bool { return s.State == StateSyncing && s.Total == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: got %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestHubCoalesces(t *testing.T) {
	t.Parallel()
	var h hub
	ch, cancel := h.subscribe()
	defer cancel()
	for i := range 5 {
		h.publish(Status{Done: i})
	}
	if got := (<-ch).Done; got != 4 {
		t.Fatalf("slow subscriber: got Done %d, want the latest 4", got)
	}
	select {
	case s := <-ch:
		t.Fatalf("got a second snapshot %+v, want only the latest", s)
	default:
	}
	cancel()
	h.publish(Status{Done: 9}) // must not block or panic after cancel
}

func TestStateStrings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ got, want string }{
		{StateIdle.String(), "idle"}, {StateError.String(), "error"}, {StatePaused.String(), "paused"},
		{MailboxError.String(), "error"}, {MailboxSyncing.String(), "syncing"}, {State(99).String(), "unknown"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// stampSink is a fakeSink whose file identity is its write count; "lost"
// mailboxes have no file.
type stampSink struct {
	*fakeSink
	lost map[string]bool
}

func (s stampSink) Stamp(mb string, _ RenderOptions) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost[mb] {
		return ""
	}
	return fmt.Sprint(s.writes[mb])
}

func TestSyncOnceSkipsUnchangedRenderAcrossRuns(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(3)
	src := newFakeSource(10, mbs, 4)
	sink := stampSink{fakeSink: newFakeSink(), lost: map[string]bool{}}
	deps := Deps{Source: src, Store: openStore(t), Sink: sink}
	cfg := Config{Mailboxes: mbs}
	SyncOnce(context.Background(), cfg, deps)
	renders := sink.renders
	// A second run (as a new process would) renders nothing and still
	// reports the exported count.
	for _, r := range SyncOnce(context.Background(), cfg, deps) {
		if r.Err != nil || r.Exported != 4 {
			t.Fatalf("second run %s: got %+v, want 4 exported", r.Mailbox, r)
		}
	}
	if got := sink.renders - renders; got != 0 {
		t.Fatalf("second run: got %d renders, want 0", got)
	}
	// A lost file and a changed mailbox are rendered again.
	sink.mu.Lock()
	sink.lost[mbs[0]] = true
	sink.mu.Unlock()
	src.add(mbs[1], "new")
	SyncOnce(context.Background(), cfg, deps)
	if got := sink.renders - renders; got != 2 {
		t.Fatalf("third run: got %d renders, want 2 (lost file, changed mailbox)", got)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		poll, streaming, want time.Duration
	}{
		{5 * time.Minute, 0, time.Hour},
		{30 * time.Second, 0, 6 * time.Minute},
		{2 * time.Hour, 0, 2 * time.Hour},
		{5 * time.Minute, 7 * time.Minute, 7 * time.Minute},
	} {
		c := Config{PollInterval: tt.poll, StreamingPollInterval: tt.streaming}.withDefaults()
		if c.StreamingPollInterval != tt.want {
			t.Errorf("poll %v, streaming %v: got %v, want %v", tt.poll, tt.streaming, c.StreamingPollInterval, tt.want)
		}
	}
	c := Config{Mailboxes: []string{" A@x ", "a@X", "", "b@x"}, Concurrency: 1000}.withDefaults()
	if !slices.Equal(c.Mailboxes, []string{"a@x", "b@x"}) || c.Concurrency != MaxConcurrency || c.Debounce != DefaultDebounce {
		t.Errorf("got %+v, want normalised mailboxes, capped concurrency, default debounce", c)
	}
}

// TestServeStreamDownPollsThoseMailboxes: a mailbox whose stream is down is
// polled at PollInterval while the others keep the stretched poll; when
// its stream returns it is synced once and the stretch comes back.
func TestServeStreamDownPollsThoseMailboxes(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(2)
	down, up := mbs[0], mbs[1]
	src := newFakeSource(6, mbs, 3)
	sink := newFakeSink()
	w := &fakeHealthWatcher{}
	e := New(Config{Mailboxes: mbs, PollInterval: 20 * time.Millisecond, StreamingPollInterval: time.Hour, Debounce: 5 * time.Millisecond},
		Deps{Source: src, Watcher: w, Store: openStore(t), Sink: sink})
	serve(t, e)
	waitStatus(t, e, "first sync and streaming up", func(s Status) bool { return allIdle(s) && s.Streaming })
	// The first poll (at PollInterval after start) stretches once it ran.
	waitFor(t, "the first poll", func() bool { return src.callCount(up) >= 2 })

	errStream := errors.New("fake: GetStreamingEvents: connection reset")
	w.setHealth([]string{down}, false, errStream)
	s := waitStatus(t, e, "one stream down", func(s Status) bool { return s.StreamingDown == 1 })
	if s.Streaming || !errors.Is(s.StreamErr, errStream) || s.Mailboxes[0].Streaming || !s.Mailboxes[1].Streaming || s.PollInterval != 20*time.Millisecond {
		t.Fatalf("got Streaming %v, StreamErr %v, mailbox streaming %v/%v, PollInterval %v; want false, %v, false/true, 20ms",
			s.Streaming, s.StreamErr, s.Mailboxes[0].Streaming, s.Mailboxes[1].Streaming, s.PollInterval, errStream)
	}
	upCalls := src.callCount(up)
	src.add(down, "seen by polling")
	waitFor(t, "polling to pick up the change", func() bool { return slices.Equal(sink.file(down), src.truth(down)) })
	base := src.callCount(down)
	waitFor(t, "more polls of the mailbox without a stream", func() bool { return src.callCount(down) >= base+3 })
	if got := src.callCount(up); got != upCalls {
		t.Errorf("%s (stream up): got %d SyncPage calls, want %d (stretched poll)", up, got, upCalls)
	}

	// Back up: one sync, then the stretched poll.
	src.add(down, "missed while down")
	w.setHealth([]string{down}, true, nil)
	s = waitStatus(t, e, "streaming again", func(s Status) bool { return s.Streaming && s.StreamingDown == 0 })
	if s.StreamErr != nil {
		t.Errorf("got StreamErr %v with every stream up, want nil", s.StreamErr)
	}
	waitFor(t, "the recovery sync", func() bool { return slices.Equal(sink.file(down), src.truth(down)) })
	waitStatus(t, e, "idle", allIdle)
	calls := src.callCount(down)
	time.Sleep(10 * 20 * time.Millisecond) // ten PollIntervals
	if got := src.callCount(down); got != calls {
		t.Errorf("%s after recovery: got %d SyncPage calls, want %d (no polling at PollInterval)", down, got, calls)
	}
	if got := src.callCount(up); got != upCalls {
		t.Errorf("%s: got %d SyncPage calls, want %d", up, got, upCalls)
	}
}

// lateReporter reports health after its ctx ended, as a watcher group
// racing shutdown does.
type lateReporter struct{ returned chan struct{} }

func (w *lateReporter) Watch(ctx context.Context, mailboxes []string, changed func(string)) error {
	<-ctx.Done()
	return nil
}

func (w *lateReporter) WatchHealth(ctx context.Context, mailboxes []string, changed func(string), health func([]string, bool, error)) error {
	defer close(w.returned)
	health(mailboxes, true, nil)
	<-ctx.Done()
	health(mailboxes, false, ctx.Err())
	health(mailboxes, true, nil)
	return nil
}

// TestServeReturnsWhileWatcherReports: Serve returns when ctx ends, after
// the watcher returned, even if the watcher still reports health then.
func TestServeReturnsWhileWatcherReports(t *testing.T) {
	t.Parallel()
	mbs := mailboxes(2)
	w := &lateReporter{returned: make(chan struct{})}
	e := New(Config{Mailboxes: mbs, PollInterval: time.Hour},
		Deps{Source: newFakeSource(7, mbs, 2), Watcher: w, Store: openStore(t), Sink: newFakeSink()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	waitStatus(t, e, "streaming up", func(s Status) bool { return allIdle(s) && s.Streaming })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve did not return after ctx ended")
	}
	select {
	case <-w.returned:
	default:
		t.Error("Serve returned before the watcher did")
	}
}
