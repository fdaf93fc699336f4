package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Engine is the long-running sync service. Create it with New, run Serve
// on one goroutine, and control it from any goroutine with SyncNow, Pause,
// Resume and Reload.
type Engine struct {
	deps Deps
	sy   *syncer
	hub  hub

	syncNow chan struct{}
	ctrl    chan struct{} // pause/resume/reload: read the fields below
	changed chan struct{}

	mu         sync.Mutex
	paused     bool
	pendingCfg *Config
	dirty      map[string]bool // mailboxes the watcher reported changed

	cfg Config // owned by Serve after start
}

// New returns an engine for cfg; nothing runs until Serve.
func New(cfg Config, deps Deps) *Engine {
	e := &Engine{
		deps:    deps,
		sy:      &syncer{deps: deps, log: logger(deps)},
		syncNow: make(chan struct{}, 1),
		ctrl:    make(chan struct{}, 1),
		changed: make(chan struct{}, 1),
		dirty:   map[string]bool{},
		cfg:     cfg.withDefaults(),
	}
	st := Status{State: StateStarting, ExportDir: e.cfg.ExportDir, At: time.Now()}
	for _, mb := range e.cfg.Mailboxes {
		st.Mailboxes = append(st.Mailboxes, MailboxStatus{Address: mb, State: MailboxPending, Since: st.At})
	}
	e.hub.latest = st
	return e
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// SyncNow syncs every mailbox now, clearing retry backoff.
func (e *Engine) SyncNow() { kick(e.syncNow) }

// Pause stops starting syncs (running ones finish) and stops the watcher.
func (e *Engine) Pause() { e.setPaused(true) }

// Resume undoes Pause and syncs every mailbox (changes may have been missed).
func (e *Engine) Resume() { e.setPaused(false) }

func (e *Engine) setPaused(p bool) {
	e.mu.Lock()
	e.paused = p
	e.mu.Unlock()
	kick(e.ctrl)
}

// Reload replaces the configuration: mailboxes added are synced, removed
// ones forgotten (their state; their ICS files stay), and a change of the
// export dir, window or privacy re-renders every mailbox (a privacy change
// also refetches every mailbox: see the package doc). A new Source,
// Watcher or credentials need a new Engine.
func (e *Engine) Reload(cfg Config) {
	cfg = cfg.withDefaults()
	e.mu.Lock()
	e.pendingCfg = &cfg
	e.mu.Unlock()
	kick(e.ctrl)
}

// Subscribe returns a channel that always holds the latest Status (it
// starts with the current one), and a cancel func. A slow reader misses
// intermediate snapshots, never the latest.
func (e *Engine) Subscribe() (<-chan Status, func()) { return e.hub.subscribe() }

// Status returns the latest published snapshot.
func (e *Engine) Status() Status { return e.hub.get() }

// onChanged is the Watcher's callback: any goroutine, any number of times.
func (e *Engine) onChanged(mailbox string) {
	e.mu.Lock()
	e.dirty[strings.ToLower(mailbox)] = true
	e.mu.Unlock()
	kick(e.changed)
}

// mbox is Serve's bookkeeping for one mailbox.
type mbox struct {
	st         MailboxStatus
	queued     bool
	running    bool
	again      bool // asked to sync while running
	againNow   bool // asked by SyncNow while running: run again even after a failure
	startedAt  time.Time
	inRound    bool
	backoff    time.Duration
	debounceAt time.Time
	renderKey  string    // options of the last successful render (see renderKey)
	pollAt     time.Time // next poll: PollInterval, or stretched while live
	live       bool      // its change stream is up
}

type result struct {
	Result
	cfg Config
}

// watchEvent is a watcher's report: a plain Watcher's settle-time "up" or
// a failed Watch call (mailboxes nil: all), or a HealthWatcher's health
// call for some mailboxes (health set).
type watchEvent struct {
	gen, attempt int
	up, health   bool
	mailboxes    []string
	err          error
}

// loop is Serve's state (only the Serve goroutine touches it).
type loop struct {
	e       *Engine
	cfg     Config
	boxes   map[string]*mbox
	queue   []string
	running int
	paused  bool
	results chan result
	// stopping: Serve's ctx ended; syncs cancelled by it are no failures.
	stopping bool

	roundDone, roundTotal int
	lastErrState          State
	lastStatus            Status

	watchGen    int
	watchFailed int // the last failed attempt of watcher watchGen
	watchCancel context.CancelFunc
	watchEvents chan watchEvent
	streamErr   error
	watchWG     sync.WaitGroup
}

// Serve runs the engine until ctx is cancelled, then waits for running
// syncs to return (a render in progress completes; a sync's network calls
// are cancelled, its committed pages stay) and returns nil.
func (e *Engine) Serve(ctx context.Context) error {
	l := &loop{
		e:           e,
		cfg:         e.cfg,
		boxes:       map[string]*mbox{},
		results:     make(chan result, MaxConcurrency),
		watchEvents: make(chan watchEvent, 4),
	}
	e.mu.Lock()
	l.paused = e.paused
	e.mu.Unlock()
	now := time.Now()
	for _, mb := range l.cfg.Mailboxes {
		l.addMailbox(mb, now)
	}
	if !l.paused {
		l.enqueueAll(false)
		l.startWatcher(ctx)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.dispatch(ctx)
		l.publish()
		now = time.Now()
		timer.Reset(max(l.nextWake(now).Sub(now), time.Millisecond))
		select {
		case <-ctx.Done():
			l.stopping = true
			l.stopWatcher()
			for l.running > 0 {
				l.finish(<-l.results)
			}
			l.watchWG.Wait()
			l.publish()
			return nil
		case <-e.syncNow:
			for _, b := range l.boxes {
				b.backoff = 0
				b.st.RetryAt = time.Time{}
				// A sync under way started before the request: the
				// caller waits for one that starts after it (Attempted).
				b.againNow = b.againNow || b.running
			}
			l.enqueueAll(false)
		case <-e.ctrl:
			l.control(ctx)
		case <-e.changed:
			e.mu.Lock()
			dirty := e.dirty
			e.dirty = map[string]bool{}
			e.mu.Unlock()
			at := time.Now().Add(l.cfg.Debounce)
			for mb := range dirty {
				if b := l.boxes[mb]; b != nil && b.debounceAt.IsZero() {
					b.debounceAt = at
				}
			}
		case r := <-l.results:
			l.finish(r)
		case ev := <-l.watchEvents:
			l.watchEvent(ev)
		case <-timer.C:
			l.due(time.Now())
		}
	}
}

func (l *loop) addMailbox(mb string, now time.Time) {
	b := &mbox{st: MailboxStatus{Address: mb, State: MailboxPending, Since: now}, pollAt: now.Add(l.cfg.PollInterval)}
	if in, err := l.e.deps.Store.Info(mb); err == nil {
		b.st.Items, b.st.LastSuccess = in.Items, in.LastSuccess
	}
	l.boxes[mb] = b
}

// pollInterval is b's poll interval: stretched while its stream is live.
func (l *loop) pollInterval(b *mbox) time.Duration {
	if b.live {
		return l.cfg.StreamingPollInterval
	}
	return l.cfg.PollInterval
}

func (l *loop) setState(b *mbox, s MailboxState) {
	if b.st.State != s {
		b.st.State, b.st.Since = s, time.Now()
	}
}

// enqueue asks for a sync of b (after the running one, if any).
func (l *loop) enqueue(mb string, b *mbox) {
	b.debounceAt = time.Time{}
	if !b.inRound {
		b.inRound = true
		l.roundTotal++
	}
	switch {
	case b.running:
		b.again = true
	case !b.queued:
		b.queued = true
		l.queue = append(l.queue, mb)
		if b.st.State != MailboxError {
			l.setState(b, MailboxQueued)
		}
	}
}

// enqueueAll queues every mailbox; skipBackoff leaves failing ones to their
// retry timer.
func (l *loop) enqueueAll(skipBackoff bool) {
	for _, mb := range l.cfg.Mailboxes {
		b := l.boxes[mb]
		if skipBackoff && !b.st.RetryAt.IsZero() {
			continue
		}
		l.enqueue(mb, b)
	}
}

func (l *loop) dispatch(ctx context.Context) {
	if l.paused || ctx.Err() != nil {
		return
	}
	for l.running < l.cfg.Concurrency && len(l.queue) > 0 {
		mb := l.queue[0]
		l.queue = l.queue[1:]
		b := l.boxes[mb]
		if b == nil || !b.queued {
			continue // removed by Reload
		}
		b.queued, b.running = false, true
		b.startedAt = time.Now()
		l.setState(b, MailboxSyncing)
		l.running++
		cfg := l.cfg
		render := b.renderKey != renderKey(cfg, time.Now())
		go func() {
			r := l.e.sy.syncMailbox(ctx, mb, cfg, render)
			l.results <- result{Result: r, cfg: cfg}
		}()
	}
}

func (l *loop) finish(r result) {
	l.running--
	b := l.boxes[r.Mailbox]
	if b == nil {
		return // removed while running
	}
	b.running = false
	now := time.Now()
	log := l.e.sy.log
	if r.Err != nil && l.stopping && errors.Is(r.Err, context.Canceled) {
		// Cut short by our own shutdown: not a failure (its committed
		// pages stay, and the next start resumes from them).
		log.Info("sync interrupted by shutdown; it resumes at the next start", "mailbox", r.Mailbox)
		state := MailboxPending
		if !b.st.LastSuccess.IsZero() {
			state = MailboxIdle
		}
		l.setState(b, state)
		return
	}
	b.st.Attempted = b.startedAt
	if r.Err != nil {
		b.backoff = min(max(2*b.backoff, l.cfg.BackoffMin), l.cfg.BackoffMax)
		b.st.Err, b.st.RetryAt = r.Err, now.Add(b.backoff)
		l.setState(b, MailboxError)
		log.Warn("sync failed", "mailbox", r.Mailbox, "err", r.Err, "retry_in", b.backoff)
	} else {
		b.backoff, b.st.Err, b.st.RetryAt = 0, nil, time.Time{}
		b.st.Items = r.Items
		if r.Exported >= 0 {
			b.st.Exported = r.Exported
			b.renderKey = renderKey(r.cfg, now)
		}
		b.st.LastSuccess = now
		l.setState(b, MailboxIdle)
		log.Debug("synced", "mailbox", r.Mailbox, "pages", r.Pages, "changes", r.Changes, "items", r.Items, "written", r.Written, "resynced", r.Resynced, "refetched", r.Refetched)
	}
	// Asked again while running (a change notification): run once more,
	// unless it failed (its retry timer covers it).
	if b.again && (r.Err == nil || b.againNow) {
		b.again, b.againNow = false, false
		l.enqueue(r.Mailbox, b)
		return
	}
	b.again, b.againNow = false, false
	if b.inRound {
		l.roundDone++
		b.inRound = false
	}
	if l.running == 0 && len(l.queue) == 0 {
		l.roundDone, l.roundTotal = 0, 0
	}
}

// due handles the timer: debounced changes, retries and the poll.
func (l *loop) due(now time.Time) {
	if l.paused {
		return
	}
	for _, mb := range l.cfg.Mailboxes {
		b := l.boxes[mb]
		if !b.debounceAt.IsZero() && !now.Before(b.debounceAt) {
			l.enqueue(mb, b)
		}
		if !b.st.RetryAt.IsZero() && !now.Before(b.st.RetryAt) && !b.running {
			b.st.RetryAt = time.Time{}
			l.enqueue(mb, b)
		}
		if !now.Before(b.pollAt) {
			if b.st.RetryAt.IsZero() { // a failing one is left to its retry timer
				l.enqueue(mb, b)
			}
			b.pollAt = now.Add(l.pollInterval(b))
		}
	}
}

func (l *loop) nextWake(now time.Time) time.Time {
	if l.paused {
		return now.Add(time.Hour)
	}
	next := now.Add(time.Hour)
	for _, b := range l.boxes {
		if b.pollAt.Before(next) {
			next = b.pollAt
		}
		if !b.debounceAt.IsZero() && b.debounceAt.Before(next) {
			next = b.debounceAt
		}
		if !b.st.RetryAt.IsZero() && !b.running && b.st.RetryAt.Before(next) {
			next = b.st.RetryAt
		}
	}
	return next
}

// control applies Pause/Resume and Reload.
func (l *loop) control(ctx context.Context) {
	l.e.mu.Lock()
	paused, cfg := l.e.paused, l.e.pendingCfg
	l.e.pendingCfg = nil
	l.e.mu.Unlock()
	if cfg != nil {
		l.reload(ctx, *cfg)
	}
	if paused == l.paused {
		return
	}
	l.paused = paused
	if paused {
		l.stopWatcher()
		return
	}
	l.enqueueAll(false)
	l.startWatcher(ctx)
}

func (l *loop) reload(ctx context.Context, cfg Config) {
	old := l.cfg
	l.cfg = cfg
	now := time.Now()
	for _, mb := range cfg.Mailboxes {
		if l.boxes[mb] == nil {
			l.addMailbox(mb, now)
			l.enqueue(mb, l.boxes[mb])
		}
	}
	for mb := range l.boxes {
		if !slices.Contains(cfg.Mailboxes, mb) {
			b := l.boxes[mb]
			if b.inRound {
				l.roundTotal--
			}
			delete(l.boxes, mb)
			if err := l.e.deps.Store.Forget(mb); err != nil {
				l.e.sy.log.Warn("forget mailbox", "mailbox", mb, "err", err)
			}
		}
	}
	if old.ExportDir != cfg.ExportDir || old.Privacy != cfg.Privacy ||
		old.WindowPastDays != cfg.WindowPastDays || old.WindowFutureDays != cfg.WindowFutureDays {
		l.enqueueAll(false)
	}
	if old.PollInterval != cfg.PollInterval || old.StreamingPollInterval != cfg.StreamingPollInterval {
		for _, b := range l.boxes {
			b.pollAt = now.Add(l.pollInterval(b))
		}
	}
	if !slices.Equal(old.Mailboxes, cfg.Mailboxes) && !l.paused {
		l.stopWatcher()
		l.startWatcher(ctx)
	}
}

// startWatcher runs the Watcher on its own goroutine, retrying a failing
// Watch with capped doubling backoff. Events report up/down to Serve.
func (l *loop) startWatcher(ctx context.Context) {
	w := l.e.deps.Watcher
	if w == nil || len(l.cfg.Mailboxes) == 0 {
		return
	}
	l.watchGen++
	l.watchFailed = 0
	gen := l.watchGen
	wctx, cancel := context.WithCancel(ctx)
	l.watchCancel = cancel
	mailboxes := slices.Clone(l.cfg.Mailboxes)
	bmin, bmax, settle := l.cfg.BackoffMin, l.cfg.BackoffMax, l.cfg.Debounce
	send := func(ev watchEvent) {
		select {
		case l.watchEvents <- ev:
		case <-wctx.Done():
		}
	}
	hw, _ := w.(HealthWatcher)
	l.watchWG.Add(1)
	go func() {
		defer l.watchWG.Done()
		backoff := time.Duration(0)
		for attempt := 1; ; attempt++ {
			var err error
			if hw != nil {
				err = hw.WatchHealth(wctx, mailboxes, l.e.onChanged, func(mbs []string, up bool, err error) {
					send(watchEvent{gen: gen, attempt: attempt, health: true, up: up, mailboxes: slices.Clone(mbs), err: err})
				})
			} else {
				// A plain watcher counts as up once a Watch call has lasted
				// settle without failing.
				upTimer := time.AfterFunc(settle, func() { send(watchEvent{gen: gen, attempt: attempt, up: true}) })
				err = w.Watch(wctx, mailboxes, l.e.onChanged)
				upTimer.Stop()
			}
			if wctx.Err() != nil {
				return
			}
			if err == nil {
				err = fmt.Errorf("engine: the change watcher stopped")
			}
			send(watchEvent{gen: gen, attempt: attempt, err: err})
			backoff = min(max(2*backoff, bmin), bmax)
			select {
			case <-time.After(backoff):
			case <-wctx.Done():
				return
			}
		}
	}()
}

func (l *loop) stopWatcher() {
	if l.watchCancel != nil {
		l.watchCancel()
		l.watchCancel = nil
	}
	l.setLive(l.cfg.Mailboxes, false)
}

func (l *loop) watchEvent(ev watchEvent) {
	if ev.gen != l.watchGen || l.watchCancel == nil {
		return // from a stopped watcher
	}
	if ev.attempt <= l.watchFailed {
		return // a late event from an attempt that failed since
	}
	log := l.e.sy.log
	mbs := ev.mailboxes
	if mbs == nil {
		mbs = l.cfg.Mailboxes
	}
	switch {
	case !ev.health && !ev.up:
		l.watchFailed = ev.attempt
		log.Warn("change watcher failed; polling meanwhile", "err", ev.err, "poll_interval", l.cfg.PollInterval)
		l.streamErr = ev.err
	case ev.up:
		log.Info("change stream up", "mailboxes", len(mbs))
	default:
		log.Warn("change stream down; polling meanwhile", "mailboxes", len(mbs), "err", ev.err, "poll_interval", l.cfg.PollInterval)
		l.streamErr = ev.err
	}
	l.setLive(mbs, ev.up)
	if l.liveCount() == len(l.cfg.Mailboxes) {
		l.streamErr = nil
	}
}

// setLive records whether the mailboxes' change streams are up. A mailbox
// whose stream went down is polled at PollInterval from now on; one whose
// stream came back is synced now (changes made meanwhile were not
// notified) and then polled at the stretched interval.
func (l *loop) setLive(mailboxes []string, up bool) {
	now := time.Now()
	for _, mb := range mailboxes {
		mb = strings.ToLower(mb)
		b := l.boxes[mb]
		if b == nil || b.live == up {
			continue
		}
		b.live = up
		if !up {
			if n := now.Add(l.cfg.PollInterval); n.Before(b.pollAt) {
				b.pollAt = n
			}
			continue
		}
		// Changes made before the stream came up (while it was down, or
		// before the first one, between the mailbox's last sync and the
		// subscription) reach no notification: sync once now, unless the
		// sync is still to start (queued) or is retrying. Then only the
		// stretched safety-net poll.
		if b.st.RetryAt.IsZero() && !b.queued {
			l.enqueue(mb, b)
		}
		b.pollAt = now.Add(l.cfg.StreamingPollInterval)
	}
}

func (l *loop) liveCount() int {
	n := 0
	for _, b := range l.boxes {
		if b.live {
			n++
		}
	}
	return n
}

// publish builds and publishes a Status snapshot if anything changed.
func (l *loop) publish() {
	s := Status{
		Mailboxes: make([]MailboxStatus, 0, len(l.cfg.Mailboxes)),
		Done:      l.roundDone, Total: l.roundTotal,
		StreamErr: l.streamErr, PollInterval: l.cfg.PollInterval,
		ExportDir: l.cfg.ExportDir,
	}
	busy, pending, latestErr := false, false, time.Time{}
	for _, mb := range l.cfg.Mailboxes {
		b := l.boxes[mb]
		ms := b.st
		ms.Streaming = b.live
		s.Mailboxes = append(s.Mailboxes, ms)
		if !b.live && l.watchCancel != nil {
			s.StreamingDown++
		}
		if b.st.LastSuccess.After(s.LastSync) {
			s.LastSync = b.st.LastSuccess
		}
		switch {
		case b.st.Err != nil:
			s.Failed++
			if b.st.Since.After(latestErr) || s.Err == nil {
				s.Err, latestErr = b.st.Err, b.st.Since
			}
		case b.st.State == MailboxPending:
			pending = true
		}
		if b.queued || b.running {
			busy = true
		}
	}
	s.Streaming = len(s.Mailboxes) > 0 && l.liveCount() == len(s.Mailboxes)
	switch {
	case l.paused:
		s.State = StatePaused
	case busy:
		s.State = StateSyncing
	case s.Failed > 0 && s.Failed == len(l.cfg.Mailboxes):
		s.State = StateError
	case s.Failed > 0:
		s.State = StateWarning
	case pending:
		s.State = StateStarting
	default:
		s.State = StateIdle
	}
	if statusEqual(s, l.lastStatus) {
		return
	}
	l.lastStatus = s
	s.At = time.Now()
	l.e.hub.publish(s)
	l.notify(s)
}

// notify calls Deps.Notify when the settled state turns to warning or
// error (or from warning to error); syncing and paused are not a verdict.
func (l *loop) notify(s Status) {
	switch s.State {
	case StateSyncing, StatePaused, StateStarting:
		return
	}
	prev := l.lastErrState
	l.lastErrState = s.State
	failing := s.State == StateError || s.State == StateWarning
	if !failing || prev == s.State || prev == StateError || l.e.deps.Notify == nil {
		return
	}
	title := "ExoCal: a mailbox cannot be synced"
	if s.State == StateError {
		title = "ExoCal: syncing stopped"
	}
	body := ""
	if s.Err != nil {
		body = s.Err.Error()
	}
	if s.Failed > 1 {
		body = fmt.Sprintf("%d of %d mailboxes failed. %s", s.Failed, len(s.Mailboxes), body)
	}
	l.e.deps.Notify(title, body)
}

// renderKey identifies what a render depends on besides the items: the
// window moves daily, so a mailbox is re-rendered once a day.
func renderKey(cfg Config, now time.Time) string {
	start, end := cfg.Window(now)
	return fmt.Sprintf("%s|%s|%s|%s", cfg.ExportDir, cfg.Privacy, start.Format(time.DateOnly), end.Format(time.DateOnly))
}

func statusEqual(a, b Status) bool {
	if a.State != b.State || a.Err != b.Err || a.Done != b.Done || a.Total != b.Total || a.Failed != b.Failed ||
		!a.LastSync.Equal(b.LastSync) || a.Streaming != b.Streaming || a.StreamErr != b.StreamErr ||
		a.StreamingDown != b.StreamingDown || a.PollInterval != b.PollInterval ||
		a.ExportDir != b.ExportDir || len(a.Mailboxes) != len(b.Mailboxes) {
		return false
	}
	for i := range a.Mailboxes {
		if a.Mailboxes[i] != b.Mailboxes[i] {
			return false
		}
	}
	return true
}
