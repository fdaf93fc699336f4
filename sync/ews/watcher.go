package ews

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// DefaultMaxPerConnection is the most subscriptions grouped on one
// streaming connection (Microsoft's limit for one GetStreamingEvents).
const DefaultMaxPerConnection = MaxStreamingSubscriptions

// DefaultConnectionTimeout is how long one GetStreamingEvents stays open
// before the client sends it again (the maximum, 30 minutes).
const DefaultConnectionTimeout = 30 * time.Minute

// Watcher implements calendar.Watcher with EWS streaming notifications,
// following "How to maintain affinity between a group of subscriptions and
// the Mailbox server": mailboxes are grouped (at most MaxPerConnection per
// group), each group has one affinity Session (its own cookie jar) anchored
// at its alphabetically first mailbox, the anchor subscribes first with
// X-PreferServerAffinity and its reply's X-BackEndOverrideCookie is sent on
// the members' Subscribe and on the group's GetStreamingEvents. Each group
// keeps one streaming connection open, reconnects when it ends, and
// subscribes again (then reports the mailboxes as changed, since events may
// have been lost) when the server no longer knows a subscription. A
// connection the server ends normally (ConnectionStatus Closed at its
// ConnectionTimeout) is reopened with the same subscriptions and reported
// neither as a change nor as down: the server queues a subscription's
// events between connections, so nothing was missed.
// WatchHealth also tells the caller when a group's stream goes down and
// comes back, so that it can poll those mailboxes meanwhile.
type Watcher struct {
	Client *Client
	// MaxPerConnection is the group size (1..200, default 200; the
	// settings' max_subscriptions_per_connection).
	MaxPerConnection int
	// ConnectionTimeout is each GetStreamingEvents' lifetime (1..30 min,
	// default 30 min).
	ConnectionTimeout time.Duration
	// GroupKey, if set, returns a mailbox's affinity key: Autodiscover's
	// GroupingInformation + ExternalEwsUrl, or "" when unknown.
	GroupKey func(mailbox string) string
	// MinBackoff and MaxBackoff bound the wait before a reconnect after a
	// failure (defaults 1 s and 2 min).
	MinBackoff, MaxBackoff time.Duration
	// UpAfter is how long a group's streaming connection must stay open
	// before the group counts as up, if no response arrived earlier
	// (default 10 s).
	UpAfter time.Duration
	Logger  *slog.Logger
}

var _ calendar.Watcher = (*Watcher)(nil)

// Group is a set of mailboxes sharing one streaming connection.
type Group struct {
	Key     string   // affinity key ("" when unknown)
	Anchor  string   // the alphabetically first member
	Members []string // sorted, Anchor first
}

// GroupMailboxes splits mailboxes into groups of at most max (<1 or >200
// means 200): by key (nil key: one key for all), each key's addresses
// sorted case-insensitively and cut into runs; the anchor of a group is its
// first member. Duplicate addresses (case-insensitive) are dropped.
func GroupMailboxes(mailboxes []string, key func(string) string, max int) []Group {
	if max < 1 || max > MaxStreamingSubscriptions {
		max = MaxStreamingSubscriptions
	}
	byKey := map[string][]string{}
	seen := map[string]bool{}
	for _, m := range mailboxes {
		m = strings.TrimSpace(m)
		lm := strings.ToLower(m)
		if m == "" || seen[lm] {
			continue
		}
		seen[lm] = true
		k := ""
		if key != nil {
			k = key(m)
		}
		byKey[k] = append(byKey[k], m)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var groups []Group
	for _, k := range keys {
		ms := byKey[k]
		sort.Slice(ms, func(i, j int) bool {
			a, b := strings.ToLower(ms[i]), strings.ToLower(ms[j])
			if a != b {
				return a < b
			}
			return ms[i] < ms[j]
		})
		for start := 0; start < len(ms); start += max {
			members := append([]string(nil), ms[start:min(start+max, len(ms))]...)
			groups = append(groups, Group{Key: k, Anchor: members[0], Members: members})
		}
	}
	return groups
}

// Watch subscribes every mailbox and calls changed(mailbox) when its
// calendar changes, until ctx ends (it then returns nil) or the watch fails
// for good: a refused token (IsAuth) or a tenant that blocks EWS
// (IsEWSBlocked), returned as the error. Other failures are retried with
// backoff; mailboxes that cannot be subscribed at all (IsMailboxNotFound,
// IsImpersonationDenied) are logged and left out.
func (w *Watcher) Watch(ctx context.Context, mailboxes []string, changed func(mailbox string)) error {
	return w.WatchHealth(ctx, mailboxes, changed, nil)
}

// WatchHealth is Watch that also reports each group's streaming health to
// health (nil: not reported): up is true once the group's subscriptions are
// in place and its GetStreamingEvents connection answers (or has stayed
// open for UpAfter); false, with the error, when subscribing fails, the
// connection breaks or ends at once, or the server again does not know
// subscriptions just made. mailboxes are the group's members (a member that
// can no longer be subscribed is reported down alone). Calls for one group
// come one at a time and only on a change; calls for different groups may
// overlap; health must not call back into the Watcher. When WatchHealth
// returns, no stream is live (it does not report that).
func (w *Watcher) WatchHealth(ctx context.Context, mailboxes []string, changed func(mailbox string), health func(mailboxes []string, up bool, err error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		fatal error
	)
	for _, g := range GroupMailboxes(mailboxes, w.GroupKey, w.MaxPerConnection) {
		wg.Add(1)
		go func(g Group) {
			defer wg.Done()
			if err := w.runGroup(ctx, g, changed, &groupHealth{report: health}); err != nil {
				once.Do(func() { fatal = err; cancel() })
			}
		}(g)
	}
	wg.Wait()
	return fatal
}

func (w *Watcher) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return w.Client.log
}

