package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instanceEnv is an isolated CLI (newCLI) set up against an in-process
// emulator through EXOCAL_* (no keyring), with its runtime dir for the
// instance socket.
type instanceEnv struct {
	*cli
	srv       *emulator.Server
	extra     []string
	socket    string
	exportDir string
	mailboxes []string
}

func newInstanceEnv(t *testing.T) *instanceEnv {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 5, Mailboxes: 2, Events: 4, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: cliTenantID, ClientID: cliClientID, ClientSecret: cliSecret, Seed: 5})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := newCLI(t, false)
	run := filepath.Join(c.base, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	e := &instanceEnv{cli: c, srv: srv, socket: filepath.Join(run, "exocal.sock"),
		exportDir: filepath.Join(c.base, "ics"), mailboxes: tn.Mailboxes(),
		extra: []string{secrets.EnvTenantID + "=" + cliTenantID, secrets.EnvClientID + "=" + cliClientID, secrets.EnvClientSecret + "=" + cliSecret}}
	s := config.Defaults()
	s.User, s.Mailboxes = tn.Mailboxes()[0], tn.Mailboxes()
	s.AutodiscoverURL, s.AuthorityHost = srv.URL(), srv.URL()
	s.ExportDir = e.exportDir
	if err := config.Save(c.configFile(), s); err != nil {
		t.Fatal(err)
	}
	return e
}

// runProc is a started `exocal run`.
type runProc struct {
	cmd    *exec.Cmd
	logs   *lockedBuffer
	exited chan error // cmd.Wait's result
}

