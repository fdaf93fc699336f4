package integration

import (
	"context"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/ews"
)

// TestSyncUnderFaults: with every third EWS request failing (throttled,
// 503/429, reset, truncated), a full sync with the retry decorator still
// ends with exactly the tenant's items.
func TestSyncUnderFaults(t *testing.T) {
	kinds := []emulator.FaultKind{emulator.FaultServerBusy, emulator.Fault503, emulator.Fault429, emulator.FaultReset, emulator.FaultTruncate}
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			e := start(t, 1, 25)
			e.srv.SetFaults(emulator.Faults{Kind: kind, EveryN: 3, BackOff: 20 * time.Millisecond, RetryAfter: time.Second})
			retries := 0
			e.c = ews.New(ews.Config{URL: e.srv.EWSURL(), HTTPClient: e.httpClient(),
				Retry: &ews.Retry{MaxAttempts: 6, Base: 5 * time.Millisecond, Max: 50 * time.Millisecond,
					Report: func(op string, err error, d time.Duration) { retries++ }}})
			src := ews.NewSource(e.c)
			src.MaxChanges = 10
			mb := e.ten.Mailboxes()[0]
			items := map[string]calendar.Event{}
			fullSync(t, src, mb, "", items)
			want := e.ten.Items(mb)
			if len(items) != len(want) {
				t.Errorf("got %d items, want %d", len(items), len(want))
			}
			for _, w := range want {
				if got, ok := items[w.ID]; !ok || got.Subject != w.Subject || !got.Start.Equal(w.Start) {
					t.Errorf("item %s: got %q %v, want %q %v", w.ID, got.Subject, got.Start, w.Subject, w.Start)
				}
			}
			if retries == 0 {
				t.Errorf("got no retries, want the faults to have hit")
			}
		})
	}
}

// TestSyncTokenRevoked: tokens revoked mid-sync (every fourth request)
// are replaced through Retry.RefreshAuth and the sync converges.
func TestSyncTokenRevoked(t *testing.T) {
	e := start(t, 1, 25)
	e.srv.SetFaults(emulator.Faults{Kind: emulator.FaultRevoke, EveryN: 4})
	refreshes := 0
	e.c = ews.New(ews.Config{URL: e.srv.EWSURL(), HTTPClient: e.httpClient(),
		Retry: &ews.Retry{RefreshAuth: func() bool {
			refreshes++
			tok := fetchToken(t, e.srv)
			e.rec.mu.Lock()
			e.rec.token = tok
			e.rec.mu.Unlock()
			return true
		}}})
	src := ews.NewSource(e.c)
	src.MaxChanges = 10
	mb := e.ten.Mailboxes()[0]
	items := map[string]calendar.Event{}
	fullSync(t, src, mb, "", items)
	if len(items) != len(e.ten.Items(mb)) || refreshes == 0 {
		t.Errorf("got %d items after %d token refreshes, want %d after at least 1", len(items), refreshes, len(e.ten.Items(mb)))
	}
}

// TestWatch250Mailboxes: 250 mailboxes at 100 per connection use exactly 3
// streaming connections.
func TestWatch250Mailboxes(t *testing.T) {
	e := start(t, 250, 1)
	mbs := e.ten.Mailboxes()
	if len(mbs) != 250 {
		t.Fatalf("got %d mailboxes, want 250", len(mbs))
	}
	w := &ews.Watcher{Client: e.c, MaxPerConnection: 100, MinBackoff: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Watch(ctx, mbs, func(string) {}) }()
	deadline := time.Now().Add(60 * time.Second)
	for e.srv.Stats().StreamsOpen < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a fourth connection would show up now
	if got := e.srv.Stats().StreamsOpen; got != 3 {
		t.Errorf("got %d open streaming connections, want 3", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
}
