package backend_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/ewsvalidate"
	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/store"
)

// counter is a RoundTripper that counts EWS operations (by the first
// element of the SOAP body) and bytes on the wire.
type counter struct {
	base     http.RoundTripper
	mu       sync.Mutex
	ops      map[string]int
	samples  map[string][][]byte // up to 3 request bodies per operation
	sent     atomic.Int64
	received atomic.Int64
}

var soapOp = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?Body[^>]*>\s*<(?:[A-Za-z0-9]+:)?([A-Za-z]+)`)

func newCounter() *counter {
	return &counter{base: &http.Transport{MaxIdleConnsPerHost: 100}, ops: map[string]int{}, samples: map[string][][]byte{}}
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	op := "other"
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		c.sent.Add(int64(len(b)))
		if m := soapOp.FindSubmatch(b); m != nil {
			op = string(m[1])
			c.mu.Lock()
			if len(c.samples[op]) < 3 {
				c.samples[op] = append(c.samples[op], b)
			}
			c.mu.Unlock()
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	c.mu.Lock()
	c.ops[op]++
	c.mu.Unlock()
	resp, err := c.base.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.received}
	}
	return resp, err
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.ops {
		out[k] = v
	}
	return out
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// fixture is an emulated tenant and the settings pointing at it.
type fixture struct {
	srv      *emulator.Server
	tn       *tenant.Tenant
	settings backend.Settings
	counter  *counter
	dir      string
	st       *store.Store
}

func newFixture(t *testing.T, mailboxes, events int, mod func(*emulator.Options)) *fixture {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 11, Mailboxes: mailboxes, Events: events, Now: time.Now()})
	opts := emulator.Options{
		Tenant: tn, TenantID: "8c1b5f7e-3a2d-4e6f-9b0a-1c2d3e4f5a6b", ClientID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
		ClientSecret: "Xy7~integration-secret-value", Seed: 3, Heartbeat: time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	srv := emulator.New(opts)
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := newCounter()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{
		srv: srv, tn: tn, counter: c, dir: t.TempDir(), st: st,
		settings: backend.Settings{
			AuthorityHost: srv.URL(), TenantID: opts.TenantID, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
			User: tn.Mailboxes()[0], AutodiscoverURL: srv.URL(), ExchangeServer: "external",
			MaxSubscriptionsPerConnection: 200, HTTPClient: &http.Client{Transport: c},
		},
	}
}

func (f *fixture) backend(t *testing.T) *backend.Backend {
	t.Helper()
	b, err := backend.New(context.Background(), f.settings)
	if err != nil {
		t.Fatalf("backend.New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func (f *fixture) config() engine.Config {
	return engine.Config{Mailboxes: f.tn.Mailboxes(), ExportDir: f.dir, WindowPastDays: 30, WindowFutureDays: 365, Privacy: "full"}
}

func (f *fixture) deps(b *backend.Backend) engine.Deps {
	return engine.Deps{Source: b.Source, Watcher: b.Watcher, Store: f.st, Sink: backend.ICSSink{}}
}

// parsedOcc is one occurrence as test/ics/expand.py prints it.
type parsedOcc struct {
	UID     string `json:"uid"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Summary string `json:"summary"`
	AllDay  bool   `json:"all_day"`
}

// occKey: which event, when, and what a reader sees as its title.
func occKey(uid string, start, end time.Time, allDay bool, loc *time.Location, summary string) string {
	if allDay {
		return fmt.Sprintf("%s|%s|%s|all-day|%s", uid, start.In(loc).Format(time.DateOnly), end.In(loc).Format(time.DateOnly), summary)
	}
	return fmt.Sprintf("%s|%s|%s|%s", uid, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), summary)
}