// startRun starts `exocal run` in its own process and waits until its
// engine serves (it logs "exocal running"). Cleanup kills it if the test
// did not stop it.
func (e *instanceEnv) startRun(t *testing.T) *runProc {
	t.Helper()
	p := &runProc{cmd: exec.Command(os.Args[0], "run"), logs: &lockedBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env = append(append([]string{}, e.env...), e.extra...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { err := p.cmd.Wait(); close(stopped); p.exited <- err }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-stopped
	})
	for !strings.Contains(p.logs.String(), `msg="exocal running"`) {
		select {
		case err := <-p.exited:
			t.Fatalf("exocal run exited early: %v\n%s", err, p.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return p
}

func (e *instanceEnv) exocal(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return e.run("", e.extra, args...)
}

// TestSyncOnceThroughRunningInstance: with `exocal run` running (and
// holding the state database), `exocal sync --once` syncs through it and
// prints the same lines as a standalone run; a second one, with nothing
// changed, says "unchanged" for each mailbox; a second `exocal run` exits
// 2 naming the first; after the first stops, its socket is gone and a
// standalone `sync --once` works again.
func TestSyncOnceThroughRunningInstance(t *testing.T) {
	e := newInstanceEnv(t)
	first := e.startRun(t)
	logs := first.logs

	out, errOut, code := e.exocal(t, "sync", "--once")
	if code != exitOK {
		t.Fatalf("sync --once through run: got exit %d\nstdout:\n%s\nstderr:\n%s\nrun's log:\n%s", code, out, errOut, logs)
	}
	if want := fmt.Sprintf("ExoCal is already running (pid %d); syncing through it", first.cmd.Process.Pid); !strings.Contains(errOut, want) {
		t.Errorf("stderr: got %q, want %q", errOut, want)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(e.mailboxes) {
		t.Fatalf("got %d lines, want one per mailbox (%d):\n%s", len(lines), len(e.mailboxes), out)
	}
	for i, mb := range e.mailboxes {
		path := filepath.Join(e.exportDir, mb+".ics")
		if !strings.HasPrefix(lines[i], mb+"  ok  ") || !strings.HasSuffix(lines[i], path) || strings.Contains(lines[i], "   0 events") {
			t.Errorf("line %d: got %q, want %s ok with its events and %s", i, lines[i], mb, path)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("got %v, want %s written", err, path)
		}
	}

	out, errOut, code = e.exocal(t, "sync", "--once")
	if code != exitOK || strings.Count(out, "  unchanged  ") != len(e.mailboxes) || strings.Contains(out, "→") {
		t.Errorf("second sync --once: got exit %d, want 0 and every mailbox unchanged:\n%s%s", code, out, errOut)
	}

	out, errOut, code = e.exocal(t, "run")
	want := fmt.Sprintf("ExoCal is already running (pid %d, socket %s); stop it first or use 'exocal sync --once' to sync through it.", first.cmd.Process.Pid, e.socket)
	if code != exitSetup || !strings.Contains(errOut, want) || out != "" {
		t.Errorf("second run: got exit %d, stdout %q, stderr %q; want exit 2 saying %q", code, out, errOut, want)
	}

	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-first.exited; err != nil {
		t.Fatalf("exocal run after SIGTERM: got %v, want exit 0\n%s", err, logs)
	}
	if _, err := os.Stat(e.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want the socket removed when run stops", err)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("run's log has errors:\n%s", logs)
	}
	out, errOut, code = e.exocal(t, "sync", "--once")
	if code != exitOK || strings.Contains(errOut, "already running") || strings.Count(out, "  unchanged  ") != len(e.mailboxes) {
		t.Errorf("standalone sync --once after run stopped: got exit %d, want 0 and unchanged files:\n%s%s", code, out, errOut)
	}
}

// TestSyncOnceStandaloneUnchanged: without a running instance, the first
// `sync --once` writes the files and the second says they are unchanged.
func TestSyncOnceStandaloneUnchanged(t *testing.T) {
	e := newInstanceEnv(t)
	out, errOut, code := e.exocal(t, "sync", "--once")
	if code != exitOK || strings.Count(out, "→") != len(e.mailboxes) || strings.Contains(out, "unchanged") || strings.Contains(errOut, "already running") {
		t.Fatalf("first: got exit %d, want 0 and every file written:\n%s%s", code, out, errOut)
	}
	// Nothing in the export folder changes either (no probe file): a
	// folder watcher sees no event.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(e.exportDir, past, past); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = e.exocal(t, "sync", "--once")
	if code != exitOK || strings.Count(out, "  unchanged  ") != len(e.mailboxes) || strings.Contains(out, "→") {
		t.Errorf("second: got exit %d, want 0 and every file unchanged:\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(e.exportDir); err != nil || !fi.ModTime().Equal(past) {
		t.Errorf("export folder after a no-change sync: modified %v (%v), want untouched (%v)", fi.ModTime(), err, past)
	}
}

// TestSyncOnceThroughInstanceRefusals: what `sync --once` says when the
// running instance cannot sync on request, refuses, or does not finish in
// time.
func TestSyncOnceThroughInstanceRefusals(t *testing.T) {
	t.Parallel()
	never := make(chan struct{})
	t.Cleanup(func() { close(never) }) // after the parallel subtests
	for _, tt := range []struct {
		name    string
		fn      app.SyncFunc
		timeout time.Duration
		code    int
		want    string
	}{
		{"no sync engine", nil, time.Minute, exitSetup, "cannot sync on request; use Sync now in its tray menu"},
		{"paused", func(context.Context) (app.SyncReport, error) {
			return app.SyncReport{}, errors.New("app: ExoCal is paused; choose Resume in its tray menu, then try again")
		}, time.Minute, exitSetup, "exocal: ExoCal is paused; choose Resume in its tray menu, then try again.\n"},
		{"timeout", func(ctx context.Context) (app.SyncReport, error) {
			select {
			case <-ctx.Done():
			case <-never:
			}
			return app.SyncReport{}, ctx.Err()
		}, 50 * time.Millisecond, exitFailed, "did not finish the sync within 50ms"},
		{"no limit (--timeout 0) still goes through the instance", func(context.Context) (app.SyncReport, error) {
			return app.SyncReport{}, errors.New("app: ExoCal is paused; choose Resume in its tray menu, then try again")
		}, 0, exitSetup, "exocal: ExoCal is paused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sock := filepath.Join(t.TempDir(), "exocal.sock")
			in, err := app.Acquire(context.Background(), sock)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Release()
			if tt.fn != nil {
				in.OnSync(tt.fn)
			}
			var stdout, stderr bytes.Buffer
			code, done := syncThroughRunning(context.Background(), &stdout, &stderr, sock, tt.timeout)
			if !done || code != tt.code || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
				t.Errorf("got done %v, exit %d, stdout %q, stderr %q; want exit %d saying %q", done, code, stdout.String(), stderr.String(), tt.code, tt.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if _, done := syncThroughRunning(context.Background(), &stdout, &stderr, filepath.Join(t.TempDir(), "none.sock"), time.Minute); done {
		t.Errorf("got done with no instance running (stderr %q), want a standalone sync", stderr.String())
	}
}

func TestPrintReport(t *testing.T) {
	t.Parallel()
	results := []app.SyncResult{{Mailbox: "a@x", Events: 3}, {Mailbox: "bb@x", Events: 7}, {Mailbox: "c@x", Err: "Entra rejected the secret. Create a new one.", Setup: true}}
	var buf bytes.Buffer
	code := printReport(&buf, "/out", results, map[string]bool{"bb@x": true})
	want := "a@x   ok     3 events  → /out/a@x.ics\n" +
		"bb@x  ok     7 events  unchanged  /out/bb@x.ics\n" +
		"c@x   error  Entra rejected the secret. Create a new one.\n"
	if got := buf.String(); got != want || code != exitFailed {
		t.Errorf("got exit %d\n%s\nwant exit %d\n%s", code, got, exitFailed, want)
	}
}

// TestSyncOnceThroughTrayCore: the tray's core (app.App driving the
// syncService, in this process) answers a `sync --once` run in another
// process once the sync it asked for has finished. Not parallel: the
// sync service finds its state database through XDG_CACHE_HOME.
func TestSyncOnceThroughTrayCore(t *testing.T) {
	e := newInstanceEnv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	store := secrets.NewMemory()
	if err := store.Set(context.Background(), secrets.DefaultProfile, secrets.Registration{TenantID: cliTenantID, ClientID: cliClientID, ClientSecret: cliSecret}); err != nil {
		t.Fatal(err)
	}
	in, err := app.Acquire(context.Background(), e.socket)
	if err != nil {
		t.Fatal(err)
	}
	log := newLogger(&lockedBuffer{}, false)
	svc := newSyncService(store, log)
	core, err := app.New(app.Options{ConfigPath: e.configFile(), Secrets: store, Engine: svc, Instance: in, Logger: log})
	if err != nil {
		in.Release()
		t.Fatal(err)
	}
	svc.core = core
	core.ServeSyncRequests()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("core.Run: %v", err)
		}
	}()

	for _, pass := range []string{"first", "second"} {
		out, errOut, code := e.exocal(t, "sync", "--once")
		if code != exitOK || !strings.Contains(errOut, "syncing through it") || strings.Count(out, "  ok  ") != len(e.mailboxes) {
			t.Fatalf("%s sync --once through the tray core: got exit %d, want 0 with a line per mailbox:\n%s%s", pass, code, out, errOut)
		}
		for _, mb := range e.mailboxes {
			if _, err := os.Stat(filepath.Join(e.exportDir, mb+".ics")); err != nil {
				t.Errorf("%s: got %v, want the ICS file of %s written before the answer", pass, err, mb)
			}
		}
		if pass == "second" && strings.Count(out, "  unchanged  ") != len(e.mailboxes) {
			t.Errorf("second: want every mailbox unchanged:\n%s", out)
		}
	}
	core.Pause()
	out, errOut, code := e.exocal(t, "sync", "--once")
	if code != exitSetup || !strings.Contains(errOut, "ExoCal is paused; choose Resume") || out != "" {
		t.Errorf("paused: got exit %d, stdout %q, stderr %q; want exit 2 saying it is paused", code, out, errOut)
	}
}

// TestIsolatedSettingsAreAnotherInstance: with `exocal run` running, a
// command whose XDG_CONFIG_HOME points elsewhere (an isolated setup, same
// runtime dir) neither syncs through it nor notifies it: it is another
// ExoCal with its own socket.
func TestIsolatedSettingsAreAnotherInstance(t *testing.T) {
	e := newInstanceEnv(t)
	first := e.startRun(t)
	other := filepath.Join(t.TempDir(), "elsewhere")
	env := []string{"XDG_CONFIG_HOME=" + other}

	out, errOut, code := e.run("", env, "sync", "--once")
	if strings.Contains(errOut, "already running") || code != exitSetup {
		t.Errorf("sync --once with other settings: got exit %d\n%s%s\nwant exit 2 for its own, unconfigured setup, not a sync through pid %d", code, out, errOut, first.cmd.Process.Pid)
	}
	out, errOut, code = e.run("", env, "config", "set", "window_past_days", "10")
	if code != exitOK || strings.Contains(out+errOut, "picked up") {
		t.Errorf("config set with other settings: got exit %d %q %q; want it saved there and no running ExoCal told", code, out, errOut)
	}
	if strings.Contains(first.logs.String(), "reload") {
		t.Errorf("the running ExoCal reloaded for another settings file:\n%s", first.logs)
	}
	if b, err := os.ReadFile(filepath.Join(other, "exocal", "config.json")); err != nil || !strings.Contains(string(b), `"window_past_days": 10`) {
		t.Errorf("the other settings file: got %s, %v", b, err)
	}
}

// TestRunWarnsOfSecretExpiry: a service has no tray, so `exocal run` logs
// the expiry warning when the noted secret_expires date is near.
func TestRunWarnsOfSecretExpiry(t *testing.T) {
	e := newInstanceEnv(t)
	s, err := config.Load(e.configFile())
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	s.SecretExpires = expires
	if err := config.Save(e.configFile(), s); err != nil {
		t.Fatal(err)
	}
	p := e.startRun(t)
	if logs := p.logs.String(); !strings.Contains(logs, `level=WARN msg="client secret"`) || !strings.Contains(logs, "The client secret expires on "+expires) {
		t.Errorf("run's log: want a warning that the secret expires on %s:\n%s", expires, logs)
	}
}

// TestRunWaitsForTheNetwork: a service started before Microsoft can be
// reached (here: nothing listens on the tenant's address yet) keeps trying
// instead of exiting, and syncs once the address answers; `sync --once`
// meanwhile exits 1 (the network), not 2 (the configuration).
func TestRunWaitsForTheNetwork(t *testing.T) {
	e := newInstanceEnv(t)
	s, err := config.Load(e.configFile())
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.AuthorityHost, "http://")
	e.srv.Close() // nothing answers there now

	if _, errOut, code := e.exocal(t, "sync", "--once"); code != exitFailed || !strings.Contains(errOut, "connect") {
		t.Errorf("sync --once with the tenant unreachable: got exit %d %q, want 1 and a sentence about connecting", code, errOut)
	}

	p := &runProc{cmd: exec.Command(os.Args[0], "run"), logs: &lockedBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env = append(append([]string{}, e.env...), e.extra...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	waitLog := func(what string) {
		t.Helper()
		for i := 0; !strings.Contains(p.logs.String(), what); i++ {
			select {
			case err := <-p.exited:
				t.Fatalf("exocal run exited (%v) while waiting for %q:\n%s", err, what, p.logs)
			case <-time.After(50 * time.Millisecond):
			}
			if i > 1200 {
				t.Fatalf("no %q in run's log after 60 s:\n%s", what, p.logs)
			}
		}
	}
	waitLog(`msg="cannot reach Microsoft yet; trying again"`)

	tn := tenant.Generate(tenant.Config{Seed: 5, Mailboxes: 2, Events: 4, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: cliTenantID, ClientID: cliClientID, ClientSecret: cliSecret, Seed: 5})
	if err := srv.Start(addr); err != nil {
		t.Fatalf("restart the emulator on %s: %v", addr, err)
	}
	t.Cleanup(func() { srv.Close() })
	waitLog(`msg="exocal running"`)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.exited; err != nil {
		t.Errorf("run after SIGTERM: got %v, want exit 0\n%s", err, p.logs)
	}
}
