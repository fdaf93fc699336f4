package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/app/secrets"
)

// publishingEngine is an Engine whose SyncNow publishes what a real sync
// round looks like: syncing, then each mailbox synced (or failed).
type publishingEngine struct {
	mu    sync.Mutex
	core  *App
	fail  map[string][2]string // mailbox → error words and fix
	syncs int
}

func (e *publishingEngine) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (e *publishingEngine) Reload()                       {}
func (e *publishingEngine) SyncNow() {
	e.mu.Lock()
	e.syncs++
	n := e.syncs
	e.mu.Unlock()
	go func() { // asynchronously, like the engine's loop
		started := time.Now()
		mbs := e.core.Settings().EffectiveMailboxes()
		st := Status{State: StateSyncing, Total: len(mbs)}
		for _, m := range mbs {
			st.Mailboxes = append(st.Mailboxes, MailboxStatus{Address: m, State: StateSyncing})
		}
		e.core.Publish(st)
		now := time.Now()
		done := Status{State: StateIdle, LastSync: now}
		for _, m := range mbs {
			ms := MailboxStatus{Address: m, State: StateIdle, LastSync: now, Attempted: started, Items: 10 * n}
			if w, ok := e.fail[m]; ok {
				ms = MailboxStatus{Address: m, State: StateError, Attempted: started, Err: w[0], Fix: w[1]}
				done.State = StateWarning
			}
			done.Mailboxes = append(done.Mailboxes, ms)
		}
		e.core.Publish(done)
	}()
}

func newSyncApp(t *testing.T, eng *publishingEngine, in *Instance) *App {
	t.Helper()
	dir := t.TempDir()
	a, err := New(Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: secrets.NewMemory(), Engine: eng, Instance: in})
	if err != nil {
		t.Fatal(err)
	}
	eng.core = a
	if err := a.Save(validSettings(t), tenant, client, secret); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSyncThroughRunningApp: a second process's `exocal sync --once`
// (RequestSync) goes through the running App, waits for the sync it asked
// for and gets one result per mailbox; a second App on the same socket
// does not start.
func TestSyncThroughRunningApp(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "exocal.sock")
	in, err := Acquire(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	eng := &publishingEngine{fail: map[string][2]string{"room1@contoso.com": {"Exchange has no mailbox room1@contoso.com.", "Check the address in Settings."}}}
	a := newSyncApp(t, eng, in)
	a.ServeSyncRequests()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	pid := 0
	rep, err := RequestSync(context.Background(), sock, func(p int) { pid = p })
	if err != nil {
		t.Fatalf("RequestSync: %v", err)
	}
	if pid != os.Getpid() || rep.PID != os.Getpid() {
		t.Errorf("got pid %d (started) and %d (report), want %d", pid, rep.PID, os.Getpid())
	}
	want := []SyncResult{
		{Mailbox: "alice@contoso.com", Events: 10},
		{Mailbox: "room1@contoso.com", Err: "Exchange has no mailbox room1@contoso.com. Check the address in Settings.", Setup: true},
	}
	if len(rep.Results) != len(want) {
		t.Fatalf("got %+v, want %+v", rep.Results, want)
	}
	for i := range want {
		if rep.Results[i] != want[i] {
			t.Errorf("result %d: got %+v, want %+v", i, rep.Results[i], want[i])
		}
	}
	if rep.ExportDir != a.Settings().ExportDir {
		t.Errorf("got export dir %q, want %q", rep.ExportDir, a.Settings().ExportDir)
	}
	// A second request waits for a second sync, not the first one's result.
	rep, err = RequestSync(context.Background(), sock, nil)
	if err != nil || len(rep.Results) == 0 || rep.Results[0].Events != 20 {
		t.Fatalf("second RequestSync: got %+v, %v; want the second sync's 20 events", rep, err)
	}

	b, err := New(Options{ConfigPath: filepath.Join(t.TempDir(), "c.json"), Secrets: secrets.NewMemory(), SocketPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second App.Run: got %v, want ErrAlreadyRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := RequestSync(context.Background(), sock, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after Run: got %v, want ErrNotRunning", err)
	}
}

func TestSyncAndWaitRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		setup func(a *App)
		want  string
	}{
		{"paused", func(a *App) { a.Pause() }, "paused"},
		{"not set up", func(a *App) {
			if err := a.opts.Secrets.Delete(context.Background(), a.opts.Profile); err != nil {
				t.Fatal(err)
			}
			if err := a.Reload(); err != nil {
				t.Fatal(err)
			}
		}, "ExoCal cannot sync now: Not set up — open Settings"},
		{"backend cannot be built", func(a *App) {
			a.Publish(Status{State: StateError, Err: "Entra rejected the client secret.", Fix: "Create a new one in Settings."})
		}, "ExoCal cannot sync now: Entra rejected the client secret. Create a new one in Settings"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng := &publishingEngine{}
			a := newSyncApp(t, eng, nil)
			tt.setup(a)
			_, err := a.SyncAndWait(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
			eng.mu.Lock()
			defer eng.mu.Unlock()
			if eng.syncs != 0 {
				t.Errorf("got %d syncs, want none", eng.syncs)
			}
		})
	}
}