// truthDiff expands mailbox's ICS file with an independent parser
// (python3-icalendar + recurring-ical-events, test/ics/expand.py) and
// compares it with the emulator's own CalendarView, over the inner part of
// the sync window (a day off each edge). It returns the differences.
func (f *fixture) truthDiff(t *testing.T, py, mb string) []string {
	t.Helper()
	w0, w1 := f.config().Window(time.Now())
	w0, w1 = w0.AddDate(0, 0, 1), w1.AddDate(0, 0, -1)
	zoneOf, private := map[string]*time.Location{}, map[string]bool{}
	for _, it := range f.tn.Items(mb) {
		z, ok := tenant.Zone(it.StartTimeZone)
		if !ok {
			t.Fatalf("unknown zone %q", it.StartTimeZone)
		}
		zoneOf[it.UID] = z.Location
		private[it.UID] = it.Sensitivity != "Normal" && it.Sensitivity != ""
	}
	want := map[string]int{}
	for _, o := range f.tn.CalendarView(mb, w0, w1) {
		if o.Start.Before(w0) {
			continue
		}
		summary := o.Subject
		if private[o.UID] || (o.Sensitivity != "Normal" && o.Sensitivity != "") {
			summary = "Private appointment"
		}
		want[occKey(o.UID, o.Start, o.End, o.AllDay, zoneOf[o.UID], summary)]++
	}
	file := filepath.Join(f.dir, mb+".ics")
	out, err := exec.Command(py, filepath.Join(testenv.RepoRoot(), "test", "ics", "expand.py"), file,
		w0.AddDate(0, 0, -3).UTC().Format(time.RFC3339), w1.AddDate(0, 0, 3).UTC().Format(time.RFC3339)).Output()
	if err != nil {
		t.Fatalf("expand.py %s: %v", file, err)
	}
	var occs []parsedOcc
	if err := json.Unmarshal(out, &occs); err != nil {
		t.Fatalf("expand.py: %v", err)
	}
	got := map[string]int{}
	for _, o := range occs {
		loc := zoneOf[o.UID]
		if loc == nil {
			got["unknown uid "+o.UID]++
			continue
		}
		var s, e time.Time
		if o.AllDay {
			s, _ = time.ParseInLocation(time.DateOnly, o.Start, loc)
			e, _ = time.ParseInLocation(time.DateOnly, o.End, loc)
		} else {
			s, _ = time.Parse(time.RFC3339, o.Start)
			e, _ = time.Parse(time.RFC3339, o.End)
		}
		if s.Before(w0) || !s.Before(w1) {
			continue
		}
		got[occKey(o.UID, s, e, o.AllDay, loc, o.Summary)]++
	}
	var diff []string
	for k, n := range want {
		for i := got[k]; i < n; i++ {
			diff = append(diff, "missing "+k)
		}
	}
	for k, n := range got {
		for i := want[k]; i < n; i++ {
			diff = append(diff, "unexpected "+k)
		}
	}
	sort.Strings(diff)
	return diff
}

func (f *fixture) requireTruth(t *testing.T, py string) {
	t.Helper()
	for _, mb := range f.tn.Mailboxes() {
		if d := f.truthDiff(t, py, mb); len(d) > 0 {
			if len(d) > 10 {
				d = append(d[:10], fmt.Sprintf("... %d more", len(d)-10))
			}
			t.Fatalf("%s: the ICS file differs from the emulator's ground truth:\n  %s", mb, strings.Join(d, "\n  "))
		}
	}
}

// validateRequests checks the captured EWS requests (autodiscover's aside)
// against Microsoft's schemas, and that each op in want was captured.
func (f *fixture) validateRequests(t *testing.T, want ...string) {
	t.Helper()
	f.counter.mu.Lock()
	defer f.counter.mu.Unlock()
	dir := t.TempDir()
	var files []string
	for op, bodies := range f.counter.samples {
		if strings.HasPrefix(op, "GetUserSettings") {
			continue
		}
		for i, b := range bodies {
			p := filepath.Join(dir, fmt.Sprintf("%s-%d.xml", op, i))
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
	}
	for _, op := range want {
		if len(f.counter.samples[op]) == 0 {
			t.Errorf("no %s request captured", op)
		}
	}
	ewsvalidate.Files(t, false, files...)
}

func pythonICS(t *testing.T) string {
	return testenv.DebianPython(t, map[string]string{"icalendar": "python3-icalendar", "recurring_ical_events": "python3-recurring-ical-events"})
}

func mtimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.ModTime()
	}
	return out
}

