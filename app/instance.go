package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SocketPath returns where the running instance listens:
// $XDG_RUNTIME_DIR/exocal.sock, or os.TempDir()/exocal-<uid>.sock when
// XDG_RUNTIME_DIR is unset. Beside it, a lock file (same name, ".lock")
// holds the owner's pid and an exclusive flock for as long as it runs.
func SocketPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "exocal.sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("exocal-%d.sock", os.Getuid()))
}

func lockPath(socket string) string { return strings.TrimSuffix(socket, ".sock") + ".lock" }

// ErrAlreadyRunning is matched (errors.Is) by *AlreadyRunningError.
var ErrAlreadyRunning = errors.New("app: ExoCal is already running")

// AlreadyRunningError says that another ExoCal holds the instance lock.
type AlreadyRunningError struct {
	PID    int    // 0 when unknown
	Socket string // where it listens
}

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("app: ExoCal is already running (pid %d, socket %s)", e.PID, e.Socket)
}

// Is makes errors.Is(err, ErrAlreadyRunning) true.
func (e *AlreadyRunningError) Is(target error) bool { return target == ErrAlreadyRunning }

// Instance is this process's claim to be the one running ExoCal: an
// exclusive lock plus a unix socket on which a second launch asks it to
// show its settings window.
type Instance struct {
	path string
	lock *os.File
	ln   *net.UnixListener
	act  chan struct{}
	rel  chan struct{}

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Acquire makes this process the running instance, listening at socket
// (SocketPath() when ""). When another live process holds it, Acquire
// returns an *AlreadyRunningError. A socket left behind by a process that
// died is removed and taken over.
func Acquire(ctx context.Context, socket string) (*Instance, error) {
	if socket == "" {
		socket = SocketPath()
	}
	lf, err := os.OpenFile(lockPath(socket), os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("app: single-instance lock: %w", err)
	}
	if err := tryLock(lf); err != nil {
		if errors.Is(err, errLocked) {
			pid := readPID(lf)
			lf.Close()
			return nil, &AlreadyRunningError{PID: pid, Socket: socket}
		}
		lf.Close()
		return nil, fmt.Errorf("app: single-instance lock: %w", err)
	}
	// We hold the lock, so whatever socket file exists is stale.
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		lf.Close()
		return nil, fmt.Errorf("app: remove stale socket %s: %w", socket, err)
	}
	lc := net.ListenConfig{}
	l, err := lc.Listen(ctx, "unix", socket)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("app: listen on %s: %w", socket, err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		l.Close()
		lf.Close()
		return nil, fmt.Errorf("app: chmod %s: %w", socket, err)
	}
	lf.Truncate(0)
	lf.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	in := &Instance{path: socket, lock: lf, ln: l.(*net.UnixListener), act: make(chan struct{}, 1), rel: make(chan struct{}, 1)}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	return pid
}

// Path is the socket's path.
func (in *Instance) Path() string { return in.path }

// Activations delivers one value per "activate" request (coalesced when
// nobody is reading).
func (in *Instance) Activations() <-chan struct{} { return in.act }

// Reloads delivers one value per "reload" request (coalesced), sent by
// `exocal config set` and `exocal secret set` after they change the settings.
func (in *Instance) Reloads() <-chan struct{} { return in.rel }

// Release stops listening, removes the socket and drops the lock.
func (in *Instance) Release() error {
	var err error
	in.closeOnce.Do(func() {
		err = in.ln.Close() // also unlinks the socket
		in.wg.Wait()
		in.lock.Close() // drops the flock
	})
	return err
}

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return
		}
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			in.handle(c)
		}()
	}
}

func (in *Instance) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 64)).ReadString('\n')
	if err != nil {
		return
	}
	switch strings.TrimSpace(line) {
	case "activate":
		select {
		case in.act <- struct{}{}:
		default:
		}
	case "reload":
		select {
		case in.rel <- struct{}{}:
		default:
		}
	case "ping":
	default:
		fmt.Fprintf(c, "error unknown request\n")
		return
	}
	fmt.Fprintf(c, "ok %d\n", os.Getpid())
}

// Activate asks the instance listening at socket (SocketPath() when "")
// to bring its settings window forward, and returns its pid.
func Activate(ctx context.Context, socket string) (int, error) {
	return request(ctx, socket, "activate")
}

// NotifyReload tells the instance listening at socket (SocketPath() when
// "") that the settings or the registration changed on disk or in the
// keyring, and returns its pid. An error usually means none is running.
func NotifyReload(ctx context.Context, socket string) (int, error) {
	return request(ctx, socket, "reload")
}

func request(ctx context.Context, socket, req string) (int, error) {
	if socket == "" {
		socket = SocketPath()
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return 0, fmt.Errorf("app: reach the running ExoCal at %s: %w", socket, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := fmt.Fprintf(c, "%s\n", req); err != nil {
		return 0, fmt.Errorf("app: %s request to %s: %w", req, socket, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("app: %s request to %s: %w", req, socket, err)
	}
	pid, ok := strings.CutPrefix(strings.TrimSpace(line), "ok ")
	if !ok {
		return 0, fmt.Errorf("app: %s request to %s: unexpected answer %q", req, socket, line)
	}
	n, _ := strconv.Atoi(pid)
	return n, nil
}