func TestWaitForSync(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	before, after := since.Add(-time.Minute), since.Add(time.Second)
	// st is a snapshot taken at at, of two mailboxes whose last finished
	// syncs started at a and b (zero: none yet).
	st := func(state State, at, a, b time.Time) Status {
		return Status{State: state, At: at, Mailboxes: []MailboxStatus{
			{Address: "a@x", State: StateIdle, Attempted: a, Items: 1},
			{Address: "b@x", State: StateIdle, Attempted: b, Items: 1},
		}}
	}
	var zero time.Time
	for _, tt := range []struct {
		name     string
		statuses []Status
		wantIdx  int    // index of the Status returned; -1 for an error
		wantErr  string // substring
	}{
		{"each mailbox synced after the request", []Status{st(StateSyncing, after, before, before), st(StateSyncing, after, after, before), st(StateIdle, after, after, after)}, 2, ""},
		{"a snapshot from before the request is not the answer", []Status{st(StateIdle, before, after, after), st(StateIdle, after, after, after)}, 1, ""},
		{"a round under way at the request ends: not the answer", []Status{st(StateSyncing, after, zero, zero), st(StateIdle, after, before, before), st(StateSyncing, after, before, before), st(StateIdle, after, after, after)}, 3, ""},
		{"failed syncs after the request are an answer", []Status{st(StateError, after, after, after)}, 0, ""},
		{"an error state still waits for the mailboxes", []Status{st(StateError, after, before, before), st(StateWarning, after, after, after)}, 1, ""},
		{"the backend cannot be built: no mailbox to wait for", []Status{{State: StateError, At: after, Err: "Entra rejected the client secret."}}, 0, ""},
		{"paused while waiting", []Status{st(StateSyncing, after, before, before), {State: StatePaused, At: after}}, -1, "paused"},
		{"not set up while waiting", []Status{{State: StateNotConfigured, At: after, Err: "Not set up — open Settings."}}, -1, "cannot sync now: Not set up"},
		{"the engine stops", []Status{st(StateSyncing, after, before, before)}, -1, "wait for the sync"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kicks, i := 0, 0
			next := func(ctx context.Context) (Status, error) {
				if i == len(tt.statuses) {
					return Status{}, context.Canceled
				}
				i++
				return tt.statuses[i-1], nil
			}
			got, err := WaitForSync(context.Background(), since, func() { kicks++ }, next)
			if kicks != 1 {
				t.Errorf("got %d kicks, want 1", kicks)
			}
			if tt.wantIdx < 0 {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || i != tt.wantIdx+1 || got.State != tt.statuses[tt.wantIdx].State {
				t.Errorf("got %v after %d statuses (err %v), want status %d", got.State, i, err, tt.wantIdx)
			}
		})
	}
}

func TestReportFromStatus(t *testing.T) {
	t.Parallel()
	st := Status{ExportDir: "/out", State: StateError, Err: "Everything broke.", Mailboxes: []MailboxStatus{
		{Address: "a@x", State: StateIdle, Items: 4},
		{Address: "b@x", State: StateError, Err: "Entra rejected the client secret.", Fix: "Create a new one."},
		{Address: "c@x", State: StateError, Err: "Connection reset."},
		{Address: "d@x", State: StateError},
	}}
	want := []SyncResult{
		{Mailbox: "a@x", Events: 4},
		{Mailbox: "b@x", Err: "Entra rejected the client secret. Create a new one.", Setup: true},
		{Mailbox: "c@x", Err: "Connection reset."},
		{Mailbox: "d@x", Err: "Everything broke."},
	}
	rep := ReportFromStatus(st)
	if rep.ExportDir != "/out" || len(rep.Results) != len(want) {
		t.Fatalf("got %+v, want %+v in /out", rep, want)
	}
	for i := range want {
		if rep.Results[i] != want[i] {
			t.Errorf("got %+v, want %+v", rep.Results[i], want[i])
		}
	}
}

// instanceGoroutines lists the goroutines running this package's socket
// code (serve, handle, a sync request), for leak checks.
func instanceGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "app.(*Instance)") || strings.Contains(g, "app.RequestSync") {
			found = append(found, g)
		}
	}
	return found
}
