// Package app is ExoCal's lifecycle core: it loads the settings and the
// registration, publishes a Status for the tray, saves what the settings
// window edits (registration to the keyring, the rest to config.json), makes
// sure only one instance runs, and (later) drives the sync engine. It knows
// no GUI toolkit.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/desktop"
	"github.com/exocal/exocal/app/secrets"
)

// Engine is the sync engine as the App drives it (nil until it exists).
type Engine interface {
	Run(ctx context.Context) error // until ctx ends
	SyncNow()                      // kick a sync of every mailbox
	Reload()                       // settings or registration changed
}

// Options configure New.
type Options struct {
	ConfigPath string        // config.Path() when ""
	Secrets    secrets.Store // required; secrets.Default() in production
	Profile    string        // secrets.DefaultProfile when ""
	Logger     *slog.Logger  // discarded when nil
	Engine     Engine        // optional
	// SocketPath is the single-instance socket (SocketPath() when "").
	SocketPath string
	// Instance, when set, is an already acquired single-instance claim that
	// Run takes over (and releases); when nil Run acquires one.
	Instance *Instance
	// KeyringRetry is how often Run retries a keyring that could not be
	// read (locked, timed out, not yet started), so that unlocking it later
	// is noticed without a restart; 20s when zero.
	KeyringRetry time.Duration
	// Now is the clock for Status.At (time.Now when nil).
	Now func() time.Time
	// Desktop is where the login entry lives, for the settings window's
	// "Start at login" (see desktop_glue.go); nil hides that choice (the
	// demo, tests).
	Desktop *desktop.Paths
}

// DefaultOptions returns the production options: config.Path(), the OS
// keyring under the EXOCAL_* environment overrides (the settings file's
// KeyringProfile), the XDG folders of the login entry.
func DefaultOptions(logger *slog.Logger) (Options, error) {
	p, err := config.Path()
	if err != nil {
		return Options{}, err
	}
	opts := Options{ConfigPath: p, Secrets: secrets.Default(), Profile: KeyringProfile(p), Logger: logger}
	if dp, err := desktop.DefaultPaths(); err == nil {
		opts.Desktop = &dp
	}
	return opts, nil
}

// App is the core the UI and the headless commands drive.
type App struct {
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	settings   config.Settings
	reg        regState
	paused     bool
	engineSt   *Status // last status the engine published, if any
	status     Status
	subs       map[chan Status]struct{}
	onActivate func()
}

type regState struct {
	tenantID, clientID string
	secretStored       bool
	err                error
}

const storeTimeout = 10 * time.Second

