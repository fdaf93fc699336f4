package app

import (
	"bufio"
	"context"
	"encoding/json"
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
//
// That is for the default settings file (~/.config/exocal/config.json).
// Another settings file (XDG_CONFIG_HOME pointing elsewhere) has its own
// instance, named after a hash of its path (exocal-<hash>.sock): an
// isolated setup neither drives nor blocks the user's own ExoCal.
func SocketPath() string {
	name := "exocal"
	if tag := settingsTag(); tag != "" {
		name += "-" + tag
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, name+".sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d.sock", name, os.Getuid()))
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

	// ctx ends when Release starts: it cancels the syncs requested
	// through the socket that are still running.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	onSync   SyncFunc
	headless bool // `exocal run`: no window to bring forward

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
	in.ctx, in.cancel = context.WithCancel(context.Background())
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

// ErrHeadless is returned (wrapped) by Activate when the running ExoCal is
// the headless service (`exocal run`), which has no window to show.
var ErrHeadless = errors.New("app: the running ExoCal is the headless service (exocal run) and has no window")

// SetHeadless marks this instance as the headless service: an "activate"
// request is answered with "headless PID" instead of showing a window.
func (in *Instance) SetHeadless() {
	in.mu.Lock()
	in.headless = true
	in.mu.Unlock()
}

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
		in.cancel()         // requested syncs answer "cancelled"
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
		in.mu.Lock()
		headless := in.headless
		in.mu.Unlock()
		if headless {
			fmt.Fprintf(c, "headless %d\n", os.Getpid())
			return
		}
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
	case "sync":
		in.handleSync(c)
		return
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
	line = strings.TrimSpace(line)
	if pid, ok := strings.CutPrefix(line, "headless "); ok {
		n, _ := strconv.Atoi(pid)
		return n, fmt.Errorf("app: %s request to %s: %w", req, socket, ErrHeadless)
	}
	pid, ok := strings.CutPrefix(line, "ok ")
	if !ok {
		return 0, fmt.Errorf("app: %s request to %s: unexpected answer %q", req, socket, line)
	}
	n, _ := strconv.Atoi(pid)
	return n, nil
}

// SyncResult is one mailbox's outcome of a sync requested through the
// socket (`exocal sync --once` while ExoCal runs).
type SyncResult struct {
	Mailbox string `json:"mailbox"`
	// Events is the number of events in its ICS file.
	Events int `json:"events"`
	// Err is why it failed, one line for people; "" when it synced.
	Err string `json:"error,omitempty"`
	// Setup reports a failure fixed in the setup (registration, tenant,
	// settings) rather than a passing one: exit code 2 when all are.
	Setup bool `json:"setup,omitempty"`
}

// SyncReport is what a requested sync answers once it has finished.
type SyncReport struct {
	PID       int          `json:"pid"`        // the running instance
	ExportDir string       `json:"export_dir"` // where its ICS files are
	Results   []SyncResult `json:"results"`    // one per mailbox, in configuration order
}

// SyncFunc syncs every mailbox now and returns when that sync has
// finished (or ctx ends: the requester gave up or the instance stops).
// An error means the sync did not run (paused, not set up); it is sent
// to the requester as one sentence with its fix.
type SyncFunc func(ctx context.Context) (SyncReport, error)

// OnSync sets the function that answers "sync" requests; without one the
// instance answers that it cannot sync on request (ErrSyncUnsupported).
// fn runs on the connection's goroutine, one call per request.
func (in *Instance) OnSync(fn SyncFunc) {
	in.mu.Lock()
	in.onSync = fn
	in.mu.Unlock()
}

// ErrSyncUnsupported is returned by RequestSync when the running instance
// has no sync engine to drive (or predates the "sync" request).
var ErrSyncUnsupported = errors.New("app: the running ExoCal cannot sync on request")

// ErrNotRunning is returned (wrapped) by RequestSync when nothing answers
// on the socket: no ExoCal runs, so sync on your own.
var ErrNotRunning = errors.New("app: no running ExoCal answers")

// RemoteError is a refusal or failure sent back by the running instance,
// one sentence for people (e.g. it is paused).
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return "app: the running ExoCal: " + e.Msg }

// IsRemote reports whether err is a *RemoteError.
func IsRemote(err error) bool {
	var re *RemoteError
	return errors.As(err, &re)
}

