package app

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
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
	second, err := Acquire(ctx, sock)
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
	sock := filepath.Join(t.TempDir(), "exocal.sock")
	in, err := Acquire(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Release()
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

func TestSocketPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if got, want := SocketPath(), filepath.Join(dir, "exocal.sock"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := SocketPath(); filepath.Dir(got) != filepath.Clean(os.TempDir()) {
		t.Errorf("got %q, want it in %s", got, os.TempDir())
	}
}
