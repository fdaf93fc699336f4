package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// fakeSource is an in-memory calendar service with a change journal: a
// state is "seq:N", a page carries up to pageSize changes after N.
type fakeSource struct {
	mu       sync.Mutex
	pageSize int
	items    map[string]map[string]calendar.Event // mailbox → id → event
	journal  map[string][]string                  // mailbox → changed ids, in order
	calls    map[string]int
	// faults
	invalidOnce map[string]bool // refuse the next non-empty state once
	failNext    map[string]int  // fail this many next calls
	block       bool            // block until ctx is done
	gate        chan struct{}   // when set, each call waits until it is closed
	nextID      int
}

var errTransient = errors.New("fake: connection reset")

func newFakeSource(pageSize int, mailboxes []string, perMailbox int) *fakeSource {
	f := &fakeSource{
		pageSize: pageSize, items: map[string]map[string]calendar.Event{}, journal: map[string][]string{},
		calls: map[string]int{}, invalidOnce: map[string]bool{}, failNext: map[string]int{},
	}
	for _, mb := range mailboxes {
		f.items[mb] = map[string]calendar.Event{}
		for i := 0; i < perMailbox; i++ {
			f.add(mb, fmt.Sprintf("event %d", i))
		}
	}
	return f
}

func (f *fakeSource) add(mb, subject string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("%s/%04d", mb, f.nextID)
	start := time.Now().Add(time.Duration(f.nextID) * time.Hour).Truncate(time.Second).UTC()
	f.items[mb][id] = calendar.Event{ItemID: id, ChangeKey: "1", UID: id, Subject: subject, Start: start, End: start.Add(time.Hour)}
	f.journal[mb] = append(f.journal[mb], id)
	return id
}

func (f *fakeSource) update(mb, id, subject string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.items[mb][id]
	n, _ := strconv.Atoi(e.ChangeKey)
	e.Subject, e.ChangeKey = subject, strconv.Itoa(n+1)
	f.items[mb][id] = e
	f.journal[mb] = append(f.journal[mb], id)
}

func (f *fakeSource) remove(mb, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.items[mb], id)
	f.journal[mb] = append(f.journal[mb], id)
}

func (f *fakeSource) SyncPage(ctx context.Context, mb, state string) (calendar.Page, error) {
	f.mu.Lock()
	f.calls[mb]++
	block, gate := f.block, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return calendar.Page{}, ctx.Err()
		}
	}
	if block {
		<-ctx.Done()
		return calendar.Page{}, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext[mb] > 0 {
		f.failNext[mb]--
		return calendar.Page{}, fmt.Errorf("fake: sync %s: %w", mb, errTransient)
	}
	if state != "" && f.invalidOnce[mb] {
		delete(f.invalidOnce, mb)
		return calendar.Page{}, fmt.Errorf("fake: %w", calendar.ErrInvalidSyncState)
	}
	if _, ok := f.items[mb]; !ok {
		return calendar.Page{}, fmt.Errorf("fake: no mailbox %s", mb)
	}
	j := f.journal[mb]
	var p calendar.Page
	if state == "" || strings.HasPrefix(state, "full:") {
		// A full sync pages through the current items: "full:OFFSET:HEAD",
		// then continues incrementally from the journal head it started at.
		off, head := 0, len(j)
		if state != "" {
			if _, err := fmt.Sscanf(state, "full:%d:%d", &off, &head); err != nil {
				return p, fmt.Errorf("fake: %w", calendar.ErrInvalidSyncState)
			}
		}
		ids := slices.Sorted(maps.Keys(f.items[mb]))
		off = min(off, len(ids))
		end := min(off+f.pageSize, len(ids))
		for _, id := range ids[off:end] {
			p.Upserts = append(p.Upserts, f.items[mb][id])
		}
		if end < len(ids) {
			p.State = fmt.Sprintf("full:%d:%d", end, head)
			return p, nil
		}
		p.State, p.Done = "seq:"+strconv.Itoa(head), head == len(j)
		return p, nil
	}
	after, err := strconv.Atoi(strings.TrimPrefix(state, "seq:"))
	if err != nil {
		return p, fmt.Errorf("fake: %w", calendar.ErrInvalidSyncState)
	}
	end := min(after+f.pageSize, len(j))
	seen := map[string]bool{}
	for _, id := range j[after:end] {
		if seen[id] {
			continue
		}
		seen[id] = true
		if e, ok := f.items[mb][id]; ok {
			p.Upserts = append(p.Upserts, e)
		} else {
			p.Deletes = append(p.Deletes, id)
		}
	}
	p.State, p.Done = "seq:"+strconv.Itoa(end), end == len(j)
	return p, nil
}