func isFatal(err error) bool { return IsAuth(err) || IsEWSBlocked(err) }

func isUnsubscribable(err error) bool { return IsMailboxNotFound(err) || IsImpersonationDenied(err) }

// groupHealth reports one group's health on changes only. A connection
// attempt may be marked up from a timer, so the state sits behind a mutex
// and an attempt number: the group goroutine ends an attempt (end) before
// it reports down, and a late timer for an ended attempt does nothing.
type groupHealth struct {
	report    func(mailboxes []string, up bool, err error)
	mu        sync.Mutex
	attempt   int
	upAttempt int // the last attempt that came up
	state     int // 0 unknown, 1 up, 2 down
}

// begin starts a connection attempt and returns its number.
func (h *groupHealth) begin() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempt++
	return h.attempt
}

// up marks the group up if attempt is still the current one; it reports
// whether the attempt is (now) up.
func (h *groupHealth) up(attempt int, members []string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if attempt != h.attempt {
		return false
	}
	h.upAttempt = attempt
	if h.state != 1 {
		h.state = 1
		if h.report != nil {
			h.report(slices.Clone(members), true, nil)
		}
	}
	return true
}

// end ends the current attempt; it reports whether that attempt came up.
func (h *groupHealth) end() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	cameUp := h.upAttempt == h.attempt
	h.attempt++
	return cameUp
}

// down marks the group down (members are reported with err).
func (h *groupHealth) down(members []string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempt++
	if h.state != 2 {
		h.state = 2
		if h.report != nil {
			h.report(slices.Clone(members), false, err)
		}
	}
}

// dropped reports a member that left the group down, if the group was up.
func (h *groupHealth) dropped(mailbox string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == 1 && h.report != nil {
		h.report([]string{mailbox}, false, err)
	}
}

var errEndedAtOnce = errors.New("ews: the streaming connection ended at once")

// groupState is the live state of one group's connection.
type groupState struct {
	members []string          // still watched, sorted; members[0] is the anchor
	sess    *Session          // nil: (re)subscribe everything
	subs    map[string]string // subscription id → mailbox
	pending []string          // members without a subscription
	health  *groupHealth
}