// TestSyncOnceAgainstEmulator: a first sync writes files equal to the
// ground truth; a second sync (a new backend, as a new process would) costs
// one SyncFolderItems per mailbox and rewrites nothing.
func TestSyncOnceAgainstEmulator(t *testing.T) {
	t.Parallel()
	py := pythonICS(t)
	f := newFixture(t, 5, 60, nil)
	res := engine.SyncOnce(context.Background(), f.config(), f.deps(f.backend(t)))
	for _, r := range res {
		if r.Err != nil || !r.Written || r.Exported <= 0 {
			t.Fatalf("first sync %s: got %+v, want written with events", r.Mailbox, r)
		}
	}
	f.requireTruth(t, py)
	// The first sync rendered from the pages it fetched; rendering from the
	// store's cache gives the same bytes.
	other := t.TempDir()
	for _, mb := range f.tn.Mailboxes() {
		events, err := f.st.Events(mb)
		if err != nil {
			t.Fatal(err)
		}
		start, end := f.config().Window(time.Now())
		var kept []calendar.Event
		for _, e := range events {
			if calendar.TouchesWindow(e, start, end) {
				kept = append(kept, e)
			}
		}
		if _, err := (backend.ICSSink{}).Render(context.Background(), mb, kept, engine.RenderOptions{Dir: other, Privacy: "full", Start: start, End: end}); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(f.dir, mb+".ics"))
		b, _ := os.ReadFile(filepath.Join(other, mb+".ics"))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: the file rendered from the fetched pages differs from one rendered from the store", mb)
		}
	}
	before, ops := mtimes(t, f.dir), f.counter.snapshot()

	res = engine.SyncOnce(context.Background(), f.config(), f.deps(f.backend(t)))
	for _, r := range res {
		if r.Err != nil || r.Written || r.Changes != 0 {
			t.Fatalf("second sync %s: got %+v, want no changes, nothing written", r.Mailbox, r)
		}
	}
	after := f.counter.snapshot()
	n := len(f.tn.Mailboxes())
	if got := after["SyncFolderItems"] - ops["SyncFolderItems"]; got != n {
		t.Errorf("second sync: got %d SyncFolderItems, want %d (one per mailbox)", got, n)
	}
	for _, op := range []string{"GetItem", "FindItem", "GetFolder"} {
		if got := after[op] - ops[op]; got != 0 {
			t.Errorf("second sync: got %d %s requests, want 0", got, op)
		}
	}
	if got := mtimes(t, f.dir); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("second sync changed file times:\n got %v\nwant %v", got, before)
	}
	f.validateRequests(t, "SyncFolderItems", "GetItem")
}

// TestStreamingDeliversChanges: with Serve running and no polling, an item
// added, changed and deleted in the emulator reaches the ICS file.
func TestStreamingDeliversChanges(t *testing.T) {
	t.Parallel()
	py := pythonICS(t)
	f := newFixture(t, 3, 25, nil)
	cfg := f.config()
	cfg.PollInterval, cfg.Debounce = time.Hour, 200*time.Millisecond
	e := engine.New(cfg, f.deps(f.backend(t)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	waitStatus(t, e, "first sync with streaming up", func(s engine.Status) bool { return s.State == engine.StateIdle && s.Streaming })
	f.requireTruth(t, py)

	mb := f.tn.Mailboxes()[1]
	sfi := f.counter.snapshot()["SyncFolderItems"]
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour).UTC()
	added, err := f.tn.Add(mb, tenant.Item{Subject: "Streaming test", Start: start, End: start.Add(time.Hour),
		StartTimeZone: "W. Europe Standard Time", EndTimeZone: "W. Europe Standard Time", FreeBusy: "Busy", Sensitivity: "Normal"})
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, f, mb, "Streaming test")
	if _, err := f.tn.Update(mb, added.ID, func(it *tenant.Item) { it.Subject = "Streaming test renamed" }); err != nil {
		t.Fatal(err)
	}
	waitFile(t, f, mb, "Streaming test renamed")
	if err := f.tn.Delete(mb, added.ID); err != nil {
		t.Fatal(err)
	}
	waitFileNot(t, f, mb, "Streaming test")
	waitStatus(t, e, "idle", func(s engine.Status) bool { return s.State == engine.StateIdle })
	f.requireTruth(t, py)
	// Only the notified mailbox was synced: three changes, a few syncs of mb
	// (notifications may be coalesced), none of the others.
	if got := f.counter.snapshot()["SyncFolderItems"] - sfi; got < 1 || got > 6 {
		t.Errorf("got %d SyncFolderItems for 3 notified changes in one mailbox, want 1..6 (no polling of the others)", got)
	}
	f.validateRequests(t, "SyncFolderItems", "GetItem", "Subscribe", "GetStreamingEvents")
}