func (f *fakeSource) callCount(mb string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[mb]
}

// truth returns mb's items as "id=changekey:subject", sorted.
func (f *fakeSource) truth(mb string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.items[mb] {
		out = append(out, e.ItemID+"="+e.ChangeKey+":"+e.Subject)
	}
	slices.Sort(out)
	return out
}

// fakeSink records each mailbox's rendered events.
type fakeSink struct {
	mu      sync.Mutex
	files   map[string][]string
	writes  map[string]int
	renders int
	opts    RenderOptions
}

func newFakeSink() *fakeSink {
	return &fakeSink{files: map[string][]string{}, writes: map[string]int{}}
}

func (s *fakeSink) Render(_ context.Context, mb string, events []calendar.Event, opts RenderOptions) (bool, error) {
	var got []string
	for _, e := range events {
		got = append(got, e.ItemID+"="+e.ChangeKey+":"+e.Subject)
	}
	slices.Sort(got)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renders++
	s.opts = opts
	if old, ok := s.files[mb]; ok && slices.Equal(old, got) {
		return false, nil
	}
	s.files[mb] = got
	s.writes[mb]++
	return true, nil
}

func (s *fakeSink) file(mb string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.files[mb])
}

func (s *fakeSink) writeCount(mb string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes[mb]
}

// fakeWatcher hands out the changed callback; failures makes the first n
// Watch calls fail at once.
type fakeWatcher struct {
	mu         sync.Mutex
	changed    func(string)
	failures   int
	calls      int
	alwaysFail bool
	watching   []string
}

func (w *fakeWatcher) Watch(ctx context.Context, mailboxes []string, changed func(string)) error {
	w.mu.Lock()
	w.calls++
	if w.alwaysFail || w.failures > 0 {
		w.failures--
		w.mu.Unlock()
		return errors.New("fake: subscribe: 503 service unavailable")
	}
	w.changed, w.watching = changed, slices.Clone(mailboxes)
	w.mu.Unlock()
	<-ctx.Done()
	w.mu.Lock()
	w.changed = nil
	w.mu.Unlock()
	return ctx.Err()
}

// fire reports mb changed; false when no Watch is running.
func (w *fakeWatcher) fire(mb string) bool {
	w.mu.Lock()
	fn := w.changed
	w.mu.Unlock()
	if fn == nil {
		return false
	}
	fn(mb)
	fn(mb) // notifications may repeat
	return true
}

// fakeHealthWatcher is a fakeWatcher that also reports stream health: up
// for every mailbox when Watch starts, then as the test says (setHealth).
type fakeHealthWatcher struct {
	fakeWatcher
	health func([]string, bool, error)
}

func (w *fakeHealthWatcher) WatchHealth(ctx context.Context, mailboxes []string, changed func(string), health func([]string, bool, error)) error {
	w.mu.Lock()
	w.health = health
	w.mu.Unlock()
	health(mailboxes, true, nil)
	err := w.Watch(ctx, mailboxes, changed)
	w.mu.Lock()
	w.health = nil
	w.mu.Unlock()
	return err
}

func (w *fakeHealthWatcher) setHealth(mbs []string, up bool, err error) {
	w.mu.Lock()
	fn := w.health
	w.mu.Unlock()
	fn(mbs, up, err)
}