// The "sync" exchange, one line each way after the request:
//
//	→ sync
//	← started PID            (or: error MESSAGE)
//	← done {SyncReport JSON}  (or: error MESSAGE), once the sync finished
//
// The requester closing its end cancels the wait (not the sync itself,
// which the running instance completes on its own).
func (in *Instance) handleSync(c net.Conn) {
	in.mu.Lock()
	fn := in.onSync
	in.mu.Unlock()
	if fn == nil {
		fmt.Fprintf(c, "error unsupported\n")
		return
	}
	if _, err := fmt.Fprintf(c, "started %d\n", os.Getpid()); err != nil {
		return
	}
	c.SetDeadline(time.Time{}) // the sync takes as long as it takes
	ctx, cancel := context.WithCancel(in.ctx)
	defer cancel()
	go func() { // the requester hanging up (Ctrl-C) ends the wait
		defer cancel()
		io.Copy(io.Discard, c)
	}()
	rep, err := fn(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err != nil {
		msg := sentence(err)
		if errors.Is(err, context.Canceled) && in.ctx.Err() != nil {
			msg = "ExoCal is shutting down"
		}
		fmt.Fprintf(c, "error %s\n", strings.Join(strings.Fields(msg), " "))
		return
	}
	rep.PID = os.Getpid()
	b, err := json.Marshal(rep)
	if err != nil {
		fmt.Fprintf(c, "error %s\n", err)
		return
	}
	fmt.Fprintf(c, "done %s\n", b)
}

// RequestSync asks the instance listening at socket (SocketPath() when
// "") to sync every mailbox now, and waits until that sync has finished
// or ctx ends. It returns ErrNotRunning (wrapped) when nothing listens.
// started (nil: none) is called with the instance's pid once
// it accepted the request. It returns ErrSyncUnsupported when that
// instance cannot sync on request, and a *RemoteError when it refused
// (paused, not set up) or could not finish.
func RequestSync(ctx context.Context, socket string, started func(pid int)) (SyncReport, error) {
	if socket == "" {
		socket = SocketPath()
	}
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(dctx, "unix", socket)
	if err != nil {
		return SyncReport{}, fmt.Errorf("%w at %s: %w", ErrNotRunning, socket, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) }) // Ctrl-C, timeout
	defer stop()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintf(c, "sync\n"); err != nil {
		return SyncReport{}, syncReqErr(ctx, socket, err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return SyncReport{}, syncReqErr(ctx, socket, err)
	}
	verb, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch verb {
	case "started":
	case "error":
		if rest == "unsupported" || rest == "unknown request" {
			return SyncReport{}, ErrSyncUnsupported
		}
		return SyncReport{}, &RemoteError{Msg: rest}
	default:
		return SyncReport{}, fmt.Errorf("app: sync request to %s: unexpected answer %q", socket, line)
	}
	pid, _ := strconv.Atoi(rest)
	if started != nil {
		started(pid)
	}
	c.SetDeadline(time.Time{})
	if ctx.Err() != nil { // ended between the AfterFunc and clearing the deadline
		return SyncReport{}, syncReqErr(ctx, socket, ctx.Err())
	}
	line, err = r.ReadString('\n')
	if err != nil {
		return SyncReport{}, syncReqErr(ctx, socket, err)
	}
	verb, rest, _ = strings.Cut(strings.TrimSpace(line), " ")
	switch verb {
	case "done":
		var rep SyncReport
		if err := json.Unmarshal([]byte(rest), &rep); err != nil {
			return SyncReport{}, fmt.Errorf("app: sync request to %s: bad report: %w", socket, err)
		}
		if rep.PID == 0 {
			rep.PID = pid
		}
		return rep, nil
	case "error":
		return SyncReport{}, &RemoteError{Msg: rest}
	}
	return SyncReport{}, fmt.Errorf("app: sync request to %s: unexpected answer %q", socket, line)
}

// syncReqErr prefers ctx's error (the caller gave up) over the deadline
// it caused on the connection.
func syncReqErr(ctx context.Context, socket string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("app: sync request to %s: %w", socket, context.Cause(ctx))
	}
	return fmt.Errorf("app: sync request to %s: %w", socket, err)
}
