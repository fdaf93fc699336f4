// Package engine keeps every configured mailbox's ICS file in step with its
// calendar: one Serve(ctx) select loop (syncthing lib/model/folder.go
// style) with buffered kick channels (sync now, reload, pause, mailbox
// changed), one timer (poll, retries, debounce), capped doubling backoff
// per mailbox, and a bounded pool of workers across mailboxes.
//
// A sync of one mailbox pages through calendar.Source.SyncPage from the
// stored state until Done, applying each page to the store in one
// transaction (sync/store); on calendar.ErrInvalidSyncState it resets the
// mailbox and resyncs from scratch (the old items stay visible until the
// resync completes). It then renders the cached events that touch the
// sync window through a Sink, which rewrites the file only when it changed.
//
// Privacy "free-busy" keeps details off the machine: the engine asks the
// Source for busy blocks only (FreeBusySource) and caches nothing else.
// The store records the setting a mailbox's items were fetched under; a
// mailbox whose cache was filled under another setting is resynced in
// full, and once items with details are dropped the store is compacted so
// that their bytes leave the file.
//
// A calendar.Watcher (streaming notifications) tells which mailbox changed;
// the engine syncs just that one, debounced. Polling stays as the safety
// net (stretched to StreamingPollInterval), and as the fallback at
// PollInterval while the watcher is failing (it is retried with backoff).
// A HealthWatcher (ews.Watcher) says per mailbox whether its stream is
// live, so a streaming outage the watcher rides out by itself still
// brings those mailboxes back to PollInterval, and syncs them once when
// their stream returns.
//
// Nothing here reads config files or the keyring: values come in Config
// and Deps. Status is published by subscription (see Subscribe).
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/store"
)

// Defaults for zero Config fields.
const (
	// DefaultConcurrency is the number of mailboxes synced at once. A
	// mailbox's full sync is a chain of dependent round trips (SyncFolderItems,
	// then GetItem batches), so the wall time of a round is about
	// requests × RTT ÷ concurrency. Against Exchange Online (RTT 100–300 ms
	// from a desktop) 8 workers sync 200 mailboxes × 2–3 requests in
	// 200·2.5·0.2 s ÷ 8 ≈ 12 s, while staying far below EWS's per-app
	// concurrency budget (EWSMaxConcurrency 27) and leaving throttling
	// headroom for other tools using the same app registration.
	DefaultConcurrency = 8
	// MaxConcurrency caps Config.Concurrency.
	MaxConcurrency      = 64
	DefaultPollInterval = 5 * time.Minute
	// StreamingPollFactor stretches the poll while streaming is up.
	StreamingPollFactor = 12
	DefaultDebounce     = 1500 * time.Millisecond
	DefaultBackoffMin   = 10 * time.Second
	DefaultBackoffMax   = 10 * time.Minute
	DefaultPastDays     = 30
	DefaultFutureDays   = 365
	// maxPages guards against a source that never reports Done.
	maxPages = 100000
)

