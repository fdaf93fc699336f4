// Package ui is ExoCal's desktop shell: the Fyne app, the tray icon and menu
// (ui/tray), the status window (ui/status) and the settings window
// (ui/settings), all driven by the app
// core through the Core interface. One goroutine turns Status snapshots into
// widget changes, always through fyne.Do. Only ui/ and assets/ import Fyne.
package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/godbus/dbus/v5"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/assets"
	"github.com/exocal/exocal/ui/settings"
	"github.com/exocal/exocal/ui/status"
	"github.com/exocal/exocal/ui/tray"
)

// App metadata; FyneApp.toml says the same (a test keeps them in step).
const (
	AppID   = "com.exocal.app"
	AppName = "ExoCal"
	Version = "0.1.0"
	Build   = 1
)

// Core is what the shell needs from the app core; *app.App satisfies it.
type Core interface {
	settings.Store
	// Subscribe returns a channel of coalesced Status snapshots (the latest
	// first) and a func that ends the subscription.
	Subscribe() (<-chan app.Status, func())
	SyncNow()
	Pause()
	Resume()
	// OnActivate registers fn to run when a second launch asks the running
	// instance to show its settings window.
	OnActivate(fn func())
}

// Options tune Run.
type Options struct {
	ShowSettings bool // open the settings window at start
	// ShowStatus opens the status window at start (`exocal demo`). It also
	// opens when no tray host (org.kde.StatusNotifierWatcher) is on the
	// session bus, as on GNOME without an extension: the tray icon would
	// be seen nowhere.
	ShowStatus bool
	// Notifier, when set, is bound to the Fyne app for the run, so that
	// the sync engine's desktop notifications reach the desktop.
	Notifier *Notifier
	Log      *slog.Logger // nil: slog.Default()
}

// Notifier sends desktop notifications through the Fyne app while Run
// runs. One sent before Run has started the app (the engine can fail
// before the first window appears) waits and is shown then; after Run
// returns they are dropped. Notify may be called from any goroutine.
type Notifier struct {
	mu      sync.Mutex
	app     fyne.App
	ended   bool
	pending []*fyne.Notification
}

// maxPending bounds the notifications kept until the app starts.
const maxPending = 3

// Notify shows a desktop notification.
func (n *Notifier) Notify(title, body string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	msg := fyne.NewNotification(title, body)
	switch {
	case n.ended:
	case n.app == nil:
		n.pending = append(n.pending, msg)
		if len(n.pending) > maxPending {
			n.pending = n.pending[1:]
		}
	default:
		a := n.app
		fyne.Do(func() { a.SendNotification(msg) })
	}
}

// bind starts sending through a (nil: Run has ended; drop from now on).
func (n *Notifier) bind(a fyne.App) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.app, n.ended = a, a == nil
	if a == nil {
		n.pending = nil
		return
	}
	for _, msg := range n.pending {
		fyne.Do(func() { a.SendNotification(msg) })
	}
	n.pending = nil
}

// ErrNoDisplay is returned by Run when there is no X display to open a window on.
var ErrNoDisplay = errors.New("ui: DISPLAY is not set, so ExoCal cannot open its window; start it from a desktop session, or use 'exocal run' for a headless sync")

// CheckDisplay returns ErrNoDisplay when there is no X display to open a
// window on (opening one would panic).
func CheckDisplay() error {
	if os.Getenv("DISPLAY") == "" {
		return ErrNoDisplay
	}
	return nil
}

// refresh is how often the tray's "· 2 min ago" is brought up to date.
const refresh = 30 * time.Second

// Run shows the tray (and the settings window when the core is not
// configured or opts.ShowSettings is set) and returns when the user quits.
func Run(core Core, opts Options) error {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	if err := CheckDisplay(); err != nil {
		return err
	}
	fyneapp.SetMetadata(fyne.AppMetadata{
		ID: AppID, Name: AppName, Version: Version, Build: Build, Icon: assets.AppIcon,
		Migrations: map[string]bool{"fyneDo": true},
	})
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.AppIcon)

	var desk desktop.App
	hosted, busErr := sessionBus()
	if busErr != nil {
		log.Warn("ExoCal runs without a tray icon because there is no D-Bus session bus; closing the settings window quits ExoCal", "err", busErr)
	} else if d, ok := a.(desktop.App); ok {
		desk = d
		if !hosted {
			log.Info("no tray host (org.kde.StatusNotifierWatcher) on the session bus, so the status window stands in for the tray; closing it quits ExoCal")
		}
	} else {
		hosted = false
		log.Warn("ExoCal runs without a tray icon: this platform has none; closing the settings window quits ExoCal")
	}

	// Fyne catches SIGINT/SIGTERM itself, but only from a goroutine that
	// may not have run yet when the window appears (a signal then would
	// kill the process without cleanup), and without the watchdog of quit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			log.Info("quitting on a signal")
			fyne.Do(quit(a, log))
		}
	}()

	s := newShell(a, desk, hosted, core, log)
	stop := s.start(opts.ShowSettings || desk == nil, opts.ShowStatus || !hosted)
	if busErr == nil { // Fyne sends notifications over the session bus, and would autolaunch one
		opts.Notifier.bind(a)
	}
	a.Run()
	opts.Notifier.bind(nil)
	stop()
	return nil
}