func (w *Watcher) runGroup(ctx context.Context, g Group, changed func(string), health *groupHealth) error {
	log := w.logger().With("anchor", g.Anchor, "group_size", len(g.Members))
	minB, maxB := w.MinBackoff, w.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB <= 0 {
		maxB = 2 * time.Minute
	}
	upAfter := w.UpAfter
	if upAfter <= 0 {
		upAfter = 10 * time.Second
	}
	timeout := w.ConnectionTimeout
	if timeout <= 0 || timeout > DefaultConnectionTimeout {
		timeout = DefaultConnectionTimeout
	}
	backoff := minB
	fail := func() error {
		d := backoff/2 + time.Duration(float64(backoff/2)*jitter())
		backoff = min(backoff*2, maxB)
		return sleepCtx(ctx, d)
	}
	st := &groupState{members: append([]string(nil), g.Members...), health: health}
	first, authRetried, notFound := true, false, 0
	defer func() {
		if ctx.Err() != nil {
			w.unsubscribeAll(st, log)
		}
	}()
	for ctx.Err() == nil {
		if len(st.members) == 0 {
			log.Warn("ews watch: no mailbox of the group can be subscribed")
			<-ctx.Done()
			return nil
		}
		if st.sess == nil {
			st.sess = NewAffinitySession(st.members[0])
			st.subs = map[string]string{}
			st.pending = append([]string(nil), st.members...)
		}
		resubscribed, err := w.subscribePending(ctx, st, log)
		if err != nil {
			if isFatal(err) {
				if !authRetried && w.Client.retry.refreshAuth(err) {
					authRetried = true
					continue
				}
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			log.Info("ews watch: subscribe failed; retrying", "err", err)
			health.down(st.members, err)
			if fail() != nil {
				return nil
			}
			continue
		}
		if !first {
			// Subscriptions were lost: events may have been missed.
			for _, m := range resubscribed {
				changed(m)
			}
		}
		first = false
		authRetried = false
		if len(st.subs) == 0 {
			if fail() != nil {
				return nil
			}
			continue
		}
		ids := make([]string, 0, len(st.subs))
		for id := range st.subs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		delivered, lost := false, false
		attempt, members := health.begin(), slices.Clone(st.members)
		upTimer := time.AfterFunc(upAfter, func() { health.up(attempt, members) })
		streamCtx, endStream := context.WithCancel(ctx)
		err = w.Client.GetStreamingEvents(streamCtx, st.sess, st.members[0], ids, timeout, func(r StreamResponse) {
			if r.Err == nil {
				health.up(attempt, members)
			}
			for _, n := range r.Notifications {
				mb, ok := st.subs[n.SubscriptionID]
				if !ok {
					continue
				}
				for _, e := range n.Events {
					if e.Kind != "StatusEvent" {
						delivered = true
						changed(mb)
						break
					}
				}
			}
			for _, id := range r.ErrorSubscriptionIDs {
				mb, ok := st.subs[id]
				if !ok {
					continue
				}
				if r.Err != nil && r.Err.ResponseCode == "ErrorMissedNotificationEvents" {
					changed(mb) // the subscription stays; resync
					continue
				}
				delete(st.subs, id)
				st.pending = append(st.pending, mb)
				lost = true
			}
			if lost {
				endStream() // subscribe the lost ones again now, not in 30 minutes
			}
		})
		endStream()
		upTimer.Stop()
		cameUp := health.end()
		if cameUp {
			backoff, notFound = minB, 0
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case lost:
			log.Info("ews watch: the server dropped subscriptions; subscribing again", "count", len(st.pending))
			continue
		case err == nil:
			if delivered || cameUp {
				continue
			}
			log.Debug("ews watch: streaming connection ended at once")
			health.down(members, errEndedAtOnce)
			if fail() != nil {
				return nil
			}
		case isFatal(err):
			if !authRetried && w.Client.retry.refreshAuth(err) {
				authRetried = true
				continue
			}
			return err
		case IsSubscriptionNotFound(err):
			log.Info("ews watch: subscriptions lost; subscribing again", "err", err)
			st.sess = nil
			// Once is normal (the subscriptions expired); again, right
			// after subscribing, means streaming does not work for now.
			if notFound++; notFound > 1 {
				health.down(members, err)
				if fail() != nil {
					return nil
				}
			}
		default:
			log.Info("ews watch: streaming connection failed; reconnecting", "err", err)
			health.down(members, err)
			if fail() != nil {
				return nil
			}
		}
	}
	return nil
}

// subscribePending subscribes the group's members without a subscription,
// the anchor first when the session is new; it returns the mailboxes it
// subscribed. Mailboxes that can never be subscribed are dropped from the
// group (a new anchor is chosen when that is the anchor).
func (w *Watcher) subscribePending(ctx context.Context, st *groupState, log *slog.Logger) ([]string, error) {
	var done []string
	var keep []string
	for i, m := range st.pending {
		id, err := w.Client.Subscribe(ctx, st.sess, m)
		if err != nil {
			if isUnsubscribable(err) {
				log.Warn("ews watch: mailbox cannot be subscribed; not watched", "mailbox", m, "err", err)
				st.health.dropped(m, err)
				st.members = removeString(st.members, m)
				if len(st.members) > 0 && st.sess.Anchor() != st.members[0] && len(st.subs) == 0 {
					// the anchor went away before anything was subscribed
					st.sess = NewAffinitySession(st.members[0])
					st.pending = append(st.pending[:0:0], st.members...)
					return w.subscribePending(ctx, st, log)
				}
				continue
			}
			keep = append(keep, st.pending[i:]...)
			st.pending = keep
			return done, err
		}
		st.subs[id] = m
		done = append(done, m)
	}
	st.pending = keep
	return done, nil
}

// unsubscribeAll ends the group's subscriptions when the watch stops, so
// that restarts do not pile up subscriptions against Exchange's limit of 20
// per mailbox. It is best effort and bounded in time.
func (w *Watcher) unsubscribeAll(st *groupState, log *slog.Logger) {
	if st.sess == nil || len(st.subs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id, mb := range st.subs {
		if err := w.Client.Unsubscribe(ctx, st.sess, mb, id); err != nil {
			log.Debug("ews watch: unsubscribe failed", "mailbox", mb, "err", err)
			if ctx.Err() != nil {
				return
			}
		}
	}
	st.subs = map[string]string{}
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
