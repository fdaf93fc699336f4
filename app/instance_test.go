package app

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAcquireTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "exocal.sock")
	first, err := Acquire(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("got %v, %v; want a 0600 socket", fi, err)
	}
	_, err = Acquire(ctx, sock)
	var ar *AlreadyRunningError
	if !errors.As(err, &ar) || ar.PID != os.Getpid() || ar.Socket != sock {
		t.Fatalf("second Acquire: got %v, want AlreadyRunningError{pid %d, %s}", err, os.Getpid(), sock)
	}
	if _, err := Activate(ctx, sock); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	select {
	case <-first.Activations():
	case <-time.After(10 * time.Second):
		t.Fatal("no activation delivered")
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	first.Release() // idempotent
	// A flock belongs to the open file, and a child that another test of
	// this process forks holds a copy of every descriptor until its exec
	// closes them (O_CLOEXEC): the lock can outlive Release by that long.
	second, err := Acquire(ctx, sock)
	for i := 0; i < 100 && errors.Is(err, ErrAlreadyRunning); i++ {
		time.Sleep(20 * time.Millisecond)
		second, err = Acquire(ctx, sock)
	}
	if err != nil {
		t.Fatalf("Acquire after Release: got %v, want success", err)
	}
	second.Release()
}

func TestAcquireTakesOverStaleSocket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "exocal.sock")
	// A socket file left by a process that died: nobody accepts on it.
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := Activate(ctx, sock); err == nil {
		t.Fatal("got nil, want connection refused on the stale socket")
	}
	in, err := Acquire(ctx, sock)
	if err != nil {
		t.Fatalf("got %v, want the stale socket taken over", err)
	}
	defer in.Release()
	if pid, err := Activate(ctx, sock); err != nil || pid != os.Getpid() {
		t.Errorf("Activate: got %d, %v; want %d", pid, err, os.Getpid())
	}
}

func TestActivationsCoalesce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in, sock := acquireTemp(t)
	for i := 0; i < 3; i++ {
		if _, err := Activate(ctx, sock); err != nil {
			t.Fatal(err)
		}
	}
	<-in.Activations()
	select {
	case <-in.Activations():
		t.Error("got a second activation, want them coalesced while unread")
	default:
	}
}

// A GUI launch while `exocal run` holds the instance must learn that there is
// no window to bring forward, and nothing is queued as an activation.
func TestActivateHeadless(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in, sock := acquireTemp(t)
	in.SetHeadless()
	pid, err := Activate(ctx, sock)
	if !errors.Is(err, ErrHeadless) {
		t.Fatalf("Activate: got %v, want ErrHeadless", err)
	}
	if pid != os.Getpid() {
		t.Errorf("got pid %d, want %d", pid, os.Getpid())
	}
	select {
	case <-in.Activations():
		t.Error("got an activation from a headless instance, want none")
	default:
	}
	if _, err := NotifyReload(ctx, sock); err != nil {
		t.Errorf("NotifyReload on a headless instance: %v", err)
	}
}

func TestSocketPath(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if got, want := SocketPath(), filepath.Join(dir, "exocal.sock"); got != want {
		t.Errorf("default settings file: got %q, want %q", got, want)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	if got, want := SocketPath(), filepath.Join(dir, "exocal.sock"); got != want {
		t.Errorf("XDG_CONFIG_HOME at its default: got %q, want %q", got, want)
	}

	// Another settings file is another instance; the same one, the same.
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "isolated-a"))
	a := SocketPath()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "isolated-b"))
	b := SocketPath()
	if a == b || filepath.Dir(a) != dir || !strings.HasPrefix(filepath.Base(a), "exocal-") || a == filepath.Join(dir, "exocal.sock") {
		t.Errorf("isolated settings files: got %q and %q, want two distinct exocal-<hash>.sock in %s", a, b, dir)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "isolated-a"))
	if got := SocketPath(); got != a {
		t.Errorf("same settings file again: got %q, want %q", got, a)
	}

	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := SocketPath(); filepath.Dir(got) != filepath.Clean(os.TempDir()) {
		t.Errorf("got %q, want it in %s", got, os.TempDir())
	}
}