// watcherName is the tray host's bus name (StatusNotifierItem spec).
const watcherName = "org.kde.StatusNotifierWatcher"

// sessionBus reports whether a D-Bus session bus answers (an error when
// not; fyne.io/systray needs one: it panics on Quit without it) and whether
// a tray host owns org.kde.StatusNotifierWatcher on it. It never
// autolaunches a bus (dbus-launch would leave a daemon behind that no tray
// host watches).
func sessionBus() (hosted bool, err error) {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false, fmt.Errorf("ui: find the session bus: %w", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false, fmt.Errorf("ui: authenticate to the session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		return false, fmt.Errorf("ui: greet the session bus: %w", err)
	}
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&hosted); err != nil {
		return false, nil // a bus that cannot say: no tray host to rely on
	}
	return hosted, nil
}

// shell ties the core to the widgets.
type shell struct {
	a        fyne.App
	core     Core
	log      *slog.Logger
	settings *settings.Window
	status   *status.Window
	tray     *tray.Tray // nil: no tray
	now      func() time.Time

	first    bool          // no snapshot handled yet
	loopDone chan struct{} // closed when loop returns (tests wait for it; Run cannot: the loop may be stuck in fyne.DoAndWait once the app has quit)
}

// newShell builds the windows and the tray (desk nil: none; hosted: a
// tray host shows it). Call it on the Fyne goroutine (before a.Run, or in
// fyne.Do).
func newShell(a fyne.App, desk desktop.App, hosted bool, core Core, log *slog.Logger) *shell {
	s := &shell{a: a, core: core, log: log, now: time.Now, first: true}
	var onHide, onCloseStatus func()
	if desk == nil {
		onHide = quit(a, log) // nothing could bring the window back
	}
	if desk == nil || !hosted {
		onCloseStatus = quit(a, log) // no tray icon anyone sees could bring it back
	}
	s.settings = settings.NewWindow(a, core, onHide)
	act := tray.Actions{
		SyncNow:    core.SyncNow,
		Pause:      core.Pause,
		Resume:     core.Resume,
		Settings:   s.settings.Show,
		OpenFolder: s.openFolder,
		Quit:       quit(a, log),
	}
	s.status = status.New(a, act, onCloseStatus)
	act.ShowStatus = s.status.Show
	if desk != nil {
		s.tray = tray.New(desk, act)
		// Until the first snapshot arrives the tray says "not set up".
		s.tray.Show(tray.Build(app.Status{}, s.now()))
	}
	return s
}

// start subscribes to the core and returns the func that stops the updates.
func (s *shell) start(showSettings, showStatus bool) (stop func()) {
	if showStatus {
		s.status.Show()
	}
	if showSettings {
		s.settings.Show()
	}
	s.core.OnActivate(func() { fyne.Do(s.settings.Show) })
	ch, cancel := s.core.Subscribe()
	done := make(chan struct{})
	s.loopDone = make(chan struct{})
	go func() {
		defer close(s.loopDone)
		s.loop(ch, done)
	}()
	return func() {
		close(done)
		cancel()
	}
}

// loop is the one goroutine that turns snapshots into widget changes.
func (s *shell) loop(ch <-chan app.Status, done <-chan struct{}) {
	tick := time.NewTicker(refresh)
	defer tick.Stop()
	var last app.Status
	have := false
	for {
		select {
		case st, ok := <-ch:
			if !ok {
				return
			}
			last, have = st, true
		case <-tick.C:
			if !have {
				continue
			}
		case <-done:
			return
		}
		st := last
		// Waiting for the widgets to be updated lets the core's coalescing
		// channel skip the snapshots that arrive meanwhile, so a fast sync
		// of many mailboxes does not queue one menu rebuild per mailbox.
		fyne.DoAndWait(func() { s.handle(st) })
	}
}

// handle applies one snapshot; on the Fyne goroutine.
func (s *shell) handle(st app.Status) {
	if s.first {
		s.first = false
		if st.State == app.StateNotConfigured {
			s.settings.Show()
		}
	}
	if s.tray != nil {
		s.tray.Show(tray.Build(st, s.now()))
	}
	s.status.Update(status.Build(st, s.now()))
}

// quitGrace is how long quitting may take before the watchdog ends the process.
const quitGrace = 5 * time.Second

// quit returns the func that ends the app: the driver's Quit, as Fyne's own
// tray Quit and signal handler use. (fyne.App.Quit closes every window
// first, and glfw then crashes on a pointer event still queued for a
// closed window: fyne 2.7 processMouseMoved calls SetInputMode on a nil
// view.) A watchdog ends the process if Fyne's shutdown hangs, as fyne 2.7.1
// can when a lifecycle event races the draining of its main-thread queue
// (Lifecycle.WaitForEvents then waits forever); settings are saved
// atomically and a dead instance's socket is taken over by the next start.
func quit(a fyne.App, log *slog.Logger) func() {
	return func() {
		time.AfterFunc(quitGrace, func() {
			log.Error("the GUI toolkit did not finish quitting; ending the process", "after", quitGrace)
			os.Exit(0)
		})
		a.Driver().Quit()
	}
}

func (s *shell) openFolder(dir string) {
	if err := s.a.OpenURL(&url.URL{Scheme: "file", Path: dir}); err != nil {
		s.log.Error("could not open the export folder", "dir", dir, "err", err)
	}
}