// New loads the settings and the registration. A missing config file means
// defaults; an unreadable keyring is not an error here but shows in Status.
func New(opts Options) (*App, error) {
	if opts.Secrets == nil {
		return nil, errors.New("app: Options.Secrets is nil")
	}
	if opts.ConfigPath == "" {
		p, err := config.Path()
		if err != nil {
			return nil, err
		}
		opts.ConfigPath = p
	}
	if opts.Profile == "" {
		opts.Profile = secrets.DefaultProfile
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.KeyringRetry <= 0 {
		opts.KeyringRetry = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s, err := config.Load(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	a := &App{opts: opts, log: opts.Logger, settings: s, subs: map[chan Status]struct{}{}}
	a.reg = a.loadRegistration()
	a.mu.Lock()
	a.status = a.computeLocked()
	a.mu.Unlock()
	a.log.Info("app: loaded settings", "path", opts.ConfigPath, "state", a.status.State.String(), "mailboxes", len(s.EffectiveMailboxes()))
	return a, nil
}

func (a *App) loadRegistration() regState {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	r, err := a.opts.Secrets.Get(ctx, a.opts.Profile)
	if errors.Is(err, secrets.ErrNotFound) {
		return regState{}
	}
	if err != nil {
		a.log.Warn("app: registration unavailable", "err", err)
		return regState{err: err}
	}
	return regState{tenantID: r.TenantID, clientID: r.ClientID, secretStored: r.ClientSecret != "" || r.ClientCertificate != ""}
}

// Settings returns a copy of the current settings.
func (a *App) Settings() config.Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.settings
	s.Mailboxes = append([]string{}, s.Mailboxes...)
	return s
}

// Registration returns the tenant and client IDs and whether a secret is
// available; never the secret itself.
func (a *App) Registration() (tenantID, clientID string, secretStored bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reg.tenantID, a.reg.clientID, a.reg.secretStored, a.reg.err
}

// baseStore is where registrations are written: the store under any
// environment override, so that EXOCAL_* values are never persisted.
func (a *App) baseStore() secrets.Store {
	if e, ok := secrets.AsEnv(a.opts.Secrets); ok && e.Base != nil {
		return e.Base
	}
	return a.opts.Secrets
}

// Save validates s and the registration and stores them: the registration
// in the keyring, then the settings atomically in config.json. secret ""
// keeps the stored secret. On any validation error it returns config.Errors
// listing every bad field and saves nothing. Afterwards it publishes the new
// Status and tells the engine to reload.
func (a *App) Save(s config.Settings, tenantID, clientID, secret string) error {
	tenantID = strings.TrimSpace(tenantID)
	clientID = strings.TrimSpace(clientID)
	secret, _ = secrets.NormalizeSecret(secret)

	_, _, stored, _ := a.Registration()
	var es config.Errors
	if err := s.Validate(); err != nil {
		es = append(es, config.AsErrors(err)...)
	}
	wantReg := !(s.SyncType == config.SyncDisabled && tenantID == "" && clientID == "" && secret == "")
	if wantReg {
		es = append(es, config.ValidateRegistration(tenantID, clientID)...)
		if secret == "" && !stored {
			es = append(es, config.FieldError{Key: "client_secret", Label: config.Labels["client_secret"],
				Message: "is empty; paste the secret's Value from Entra > App registrations > your app > Certificates & secrets."})
		}
	}
	if len(es) > 0 {
		return es
	}

	if wantReg {
		if err := a.writeRegistration(tenantID, clientID, secret); err != nil {
			return err
		}
	}
	if err := config.Save(a.opts.ConfigPath, s); err != nil {
		return err
	}
	a.log.Info("app: settings saved", "path", a.opts.ConfigPath, "mailboxes", len(s.EffectiveMailboxes()), "secret_changed", secret != "")

	reg := a.loadRegistration()
	a.mu.Lock()
	a.settings = s
	a.reg = reg
	a.publishLocked()
	eng := a.opts.Engine
	a.mu.Unlock()
	if eng != nil {
		eng.Reload()
	}
	return nil
}

// writeRegistration updates the keyring entry (skipped when nothing changes).
func (a *App) writeRegistration(tenantID, clientID, secret string) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	base := a.baseStore()
	old, err := base.Get(ctx, a.opts.Profile)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		// Without a readable keyring we cannot keep the old secret; with a
		// new one we can still try to write.
		if secret == "" {
			if a.envSupplies(tenantID, clientID) {
				return nil // the environment provides everything; nothing to store
			}
			return err
		}
	}
	// The form shows what EXOCAL_* variables supply; those values are read,
	// never written: the keyring keeps its own for them.
	if e, ok := secrets.AsEnv(a.opts.Secrets); ok {
		get := e.Getenv
		if get == nil {
			get = os.Getenv
		}
		if v := strings.TrimSpace(get(secrets.EnvTenantID)); v != "" && v == tenantID {
			tenantID = old.TenantID
		}
		if v := strings.TrimSpace(get(secrets.EnvClientID)); v != "" && v == clientID {
			clientID = old.ClientID
		}
	}
	// Keep a stored certificate: the settings window does not edit it.
	r := secrets.Registration{TenantID: tenantID, ClientID: clientID, ClientSecret: old.ClientSecret, ClientCertificate: old.ClientCertificate}
	if secret != "" {
		r.ClientSecret = secret
	}
	if r == old || r == (secrets.Registration{}) {
		return nil // nothing new to keep
	}
	return base.Set(ctx, a.opts.Profile, r)
}

// envSupplies reports whether the current (merged) registration already
// equals what is being saved, as when EXOCAL_* variables supply it.
func (a *App) envSupplies(tenantID, clientID string) bool {
	t, c, stored, err := a.Registration()
	return err == nil && stored && t == tenantID && c == clientID
}

func (a *App) retryRegistration(ctx context.Context) {
	t := time.NewTicker(a.opts.KeyringRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		failing := a.reg.err != nil
		a.mu.Unlock()
		if !failing {
			continue
		}
		reg := a.loadRegistration()
		if reg.err != nil {
			continue
		}
		a.mu.Lock()
		a.reg = reg
		a.publishLocked()
		eng := a.opts.Engine
		a.mu.Unlock()
		a.log.Info("app: keyring readable again")
		if eng != nil {
			eng.Reload()
		}
	}
}

// Reload re-reads config.json and the registration (after `exocal config
// set` or `exocal secret set` changed them), publishes the new Status and
// tells the engine. When the file cannot be read the old settings stay.
func (a *App) Reload() error {
	s, err := config.Load(a.opts.ConfigPath)
	if err != nil {
		return err
	}
	reg := a.loadRegistration()
	a.mu.Lock()
	a.settings = s
	a.reg = reg
	a.publishLocked()
	eng := a.opts.Engine
	a.mu.Unlock()
	a.log.Info("app: settings reloaded", "path", a.opts.ConfigPath)
	if eng != nil {
		eng.Reload()
	}
	return nil
}

// Subscribe returns a channel that always holds the latest Status (it is
// buffered(1) and coalesced: a slow reader skips intermediate snapshots,
// the publisher never blocks) and a function that unsubscribes and closes it.
// The current Status is delivered at once.
func (a *App) Subscribe() (<-chan Status, func()) {
	ch := make(chan Status, 1)
	a.mu.Lock()
	a.subs[ch] = struct{}{}
	ch <- a.status
	a.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			a.mu.Lock()
			delete(a.subs, ch)
			close(ch)
			a.mu.Unlock()
		})
	}
}