func TestRequestSyncAnswers(t *testing.T) {
	t.Parallel()
	report := SyncReport{ExportDir: "/out", Results: []SyncResult{{Mailbox: "a@x", Events: 3}, {Mailbox: "b@x", Err: "Connection reset."}}}
	for _, tt := range []struct {
		name    string
		fn      SyncFunc // nil: no OnSync
		check   func(rep SyncReport, err error) bool
		wantErr string
	}{
		{"report", func(context.Context) (SyncReport, error) { return report, nil },
			func(rep SyncReport, err error) bool {
				return err == nil && rep.PID == os.Getpid() && rep.ExportDir == "/out" && len(rep.Results) == 2 && rep.Results[1] == report.Results[1]
			}, ""},
		{"no sync engine", nil, func(_ SyncReport, err error) bool { return errors.Is(err, ErrSyncUnsupported) }, ""},
		{"refused", func(context.Context) (SyncReport, error) {
			return SyncReport{}, errors.New("app: ExoCal is paused; choose Resume\nin its tray menu")
		}, func(_ SyncReport, err error) bool {
			var re *RemoteError
			return errors.As(err, &re) && IsRemote(err) && re.Msg == "ExoCal is paused; choose Resume in its tray menu"
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sock := filepath.Join(t.TempDir(), "exocal.sock")
			in, err := Acquire(context.Background(), sock)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Release()
			if tt.fn != nil {
				in.OnSync(tt.fn)
			}
			rep, err := RequestSync(context.Background(), sock, nil)
			if !tt.check(rep, err) {
				t.Errorf("got %+v, %v", rep, err)
			}
		})
	}
}

func TestRequestSyncNotRunning(t *testing.T) {
	t.Parallel()
	_, err := RequestSync(context.Background(), filepath.Join(t.TempDir(), "exocal.sock"), nil)
	if !errors.Is(err, ErrNotRunning) {
		t.Errorf("got %v, want ErrNotRunning", err)
	}
}

// TestRequestSyncCancel: the requester giving up (Ctrl-C, --timeout) ends
// the running side's wait; Release ends a wait still running and answers
// it; nothing of the socket code is left running afterwards. Not parallel:
// it counts goroutines.
func TestRequestSyncCancel(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "exocal.sock")
	in, err := Acquire(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{}, 1)
	ended := make(chan error, 1)
	in.OnSync(func(ctx context.Context) (SyncReport, error) {
		waiting <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return SyncReport{}, ctx.Err()
	})

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := RequestSync(ctx, sock, nil)
		got <- err
	}()
	<-waiting
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("requester: got %v, want context.Canceled", err)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("running side: got %v, want its wait cancelled", err)
	}

	go func() {
		_, err := RequestSync(context.Background(), sock, nil)
		got <- err
	}()
	<-waiting
	if err := in.Release(); err != nil {
		t.Fatal(err)
	}
	<-ended
	if err := <-got; !IsRemote(err) || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("after Release: got %v, want the running side to say it is shutting down", err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want the socket removed", err)
	}
	var left []string
	for i := 0; i < 500; i++ { // goroutines end a little after their connection closes
		if left = instanceGoroutines(); len(left) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("got %d socket goroutines left, want none:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// acquireTemp holds the instance on a socket in a fresh temporary folder
// until the test ends.
func acquireTemp(t *testing.T) (*Instance, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "exocal.sock")
	in, err := Acquire(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Release() })
	return in, sock
}

func TestKeyringProfile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	def := filepath.Join(home, ".config", "exocal", "config.json")
	other := filepath.Join(home, "isolated", "exocal", "config.json")
	for _, tt := range []struct{ path, want string }{
		{def, "default"},
		{"", "default"},
		{other, "default@" + filepath.Dir(other)},
	} {
		if got := KeyringProfile(tt.path); got != tt.want {
			t.Errorf("KeyringProfile(%q): got %q, want %q", tt.path, got, tt.want)
		}
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "isolated"))
	if got := CurrentKeyringProfile(); got != "default@"+filepath.Dir(other) {
		t.Errorf("CurrentKeyringProfile with XDG_CONFIG_HOME elsewhere: got %q", got)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	if got := CurrentKeyringProfile(); got != "default" {
		t.Errorf("CurrentKeyringProfile by default: got %q, want default", got)
	}
}
