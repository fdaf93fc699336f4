package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/store"
)

// syncCore is what syncService needs from the app core (*app.App).
type syncCore interface {
	Settings() config.Settings
	Paused() bool
	Publish(app.Status)
}

// syncService implements app.Engine: it builds the backend from the
// settings and the registration, runs the sync engine, applies settings
// changes (a new registration or endpoint rebuilds the backend; the rest is
// an engine.Reload), follows pause/resume, and publishes the engine's
// Status into the app core as an app.Status.
type syncService struct {
	core    syncCore
	secrets secrets.Store
	profile string
	log     *slog.Logger
	// notify (nil: none) shows a desktop notification; it is called from
	// Run's goroutine when the state turns to error.
	notify func(title, body string)
	kick   chan struct{}
	now    chan struct{}

	settled app.State // the last published state other than syncing/paused
}

func newSyncService(sec secrets.Store, log *slog.Logger) *syncService {
	return &syncService{secrets: sec, profile: secrets.DefaultProfile, log: log,
		kick: make(chan struct{}, 1), now: make(chan struct{}, 1)}
}

// SyncNow implements app.Engine.
func (s *syncService) SyncNow() { kickChan(s.now) }

// Reload implements app.Engine: settings, registration or pause changed.
func (s *syncService) Reload() { kickChan(s.kick) }

func kickChan(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (s *syncService) wiring(st config.Settings) (backend.Settings, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := s.secrets.Get(ctx, s.profile)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return backend.Settings{}, err
	}
	if st.SyncType != config.SyncEWS || !reg.Complete() || len(st.EffectiveMailboxes()) == 0 {
		return backend.Settings{}, errNotConfigured
	}
	bs := backendSettings(st, reg, s.log)
	if st.EWSDebug {
		bs.DebugLog, _ = check.DefaultDebugLogPath() // "" (no log) without a cache dir
	}
	return bs, nil
}

var errNotConfigured = errors.New("not configured")

// Run implements app.Engine.
func (s *syncService) Run(ctx context.Context) error {
	cache, err := os.UserCacheDir()
	if err != nil {
		return fmt.Errorf("sync: no user cache dir (set HOME or XDG_CACHE_HOME): %w", err)
	}
	st, err := store.Open(filepath.Join(cache, "exocal", "state.db"), 5*time.Second)
	if err != nil {
		return err
	}
	defer st.Close()
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		settings := s.core.Settings()
		bs, err := s.wiring(settings)
		if err != nil {
			// The app shows "not set up" / the keyring error itself; wait for a change.
			if !errors.Is(err, errNotConfigured) {
				s.log.Warn("sync: registration unreadable", "err", err)
			}
			if !s.wait(ctx, 0) {
				return nil
			}
			continue
		}
		bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		b, err := backend.New(bctx, bs)
		cancel()
		if err != nil {
			backoff = min(max(2*backoff, 5*time.Second), 5*time.Minute)
			s.log.Warn("sync: setup failed", "err", err, "retry_in", backoff)
			st := app.Status{State: app.StateError}
			st.Err, st.Fix = s.explain(err, settings, bs, "")
			s.publish(st)
			if !s.wait(ctx, backoff) {
				return nil
			}
			continue
		}
		backoff = 0
		s.log.Info("sync: backend ready", "ews_url", b.EWSURL, "found_by", b.Discovery)
		rebuild := s.serve(ctx, b, st, settings, bs)
		b.Close()
		if !rebuild {
			return nil
		}
	}
	return nil
}

// wait blocks until a kick (true), ctx ends (false) or d passes (true; d 0 = no timeout).
func (s *syncService) wait(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		timeout = time.After(d)
	}
	select {
	case <-ctx.Done():
		return false
	case <-s.kick:
		return true
	case <-timeout:
		return true
	}
}

// serve runs one engine until ctx ends (false) or the backend must be
// rebuilt (true).
func (s *syncService) serve(ctx context.Context, b *backend.Backend, st *store.Store, settings config.Settings, bs backend.Settings) bool {
	eng := engine.New(engineConfig(settings), engine.Deps{
		Source: b.Source, Watcher: b.Watcher, Store: st, Sink: backend.ICSSink{}, Logger: s.log, // publish notifies, in explained words
	})
	if s.core.Paused() {
		eng.Pause()
	}
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		eng.Serve(ectx)
	}()
	statuses, unsub := eng.Subscribe()
	defer func() {
		cancel()
		<-done
		unsub()
	}()
	for {
		select {
		case <-ctx.Done():
			return false
		case es := <-statuses:
			s.publish(toAppStatus(es, func(err error, mailbox string) (string, string) {
				return s.explain(err, settings, bs, mailbox)
			}))
		case <-s.now:
			eng.SyncNow()
		case <-s.kick:
			next := s.core.Settings()
			nbs, err := s.wiring(next)
			if err != nil || !reflect.DeepEqual(stripLogger(nbs), stripLogger(bs)) {
				return true // registration or endpoint changed: rebuild
			}
			eng.Reload(engineConfig(next))
			if s.core.Paused() {
				eng.Pause()
			} else {
				eng.Resume()
			}
		}
	}
}