// Status returns the latest snapshot.
func (a *App) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// Publish is how the sync engine reports its state. While paused, or while
// ExoCal is not set up, the App's own state takes precedence.
func (a *App) Publish(st Status) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.engineSt = &st
	a.publishLocked()
}

func (a *App) publishLocked() {
	st := a.computeLocked()
	a.status = st
	for ch := range a.subs {
		select {
		case ch <- st:
		default:
			select { // replace the unread older snapshot
			case <-ch:
			default:
			}
			select {
			case ch <- st:
			default:
			}
		}
	}
}

func (a *App) computeLocked() Status {
	s := a.settings
	st := Status{ExportDir: s.ExportDir}
	if a.engineSt != nil {
		st = *a.engineSt
		st.Mailboxes = append([]MailboxStatus(nil), st.Mailboxes...)
		st.ExportDir = s.ExportDir
	}
	st.At = a.opts.Now()
	if st.Mailboxes == nil {
		for _, m := range s.EffectiveMailboxes() {
			st.Mailboxes = append(st.Mailboxes, MailboxStatus{Address: m, State: StateIdle})
		}
	}
	complete := a.reg.tenantID != "" && a.reg.clientID != "" && a.reg.secretStored
	switch {
	case a.reg.err != nil:
		st.State, st.Err = StateError, sentence(a.reg.err)
	case s.SyncType == config.SyncDisabled:
		st.State, st.Err = StateNotConfigured, "Sync is disabled — choose a Sync-Type in Settings."
	case strings.TrimSpace(s.User) == "" || !complete:
		st.State, st.Err = StateNotConfigured, "Not set up — open Settings."
	case a.paused:
		st.State, st.Err = StatePaused, ""
	case a.engineSt == nil:
		st.State, st.Err = StateIdle, ""
	}
	if st.State == StateNotConfigured || st.State == StatePaused || a.reg.err != nil {
		for i := range st.Mailboxes {
			st.Mailboxes[i].State = st.State
		}
	}
	return st
}

// sentence turns "pkg: what; fix." into "What; fix." for people.
func sentence(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && !strings.ContainsAny(msg[:i], " ") {
		msg = msg[i+2:]
	}
	r, n := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[n:]
}

// SyncNow asks the engine for an immediate sync (ignored while paused).
func (a *App) SyncNow() {
	a.mu.Lock()
	eng, paused := a.opts.Engine, a.paused
	a.mu.Unlock()
	if eng == nil || paused {
		a.log.Debug("app: sync now ignored", "paused", paused, "engine", eng != nil)
		return
	}
	eng.SyncNow()
}

// Pause stops syncing until Resume.
func (a *App) Pause() { a.setPaused(true) }

// Resume undoes Pause.
func (a *App) Resume() { a.setPaused(false) }

func (a *App) setPaused(p bool) {
	a.mu.Lock()
	changed := a.paused != p
	a.paused = p
	if changed {
		a.publishLocked()
	}
	eng := a.opts.Engine
	a.mu.Unlock()
	if changed {
		a.log.Info("app: paused", "paused", p)
		if eng != nil {
			eng.Reload()
		}
	}
}

// Paused reports whether Pause is in effect (for the engine).
func (a *App) Paused() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paused
}

// OnActivate sets the function called when a second launch asks this
// instance to show its settings window. It is called on Run's goroutine.
func (a *App) OnActivate(fn func()) {
	a.mu.Lock()
	a.onActivate = fn
	a.mu.Unlock()
}

// Run holds the single-instance claim (acquiring it unless Options.Instance
// is set), answers activation requests, and runs the engine, until ctx
// ends. When another instance runs it returns an *AlreadyRunningError.
func (a *App) Run(ctx context.Context) error {
	in := a.opts.Instance
	if in == nil {
		var err error
		in, err = Acquire(ctx, a.opts.SocketPath)
		if err != nil {
			return err
		}
	}
	defer in.Release()
	a.log.Info("app: running", "socket", in.Path())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.retryRegistration(ctx)
	engineDone := make(chan error, 1)
	if a.opts.Engine != nil {
		go func() { engineDone <- a.opts.Engine.Run(ctx) }()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-engineDone:
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("app: sync engine stopped: %w", err)
			}
			return nil
		case <-in.Reloads():
			if err := a.Reload(); err != nil {
				a.log.Warn("app: reload requested, but the settings cannot be read; keeping the old ones", "err", err)
			}
		case <-in.Activations():
			a.mu.Lock()
			fn := a.onActivate
			a.mu.Unlock()
			a.log.Info("app: activated by a second launch")
			if fn != nil {
				fn()
			}
		}
	}
}