// TestStreamingConnections: 250 mailboxes at 100 subscriptions per
// connection use exactly 3 streaming connections.
func TestStreamingConnections(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 250, 2, nil)
	f.settings.MaxSubscriptionsPerConnection = 100
	cfg := f.config()
	cfg.PollInterval, cfg.Concurrency = time.Hour, 16
	e := engine.New(cfg, f.deps(f.backend(t)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	waitStatus(t, e, "first sync with streaming up", func(s engine.Status) bool { return s.State == engine.StateIdle && s.Streaming })
	deadline := time.Now().Add(30 * time.Second)
	for f.srv.Stats().StreamsOpen != 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := f.srv.Stats().StreamsOpen; got != 3 {
		t.Fatalf("got %d streaming connections open, want 3", got)
	}
	if got := f.counter.snapshot()["Subscribe"]; got != 250 {
		t.Errorf("got %d Subscribe requests, want 250", got)
	}
}

// TestFaultsConverge: under each fault mode a sync (retried as the engine
// retries a failing mailbox) converges to the ground truth.
func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	py := pythonICS(t)
	for _, tt := range []struct {
		name   string
		faults emulator.Faults
	}{
		{"server busy", emulator.Faults{Kind: emulator.FaultServerBusy, EveryN: 4, BackOff: 20 * time.Millisecond}},
		{"503", emulator.Faults{Kind: emulator.Fault503, EveryN: 3, RetryAfter: time.Second}},
		{"429", emulator.Faults{Kind: emulator.Fault429, EveryN: 5, RetryAfter: time.Second}},
		{"reset", emulator.Faults{Kind: emulator.FaultReset, EveryN: 3}},
		{"truncated bodies", emulator.Faults{Kind: emulator.FaultTruncate, EveryN: 3}},
		{"token revoked", emulator.Faults{Kind: emulator.FaultRevoke, EveryN: 9}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 3, 40, nil)
			b := f.backend(t)
			f.srv.SetFaults(tt.faults)
			converge(t, f, b)
			// Changes under faults, then an incremental sync.
			mb := f.tn.Mailboxes()[0]
			items := f.tn.Items(mb)
			f.tn.Delete(mb, items[0].ID)
			f.tn.Update(mb, items[1].ID, func(it *tenant.Item) { it.Subject = "changed under faults" })
			converge(t, f, b)
			f.srv.SetFaults(emulator.Faults{})
			f.requireTruth(t, py)
		})
	}
}

// TestInvalidSyncStateResyncs: a refused sync state leads to a clean full
// resync (deleted items gone, nothing duplicated).
func TestInvalidSyncStateResyncs(t *testing.T) {
	t.Parallel()
	py := pythonICS(t)
	f := newFixture(t, 2, 30, nil)
	b := f.backend(t)
	converge(t, f, b)
	mb := f.tn.Mailboxes()[0]
	// Corrupt the stored state as a server that forgot it would see it.
	if err := f.st.ApplyPage(mb, pageWithState("not-a-valid-sync-state")); err != nil {
		t.Fatal(err)
	}
	f.tn.Delete(mb, f.tn.Items(mb)[0].ID)
	res := engine.SyncOnce(context.Background(), f.config(), f.deps(b))
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Mailbox, r.Err)
		}
		if r.Mailbox == mb && !r.Resynced {
			t.Errorf("%s: got Resynced false, want a resync after the refused state", mb)
		}
	}
	f.requireTruth(t, py)
}

// converge runs SyncOnce until every mailbox succeeds (at most 20 rounds).
func converge(t *testing.T, f *fixture, b *backend.Backend) {
	t.Helper()
	for round := 0; round < 20; round++ {
		failed := 0
		for _, r := range engine.SyncOnce(context.Background(), f.config(), f.deps(b)) {
			if r.Err != nil {
				failed++
				t.Logf("round %d: %s: %v", round, r.Mailbox, r.Err)
			}
		}
		if failed == 0 {
			return
		}
	}
	t.Fatal("sync did not converge in 20 rounds")
}

func waitStatus(t *testing.T, e *engine.Engine, what string, ok func(engine.Status) bool) {
	t.Helper()
	ch, cancel := e.Subscribe()
	defer cancel()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last status %+v", what, e.Status())
		}
	}
}

func fileHas(f *fixture, mb, s string) bool {
	b, _ := os.ReadFile(filepath.Join(f.dir, mb+".ics"))
	return bytes.Contains(b, []byte("SUMMARY:"+s+"\r\n"))
}

func waitFile(t *testing.T, f *fixture, mb, summary string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !fileHas(f, mb, summary) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q did not reach the ICS file", mb, summary)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFileNot(t *testing.T, f *fixture, mb, summary string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for fileHas(f, mb, summary) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q still in the ICS file", mb, summary)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pageWithState(s string) calendar.Page { return calendar.Page{State: s} }