func stripLogger(b backend.Settings) backend.Settings {
	b.Logger, b.HTTPClient = nil, nil
	return b
}

// publish hands st to the app core, and sends a desktop notification
// when the settled state (syncing and paused are no verdict) turns to
// error: once per transition, however often the error is republished.
func (s *syncService) publish(st app.Status) {
	st = withExpiry(st, s.core.Settings().SecretExpiry(), time.Now())
	s.core.Publish(st)
	if st.State == app.StateSyncing || st.State == app.StatePaused {
		return
	}
	prev := s.settled
	s.settled = st.State
	if st.State != app.StateError || prev == app.StateError || s.notify == nil {
		return
	}
	body := strings.TrimSpace(st.Err + " " + st.Fix)
	if body == "" {
		body = "Open Settings to check the setup."
	}
	s.notify("ExoCal: syncing stopped", body)
}

// withExpiry turns an idle status into a warning when the client secret's
// noted expiry date is near or past (check.ExpiryNotice: from 14 days
// before it). The words come as finding and fix, like an explained error:
// the tray says "The client secret expires on … — open Settings to fix".
// Errors and other warnings keep their own, more pressing, reason.
func withExpiry(st app.Status, expires, now time.Time) app.Status {
	warn, msg := check.ExpiryNoticeFor(now, expires, check.SecretSourceOf(nil))
	if !warn || st.State != app.StateIdle {
		return st
	}
	st.State = app.StateWarning
	st.Err, st.Fix = msg, ""
	if finding, fix, ok := strings.Cut(msg, ": "); ok {
		r, n := utf8.DecodeRuneInString(fix)
		st.Err, st.Fix = finding+".", string(unicode.ToUpper(r))+fix[n:]
	}
	return st
}

// explain is the tray's words for err: `exocal check`'s finding, and its
// fix when the user must change the settings, the registration or the
// tenant (Explanation.Setup; the tray then says "— open Settings to fix");
// other fixes are part of the sentence. An error the check cannot name is
// given without package prefixes.
func (s *syncService) explain(err error, st config.Settings, bs backend.Settings, mailbox string) (words, fix string) {
	ex := check.Explain(err, st, bs.TenantID, bs.ClientID, mailbox)
	return explanationWords(ex, err)
}

func explanationWords(ex check.Explanation, err error) (words, fix string) {
	if ex.Finding == "" {
		return sentenceOf(err), ""
	}
	finding, fix := oneLine(ex.Finding), oneLine(ex.Fix)
	if ex.Setup && fix != "" {
		return finding, fix
	}
	return strings.TrimSpace(finding + " " + fix), ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// toAppStatus converts the engine's Status to the tray's; words gives an
// error's sentence and fix (nil: sentenceOf, no fix).
func toAppStatus(es engine.Status, words func(err error, mailbox string) (string, string)) app.Status {
	if words == nil {
		words = func(err error, _ string) (string, string) { return sentenceOf(err), "" }
	}
	st := app.Status{LastSync: es.LastSync, Done: es.Done, Total: es.Total, ExportDir: es.ExportDir, At: es.At,
		Streaming: es.Streaming, StreamingDown: es.StreamingDown, PollInterval: es.PollInterval}
	st.State = map[engine.State]app.State{
		engine.StateStarting: app.StateSyncing, engine.StateIdle: app.StateIdle, engine.StateSyncing: app.StateSyncing,
		engine.StateWarning: app.StateWarning, engine.StateError: app.StateError, engine.StatePaused: app.StatePaused,
	}[es.State]
	if es.Err != nil {
		st.Err, st.Fix = words(es.Err, "")
	}
	if es.StreamErr != nil {
		st.StreamErr, st.StreamFix = words(es.StreamErr, "")
	}
	for _, m := range es.Mailboxes {
		ms := app.MailboxStatus{Address: m.Address, LastSync: m.LastSuccess, Attempted: m.Attempted, Items: m.Exported, Streaming: m.Streaming}
		switch m.State {
		case engine.MailboxIdle:
			ms.State = app.StateIdle
		case engine.MailboxError:
			ms.State = app.StateError
		default:
			ms.State = app.StateSyncing
		}
		if m.Err != nil {
			ms.Err, ms.Fix = words(m.Err, m.Address)
		}
		st.Mailboxes = append(st.Mailboxes, ms)
	}
	return st
}

// sentenceOf drops the "pkg: " prefixes of a wrapped error chain's message
// and capitalises it, for the tray.
func sentenceOf(err error) string {
	msg := err.Error()
	for {
		i := strings.Index(msg, ": ")
		if i <= 0 || strings.ContainsAny(msg[:i], " ") {
			break
		}
		msg = msg[i+2:]
	}
	r, n := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[n:]
}
