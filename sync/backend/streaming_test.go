package backend_test

import (
	"context"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/engine"
)

// TestStreamingOutageFallsBackToPolling: while streaming fails (the
// emulator answers 503 to Subscribe and GetStreamingEvents) the engine
// says so and polls every poll_interval, so a change still arrives; when
// streaming works again the poll is stretched and changes arrive by
// notification; when ctx ends Serve returns and no stream stays open.
func TestStreamingOutageFallsBackToPolling(t *testing.T) {
	t.Parallel()
	// An emulated "minute" of 100 ms: streams end (and are reopened) every
	// 3 s, idle subscriptions expire after 3 s.
	f := newFixture(t, 3, 10, func(o *emulator.Options) { o.StreamMinute = 100 * time.Millisecond })
	cfg := f.config()
	cfg.PollInterval, cfg.StreamingPollInterval, cfg.Debounce = time.Second, time.Hour, 200*time.Millisecond
	e := engine.New(cfg, f.deps(f.backend(t)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Serve did not return 30 s after ctx ended")
		}
	}
	defer stop()
	mbs := f.tn.Mailboxes()
	waitStatus(t, e, "first sync with streaming up", func(s engine.Status) bool { return s.State == engine.StateIdle && s.Streaming })

	// Streaming breaks: the open connections end within 3 s and cannot be
	// reopened, nor can subscriptions be renewed.
	f.srv.SetFaults(emulator.Faults{Kind: emulator.Fault503, EveryN: 1, RetryAfter: time.Second,
		Operations: []string{"Subscribe", "GetStreamingEvents"}})
	var down engine.Status
	waitStatus(t, e, "streaming down", func(s engine.Status) bool {
		down = s
		return s.StreamingDown == len(mbs) && s.StreamErr != nil
	})
	if down.Streaming || down.PollInterval != time.Second {
		t.Errorf("streaming down: got Streaming %v, PollInterval %v; want false, 1s", down.Streaming, down.PollInterval)
	}
	sfi := f.counter.snapshot()["SyncFolderItems"]
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour).UTC()
	if _, err := f.tn.Add(mbs[1], tenant.Item{Subject: "Polled while streaming is down", Start: start, End: start.Add(time.Hour),
		StartTimeZone: "UTC", EndTimeZone: "UTC", FreeBusy: "Busy", Sensitivity: "Normal"}); err != nil {
		t.Fatal(err)
	}
	waitFile(t, f, mbs[1], "Polled while streaming is down")
	waitCount(t, f, "every mailbox polled twice", "SyncFolderItems", sfi+2*len(mbs))

	// Streaming works again: the engine syncs once, stretches the poll, and
	// the next change comes by notification.
	f.srv.SetFaults(emulator.Faults{})
	waitStatus(t, e, "streaming up again", func(s engine.Status) bool {
		return s.Streaming && s.StreamingDown == 0 && s.StreamErr == nil && s.State == engine.StateIdle
	})
	time.Sleep(500 * time.Millisecond) // let the resync after recovery settle
	waitStatus(t, e, "idle", func(s engine.Status) bool { return s.State == engine.StateIdle })
	sfi = f.counter.snapshot()["SyncFolderItems"]
	time.Sleep(3 * cfg.PollInterval)
	if _, err := f.tn.Add(mbs[2], tenant.Item{Subject: "Notified after the outage", Start: start, End: start.Add(time.Hour),
		StartTimeZone: "UTC", EndTimeZone: "UTC", FreeBusy: "Busy", Sensitivity: "Normal"}); err != nil {
		t.Fatal(err)
	}
	waitFile(t, f, mbs[2], "Notified after the outage")
	// Polling every second would have cost 3 × 3 SyncFolderItems by now.
	if got := f.counter.snapshot()["SyncFolderItems"] - sfi; got < 1 || got > 2 {
		t.Errorf("got %d SyncFolderItems in 3 poll intervals and one notified change, want 1..2 (stretched poll)", got)
	}

	stop()
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.Stats().StreamsOpen != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := f.srv.Stats().StreamsOpen; got != 0 {
		t.Errorf("got %d streaming connections open after Serve returned, want 0", got)
	}
}

// waitCount waits until the client has sent at least n requests of op.
func waitCount(t *testing.T, f *fixture, what, op string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.counter.snapshot()[op] < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %d %s, want at least %d", what, f.counter.snapshot()[op], op, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