// Config is what the engine does; the app maps its settings onto it.
type Config struct {
	Mailboxes []string
	ExportDir string
	// The sync window, in whole days around today (local midnight).
	WindowPastDays, WindowFutureDays int
	// PollInterval is how often every mailbox is polled while streaming is
	// down or off. StreamingPollInterval is the safety-net poll while the
	// watcher is up (0: StreamingPollFactor × PollInterval, at most an hour
	// or PollInterval): with streaming a quiet poll interval costs no request.
	PollInterval, StreamingPollInterval time.Duration
	// Concurrency bounds the mailboxes synced at once (0: DefaultConcurrency).
	Concurrency int
	// Privacy is passed to the Sink ("full" or "free-busy"); "free-busy"
	// also keeps details out of the fetch and the cache (see the package
	// doc).
	Privacy string
	// Debounce delays a sync after a change notification, so a burst of
	// notifications costs one sync (0: DefaultDebounce).
	Debounce time.Duration
	// BackoffMin and BackoffMax bound the capped doubling retry delay of a
	// failing mailbox or watcher (0: the defaults).
	BackoffMin, BackoffMax time.Duration
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	c.Concurrency = min(c.Concurrency, MaxConcurrency)
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.StreamingPollInterval <= 0 {
		// Stretched, but not beyond an hour (or PollInterval if longer).
		c.StreamingPollInterval = min(StreamingPollFactor*c.PollInterval, max(time.Hour, c.PollInterval))
	}
	if c.Debounce <= 0 {
		c.Debounce = DefaultDebounce
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = DefaultBackoffMin
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	c.BackoffMax = max(c.BackoffMax, c.BackoffMin)
	if c.WindowPastDays < 0 {
		c.WindowPastDays = DefaultPastDays
	}
	if c.WindowFutureDays <= 0 {
		c.WindowFutureDays = DefaultFutureDays
	}
	// Normalise and de-duplicate mailboxes, keeping order.
	seen := map[string]bool{}
	mbs := make([]string, 0, len(c.Mailboxes))
	for _, m := range c.Mailboxes {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "" || seen[m] {
			continue
		}
		seen[m] = true
		mbs = append(mbs, m)
	}
	c.Mailboxes = mbs
	return c
}

// Window returns the sync window for now: from local midnight
// WindowPastDays ago to local midnight after WindowFutureDays.
func (c Config) Window(now time.Time) (start, end time.Time) {
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	return today.AddDate(0, 0, -c.WindowPastDays), today.AddDate(0, 0, c.WindowFutureDays+1)
}

// RenderOptions say where and how a Sink writes a mailbox's file.
type RenderOptions struct {
	Dir     string
	Privacy string
	// Start and End are the sync window; events are already filtered to it,
	// a renderer may use it to bound recurrence expansion.
	Start, End time.Time
}

// Sink renders a mailbox's events to its file (sync/ics), rewriting it only
// when the content changed. It must write atomically: the engine may be
// cancelled at any time and relies on a write either happening whole or
// not at all.
type Sink interface {
	Render(ctx context.Context, mailbox string, events []calendar.Event, opts RenderOptions) (changed bool, err error)
}

// Stamper is an optional Sink method: a cheap identity of mailbox's current
// file (for example its size and modification time), "" when there is
// none. With it, a new process skips re-rendering a mailbox whose items and
// file are as they were at the last render.
type Stamper interface {
	Stamp(mailbox string, opts RenderOptions) string
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, mailbox string, events []calendar.Event, opts RenderOptions) (bool, error)

// Render calls f.
func (f SinkFunc) Render(ctx context.Context, mailbox string, events []calendar.Event, opts RenderOptions) (bool, error) {
	return f(ctx, mailbox, events, opts)
}

// Deps are the engine's collaborators.
type Deps struct {
	Source calendar.Source
	// Watcher is optional: nil means polling only.
	Watcher calendar.Watcher
	Store   *store.Store
	Sink    Sink
	// Touches reports whether an event has an occurrence in [start, end);
	// only those are rendered. nil: calendar.TouchesWindow.
	Touches func(e *calendar.Event, start, end time.Time) bool
	// Notify is called (from the Serve goroutine; keep it quick) when the
	// overall state turns to warning or error.
	Notify func(title, body string)
	Logger *slog.Logger
}

// HealthWatcher is a calendar.Watcher that also says which mailboxes have
// a live change stream (ews.Watcher does). The engine polls mailboxes
// without one at PollInterval, not at the stretched StreamingPollInterval,
// and syncs a mailbox once when its stream comes back (changes made while
// it was down were not notified). A plain Watcher counts as live for every
// mailbox once a Watch call has lasted Debounce without failing.
type HealthWatcher interface {
	calendar.Watcher
	// WatchHealth is Watch that also calls health when the stream of some
	// mailboxes goes down (up false, with the reason) or comes up; it is
	// called only on a change, from any goroutine, and may block briefly.
	WatchHealth(ctx context.Context, mailboxes []string, changed func(mailbox string), health func(mailboxes []string, up bool, err error)) error
}

// Result is the outcome of one mailbox's sync.
type Result struct {
	Mailbox string
	// Items is the number of cached items; Exported the number of events
	// rendered (touching the window), -1 when rendering was skipped
	// because nothing changed.
	Items, Exported int
	// Pages is the number of SyncPage calls; Changes the upserts and
	// deletes they carried; Resynced reports a full resync after the server
	// refused the sync state, Refetched one because the cache was filled
	// under another privacy setting.
	Pages, Changes      int
	Resynced, Refetched bool
	// Written reports that the Sink rewrote the file.
	Written bool
	Err     error
}

// syncer runs one mailbox's sync; shared by Serve and SyncOnce.
type syncer struct {
	deps Deps
	log  *slog.Logger

	mu         sync.Mutex
	refetching int        // syncs in flight refetching for a privacy change
	compactMu  sync.Mutex // one compact check at a time
}

// syncMailbox syncs mb to the newest change and renders it unless
// nothing changed and render is false.
func (s *syncer) syncMailbox(ctx context.Context, mb string, cfg Config, render bool) Result {
	r := Result{Mailbox: mb, Exported: -1}
	defer s.compact()
	privacy := privacyOf(cfg.Privacy)
	refetch, err := s.checkPrivacy(mb, privacy)
	if err != nil {
		r.Err = err
		return r
	}
	if refetch {
		r.Refetched = true
		s.beginRefetch()
		defer s.endRefetch()
	}
	state, err := s.deps.Store.State(mb)
	if err != nil {
		r.Err = err
		return r
	}
	// A sync from scratch sees the whole calendar: keep it, so the render
	// needs no round trip through the store's encoding.
	var whole map[string]calendar.Event
	if state == "" {
		whole = map[string]calendar.Event{}
	}
	for {
		if r.Pages >= maxPages {
			r.Err = fmt.Errorf("engine: %s: the server sent %d pages without reaching the newest change", mb, r.Pages)
			return r
		}
		page, err := s.syncPage(ctx, mb, state, privacy)
		r.Pages++
		if errors.Is(err, calendar.ErrInvalidSyncState) && !r.Resynced {
			s.log.Info("sync state refused; resyncing", "mailbox", mb)
			if err := s.deps.Store.Reset(mb); err != nil {
				r.Err = err
				return r
			}
			if err := s.deps.Store.SetPrivacy(mb, privacy); err != nil {
				r.Err = err
				return r
			}
			r.Resynced, state, whole = true, "", map[string]calendar.Event{}
			continue
		}
		if err != nil {
			r.Err = fmt.Errorf("engine: sync %s: %w", mb, err)
			return r
		}
		if !page.Done && page.State == state && len(page.Upserts)+len(page.Deletes) == 0 {
			r.Err = fmt.Errorf("engine: sync %s: the server made no progress (state unchanged, not done)", mb)
			return r
		}
		if privacy == PrivacyFreeBusy {
			for i := range page.Upserts {
				page.Upserts[i] = busyOnly(page.Upserts[i])
			}
		}
		if err := s.deps.Store.ApplyPage(mb, page); err != nil {
			r.Err = err
			return r
		}
		r.Changes += len(page.Upserts) + len(page.Deletes)
		if whole != nil {
			for _, e := range page.Upserts {
				whole[e.ItemID] = e
			}
			for _, id := range page.Deletes {
				delete(whole, id)
			}
		}
		state = page.State
		if page.Done {
			break
		}
	}
	now := time.Now()
	start, end := cfg.Window(now)
	opts := RenderOptions{Dir: cfg.ExportDir, Privacy: cfg.Privacy, Start: start, End: end}
	unchanged := r.Changes == 0 && !r.Resynced && !r.Refetched
	if unchanged && !render {
		in, err := s.deps.Store.Info(mb)
		r.Items, r.Err = in.Items, err
		return r
	}
	// A new process: the store remembers what the file was rendered from.
	stamper, _ := s.deps.Sink.(Stamper)
	prefix := ""
	if stamper != nil {
		prefix = renderKey(cfg, now) + "\x00" + stamper.Stamp(mb, opts) + "\x00"
	}
	if unchanged && stamper != nil {
		prev, err := s.deps.Store.Rendered(mb)
		if n, ok := strings.CutPrefix(prev, prefix); err == nil && ok {
			if exported, err := strconv.Atoi(n); err == nil {
				in, err := s.deps.Store.Info(mb)
				r.Items, r.Exported, r.Err = in.Items, exported, err
				return r
			}
		}
	}
	var events []calendar.Event
	if whole != nil {
		events = slices.SortedFunc(maps.Values(whole), func(a, b calendar.Event) int {
			if c := a.Start.Compare(b.Start); c != 0 {
				return c
			}
			return strings.Compare(a.ItemID, b.ItemID)
		})
	} else if events, err = s.deps.Store.Events(mb); err != nil {
		r.Err = err
		return r
	}
	r.Items = len(events)
	touches := s.deps.Touches
	if touches == nil {
		touches = func(e *calendar.Event, start, end time.Time) bool { return calendar.TouchesWindow(*e, start, end) }
	}
	kept := events[:0]
	for i := range events {
		if touches(&events[i], start, end) {
			kept = append(kept, events[i])
		}
	}
	events = kept
	// The write is not cancelled with ctx: it is atomic and quick, and a
	// SIGTERM should let it finish.
	changed, err := s.deps.Sink.Render(context.WithoutCancel(ctx), mb, events, opts)
	if err != nil {
		r.Err = fmt.Errorf("engine: render %s: %w", mb, err)
		return r
	}
	r.Exported, r.Written = len(events), changed
	if stamper != nil {
		stamp := renderKey(cfg, now) + "\x00" + stamper.Stamp(mb, opts) + "\x00" + strconv.Itoa(len(events))
		if prev, err := s.deps.Store.Rendered(mb); err != nil || prev != stamp {
			if err := s.deps.Store.SetRendered(mb, stamp); err != nil {
				s.log.Warn("remember render", "mailbox", mb, "err", err)
			}
		}
	}
	return r
}

// SyncOnce syncs every mailbox of cfg once, at most cfg.Concurrency at a
// time, renders each, and returns the results in cfg.Mailboxes order (the
// `exocal sync --once` path). deps.Watcher and deps.Notify are not used.
func SyncOnce(ctx context.Context, cfg Config, deps Deps) []Result {
	cfg = cfg.withDefaults()
	s := &syncer{deps: deps, log: logger(deps)}
	results := make([]Result, len(cfg.Mailboxes))
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for i, mb := range cfg.Mailboxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = Result{Mailbox: mb, Exported: -1, Err: fmt.Errorf("engine: sync %s: %w", mb, ctx.Err())}
				return
			}
			defer func() { <-sem }()
			results[i] = s.syncMailbox(ctx, mb, cfg, true)
		}()
	}
	wg.Wait()
	return results
}

func logger(d Deps) *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}
