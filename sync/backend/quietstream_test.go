package backend_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/ews"
)

// logRecorder is a slog.Handler that keeps the messages it is given.
type logRecorder struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newLogRecorder() logRecorder { return logRecorder{mu: &sync.Mutex{}, msgs: new([]string)} }

func (h logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.msgs = append(*h.msgs, r.Message)
	return nil
}
func (h logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logRecorder) WithGroup(string) slog.Handler      { return h }

// count returns how many messages recorded so far contain any of subs.
func (h logRecorder) count(subs ...string) (n int, which []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range *h.msgs {
		for _, s := range subs {
			if strings.Contains(m, s) {
				n++
				which = append(which, m)
				break
			}
		}
	}
	return n, which
}

// outageMessages are the log lines of a stream that broke (engine and
// watcher), as opposed to one the server ended normally.
var outageMessages = []string{"change stream down", "change watcher failed", "streaming connection failed", "subscriptions lost",
	"dropped subscriptions", "ended at once", "subscribe failed"}

// quietSpan runs Serve until streaming is up and the first sync is done,
// then keeps the tenant quiet for span and returns what the client sent
// meanwhile (by operation), what the emulator counted, the outage log
// lines and whether any status snapshot showed a stream down.
type quietResult struct {
	ops          map[string]int // client-side count per EWS operation
	requests     int64          // every request the emulator saw (tokens, autodiscover, EWS)
	streamsTotal int64          // GetStreamingEvents connections opened
	outages      []string
	downSeen     bool
}

func quietSpan(t *testing.T, f *fixture, b *backend.Backend, rec logRecorder, span time.Duration) quietResult {
	t.Helper()
	cfg := f.config()
	cfg.PollInterval, cfg.StreamingPollInterval, cfg.Debounce = time.Hour, time.Hour, 100*time.Millisecond
	deps := f.deps(b)
	deps.Logger = slog.New(rec)
	e := engine.New(cfg, deps)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return 30 s after ctx ended")
		}
	}()
	waitStatus(t, e, "first sync with streaming up", func(s engine.Status) bool { return s.State == engine.StateIdle && s.Streaming })
	// Let the first sync's last replies and the stream's first heartbeat pass.
	time.Sleep(300 * time.Millisecond)
	waitStatus(t, e, "idle", func(s engine.Status) bool { return s.State == engine.StateIdle && s.Streaming })

	ch, unsub := e.Subscribe()
	defer unsub()
	ops0, st0 := f.counter.snapshot(), f.srv.Stats()
	out0, _ := rec.count(outageMessages...)
	var res quietResult
	end := time.After(span)
watch:
	for {
		select {
		case s := <-ch:
			if !s.Streaming || s.StreamingDown > 0 || s.StreamErr != nil {
				res.downSeen = true
			}
		case <-end:
			break watch
		}
	}
	ops1, st1 := f.counter.snapshot(), f.srv.Stats()
	res.ops = map[string]int{}
	for op, n := range ops1 {
		if d := n - ops0[op]; d != 0 {
			res.ops[op] = d
		}
	}
	res.requests, res.streamsTotal = st1.Requests-st0.Requests, st1.StreamsTotal-st0.StreamsTotal
	_, outages := rec.count(outageMessages...)
	res.outages = outages[out0:]
	return res
}

// TestQuietStreamOutlivesClientTimeout: with an http.Client whose Timeout
// is 2 s (ExoCal's own default client has 60 s), a quiet tenant keeps its
// streaming connection for several times that: no reconnect, no outage,
// and not one request — in particular no SyncFolderItems or GetItem
// re-sync of the mailboxes. (The old client ran GetStreamingEvents through
// that Timeout: the stream broke every 2 s and every mailbox was re-synced.)
func TestQuietStreamOutlivesClientTimeout(t *testing.T) {
	t.Parallel()
	const clientTimeout = 2 * time.Second
	f := newFixture(t, 3, 10, func(o *emulator.Options) { o.Heartbeat = 500 * time.Millisecond })
	rec := newLogRecorder()
	f.settings.HTTPClient = &http.Client{Transport: f.counter, Timeout: clientTimeout}
	f.settings.Logger = slog.New(rec)
	b := f.backend(t)
	r := quietSpan(t, f, b, rec, 4*clientTimeout)
	if r.requests != 0 || len(r.ops) != 0 {
		t.Errorf("quiet for 4 client timeouts: got %d requests at the emulator (%v by the client), want 0", r.requests, r.ops)
	}
	if r.streamsTotal != 0 {
		t.Errorf("got %d streaming connections opened, want 0 (the first one stays open)", r.streamsTotal)
	}
	if len(r.outages) != 0 || r.downSeen {
		t.Errorf("got outage log lines %q (status down seen: %v), want none", r.outages, r.downSeen)
	}
	if got := f.settings.HTTPClient.Timeout; got != clientTimeout {
		t.Errorf("the caller's http.Client: got Timeout %v, want %v (unchanged)", got, clientTimeout)
	}
}

// TestStreamNormalCloseNoResync: a stream the server ends at its
// ConnectionTimeout (ConnectionStatus Closed) is reopened with the same
// subscriptions, and nothing is re-synced: the server keeps queueing a
// subscription's events between two GetStreamingEvents, so nothing was
// missed. The emulator's "minute" is 500 ms and the watcher asks for the
// minimum ConnectionTimeout (1 minute), so streams end every 500 ms.
func TestStreamNormalCloseNoResync(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3, 10, func(o *emulator.Options) {
		o.StreamMinute, o.Heartbeat = 500*time.Millisecond, 200*time.Millisecond
	})
	rec := newLogRecorder()
	f.settings.Logger = slog.New(rec)
	b := f.backend(t)
	w, ok := b.Watcher.(*ews.Watcher)
	if !ok {
		t.Fatalf("got watcher %T, want *ews.Watcher", b.Watcher)
	}
	w.ConnectionTimeout = time.Minute
	r := quietSpan(t, f, b, rec, 4*time.Second)
	if r.streamsTotal < 3 {
		t.Fatalf("got %d streams opened in 4 s, want at least 3 (each ended by the server after 500 ms)", r.streamsTotal)
	}
	if r.ops["GetStreamingEvents"] != int(r.streamsTotal) || r.requests != r.streamsTotal {
		t.Errorf("got %d requests (%v), want only the %d GetStreamingEvents reconnects", r.requests, r.ops, r.streamsTotal)
	}
	if len(r.outages) != 0 || r.downSeen {
		t.Errorf("got outage log lines %q (status down seen: %v), want none", r.outages, r.downSeen)
	}
}
