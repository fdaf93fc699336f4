package tenant

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by the mutation methods; test them with errors.Is.
var (
	// ErrNoMailbox: the address is not a mailbox of the tenant.
	ErrNoMailbox = errors.New("tenant: no such mailbox")
	// ErrNoItem: the id names no item (nor exception, nor occurrence) of the mailbox.
	ErrNoItem = errors.New("tenant: no such item")
	// ErrInvalidItem: the item breaks a rule of Exchange's data model.
	ErrInvalidItem = errors.New("tenant: invalid item")
)

// state is the implementation behind Tenant. One RWMutex guards all
// mailboxes; watchers are fed off-lock through per-watcher queues.
type state struct {
	mu     sync.RWMutex
	dom    string
	boxes  map[string]*mailbox // by lower-case address
	addrs  []string            // sorted
	now    time.Time           // cfg.Now
	clock  time.Time           // last mutation time handed out (monotonic)
	wallFn func() time.Time    // nil: logical clock

	wmu      sync.Mutex
	watchers map[int]*watcher
	nextW    int
}

// mailbox is one mailbox's calendar.
type mailbox struct {
	addr  string
	index int // mailbox number used in ids
	name  string
	room  bool

	items    map[string]*Item  // masters and singles by ID
	excOwner map[string]string // exception ID -> master ID
	nextItem int               // last item number handed out

	seq     uint64
	log     []journalEntry        // append-only, superseded entries skipped
	latest  map[string]int        // item ID -> index in log of its latest entry
	created map[string]uint64     // item ID -> seq of its Created entry (0: existed before the journal)
	version map[string]int        // item ID -> ChangeKey version
	occIDs  map[string]occurrence // occurrence ID -> master + index, filled lazily by expansion
}

type journalEntry struct {
	Change
}

type occurrence struct {
	master string
	index  int
}

func newState(domain string, now time.Time) *state {
	return &state{
		dom:      domain,
		boxes:    map[string]*mailbox{},
		now:      now.UTC(),
		clock:    now.UTC(),
		watchers: map[int]*watcher{},
	}
}

func (s *state) addMailbox(addr, name string, index int, room bool) *mailbox {
	mb := &mailbox{
		addr: addr, index: index, name: name, room: room,
		items:    map[string]*Item{},
		excOwner: map[string]string{},
		latest:   map[string]int{},
		created:  map[string]uint64{},
		version:  map[string]int{},
		occIDs:   map[string]occurrence{},
	}
	s.boxes[strings.ToLower(addr)] = mb
	s.addrs = append(s.addrs, addr)
	sort.Strings(s.addrs)
	return mb
}

func (s *state) box(addr string) *mailbox { return s.boxes[strings.ToLower(strings.TrimSpace(addr))] }

func (s *state) domain() string { return s.dom }

func (s *state) mailboxes() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.addrs)
}

func (s *state) hasMailbox(addr string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.box(addr) != nil
}

func (s *state) items(addr string) []Item {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.box(addr)
	if mb == nil {
		return nil
	}
	return mb.sortedItems()
}

func (mb *mailbox) sortedItems() []Item {
	out := make([]Item, 0, len(mb.items))
	for _, it := range mb.items {
		out = append(out, cloneItem(*it))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *state) item(addr, id string) (Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.box(addr)
	if mb == nil {
		return Item{}, false
	}
	if it, ok := mb.items[id]; ok {
		return cloneItem(*it), true
	}
	if m, ok := mb.excOwner[id]; ok {
		for _, e := range mb.items[m].ModifiedOccurrences {
			if e.ID == id {
				return cloneItem(e), true
			}
		}
	}
	return Item{}, false
}

// ---- ids ----

func encodeID(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func itemID(mbx, n int) string { return encodeID(fmt.Sprintf("mbx:%03d:item:%06d", mbx, n)) }

func exceptionID(mbx, n, k int) string {
	return encodeID(fmt.Sprintf("mbx:%03d:item:%06d:exc:%04d", mbx, n, k))
}

func changeKey(id string, version int) string {
	return encodeID(fmt.Sprintf("CK:%s:v%d", id, version))
}

// OccurrenceID returns the id the tenant gives the index-th (1-based)
// occurrence of the series masterID, the way an OccurrenceItemId names it.
func OccurrenceID(masterID string, index int) string {
	var buf [160]byte
	raw := append(append(append(buf[:0], "occ:"...), masterID...), ':')
	raw = strconv.AppendInt(raw, int64(index), 10)
	return base64.StdEncoding.EncodeToString(raw)
}

// ParseOccurrenceID reverses OccurrenceID.
func ParseOccurrenceID(id string) (masterID string, index int, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil || !strings.HasPrefix(string(raw), "occ:") {
		return "", 0, false
	}
	rest := string(raw[4:])
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", 0, false
	}
	if _, err := fmt.Sscanf(rest[i+1:], "%d", &index); err != nil || index < 1 {
		return "", 0, false
	}
	return rest[:i], index, true
}

// ---- clock ----

// SetClock makes mutations stamp LastModified (and Created) from now
// instead of the default logical clock. Without it the tenant is fully
// deterministic: the n-th mutation happens at cfg.Now + n seconds. Either
// way LastModified strictly increases across all mutations of the tenant.
func (t *Tenant) SetClock(now func() time.Time) {
	t.impl.mu.Lock()
	t.impl.wallFn = now
	t.impl.mu.Unlock()
}

// tick returns the next mutation time; s.mu must be held for writing.
func (s *state) tick() time.Time {
	next := s.clock.Add(time.Second)
	if s.wallFn != nil {
		next = s.clock.Add(time.Millisecond)
		if w := s.wallFn().UTC().Truncate(time.Millisecond); w.After(next) {
			next = w
		}
	}
	s.clock = next
	return next
}

// ---- mutation ----

func (s *state) add(addr string, it Item) (Item, error) {
	s.mu.Lock()
	mb := s.box(addr)
	if mb == nil {
		s.mu.Unlock()
		return Item{}, fmt.Errorf("tenant: add to %q: %w", addr, ErrNoMailbox)
	}
	it = cloneItem(it)
	normalize(&it)
	if err := validate(&it); err != nil {
		s.mu.Unlock()
		return Item{}, fmt.Errorf("tenant: add to %q: %w", addr, err)
	}
	alignMaster(&it)
	now := s.tick()
	mb.nextItem++
	n := mb.nextItem
	if it.ID == "" {
		it.ID = itemID(mb.index, n)
		for mb.items[it.ID] != nil || mb.excOwner[it.ID] != "" || mb.version[it.ID] != 0 { // a caller chose this id before
			mb.nextItem++
			n = mb.nextItem
			it.ID = itemID(mb.index, n)
		}
	}
	if _, dup := mb.items[it.ID]; dup {
		s.mu.Unlock()
		return Item{}, fmt.Errorf("tenant: add to %q: id %s exists: %w", addr, it.ID, ErrInvalidItem)
	}
	if _, dup := mb.excOwner[it.ID]; dup {
		s.mu.Unlock()
		return Item{}, fmt.Errorf("tenant: add to %q: id %s exists: %w", addr, it.ID, ErrInvalidItem)
	}
	if it.UID == "" {
		it.UID = uidFor(mb.index, n)
	}
	if it.Organizer == (Person{}) {
		it.Organizer = Person{Name: mb.name, Email: mb.addr} // as Exchange does for an appointment
	}
	if it.Created.IsZero() {
		it.Created = now
	}
	if it.LastModified.IsZero() {
		it.LastModified = now
	}
	mb.version[it.ID] = 1
	if it.ChangeKey == "" {
		it.ChangeKey = changeKey(it.ID, 1)
	}
	for k := range it.ModifiedOccurrences {
		e := &it.ModifiedOccurrences[k]
		if e.ID == "" {
			e.ID = exceptionID(mb.index, n, k+1)
		}
		fillException(e, &it, now)
	}
	mb.insert(&it)
	c := mb.record(it.ID, Created)
	s.notify(mb.addr, c)
	out := cloneItem(it)
	s.mu.Unlock()
	return out, nil
}

// insert stores it (no journal); used by add and the generator.
func (mb *mailbox) insert(it *Item) {
	p := new(Item)
	*p = *it
	mb.items[p.ID] = p
	for _, e := range p.ModifiedOccurrences {
		mb.excOwner[e.ID] = p.ID
		if _, ok := mb.version[e.ID]; !ok {
			mb.version[e.ID] = 1
		}
	}
	if _, ok := mb.version[p.ID]; !ok {
		mb.version[p.ID] = 1
	}
}

// fillException gives an exception the master's identity fields it shares.
func fillException(e *Item, m *Item, now time.Time) {
	e.UID = m.UID
	e.Recurrence = nil
	e.DeletedOccurrences = nil
	e.ModifiedOccurrences = nil
	if e.StartTimeZone == "" {
		e.StartTimeZone = m.StartTimeZone
	}
	if e.EndTimeZone == "" {
		e.EndTimeZone = e.StartTimeZone
	}
	if e.Created.IsZero() {
		e.Created = m.Created
	}
	if e.LastModified.IsZero() {
		e.LastModified = now
	}
	if e.ChangeKey == "" {
		e.ChangeKey = changeKey(e.ID, 1)
	}
}

func (s *state) update(addr, id string, fn func(*Item)) (Item, error) {
	s.mu.Lock()
	mb := s.box(addr)
	if mb == nil {
		s.mu.Unlock()
		return Item{}, fmt.Errorf("tenant: update in %q: %w", addr, ErrNoMailbox)
	}
	masterID, excIdx := id, -1
	var fresh *Item // a plain occurrence being turned into an exception
	m, ok := mb.items[id]
	if !ok {
		mid, isExc := mb.excOwner[id]
		if !isExc {
			// An occurrence id: changing an occurrence makes it an exception.
			oMid, idx, isOcc := ParseOccurrenceID(id)
			if !isOcc || mb.items[oMid] == nil || mb.items[oMid].Recurrence == nil {
				s.mu.Unlock()
				return Item{}, fmt.Errorf("tenant: update %s in %q: %w", id, addr, ErrNoItem)
			}
			o, found := nthOccurrence(*mb.items[oMid], idx)
			switch {
			case !found:
				s.mu.Unlock()
				return Item{}, fmt.Errorf("tenant: update %s in %q: %w", id, addr, ErrOccurrenceOutOfRange)
			case slices.ContainsFunc(mb.items[oMid].DeletedOccurrences, o.OriginalStart.Equal):
				s.mu.Unlock()
				return Item{}, fmt.Errorf("tenant: update %s in %q: %w", id, addr, ErrOccurrenceDeleted)
			case o.Type == "Exception":
				mid, id = oMid, o.ItemID
			default:
				mid = oMid
				e := cloneItem(*mb.items[oMid])
				e.ID, e.ChangeKey, e.Recurrence, e.DeletedOccurrences, e.ModifiedOccurrences = "", "", nil, nil, nil
				e.Start, e.End, e.OriginalStart = o.Start, o.End, o.OriginalStart
				e.Created = time.Time{}
				fresh = &e
			}
		}
		masterID, m = mid, mb.items[mid]
		for k := range m.ModifiedOccurrences {
			if m.ModifiedOccurrences[k].ID == id {
				excIdx = k
			}
		}
	}
	next := cloneItem(*m)
	switch {
	case fresh != nil:
		orig := fresh.OriginalStart
		fn(fresh)
		fresh.ID, fresh.OriginalStart = "", orig
		next.ModifiedOccurrences = append(next.ModifiedOccurrences, *fresh)
		excIdx = len(next.ModifiedOccurrences) - 1
	case excIdx >= 0:
		e := cloneItem(next.ModifiedOccurrences[excIdx])
		fn(&e)
		e.ID, e.OriginalStart = id, next.ModifiedOccurrences[excIdx].OriginalStart
		next.ModifiedOccurrences[excIdx] = e
	default:
		fn(&next)
		next.ID = masterID
	}
	normalize(&next)
	if err := validate(&next); err != nil {
		s.mu.Unlock()
		return Item{}, fmt.Errorf("tenant: update %s in %q: %w", id, addr, err)
	}
	if excIdx < 0 {
		alignMaster(&next)
		pruneExceptions(m, &next)
	}
	now := s.tick()
	mb.version[masterID]++
	next.ChangeKey = changeKey(masterID, mb.version[masterID])
	next.LastModified = now
	next.Sequence = m.Sequence + 1
	// Exceptions that are new or changed get ids, keys and times.
	old := map[string]Item{}
	for _, e := range m.ModifiedOccurrences {
		old[e.ID] = e
	}
	for _, e := range m.ModifiedOccurrences {
		delete(mb.excOwner, e.ID)
	}
	for k := range next.ModifiedOccurrences {
		e := &next.ModifiedOccurrences[k]
		if e.ID == "" {
			mb.nextItem++
			e.ID = exceptionID(mb.index, mb.nextItem, k+1)
		}
		if prev, ok := old[e.ID]; !ok || !itemsEqual(prev, *e) || e.ID == id {
			mb.version[e.ID]++
			e.ChangeKey = changeKey(e.ID, mb.version[e.ID])
			e.LastModified = now
		}
		fillException(e, &next, now)
	}
	mb.insert(&next)
	c := mb.record(masterID, Updated)
	s.notify(mb.addr, c)
	out := cloneItem(next)
	if excIdx >= 0 {
		out = cloneItem(next.ModifiedOccurrences[excIdx])
	}
	s.mu.Unlock()
	return out, nil
}

// delete removes a master or single item. Deleting an exception or an
// occurrence (by its OccurrenceID) does what Exchange does when one
// instance of a series is deleted: the master gains a DeletedOccurrence
// and is journaled as Updated.
func (s *state) delete(addr, id string) error {
	s.mu.Lock()
	mb := s.box(addr)
	if mb == nil {
		s.mu.Unlock()
		return fmt.Errorf("tenant: delete in %q: %w", addr, ErrNoMailbox)
	}
	if _, ok := mb.items[id]; ok {
		s.tick()
		it := mb.items[id]
		for _, e := range it.ModifiedOccurrences {
			delete(mb.excOwner, e.ID)
		}
		delete(mb.items, id)
		c := mb.record(id, Deleted)
		s.notify(mb.addr, c)
		s.mu.Unlock()
		return nil
	}
	var masterID string
	var original time.Time
	if mid, ok := mb.excOwner[id]; ok {
		masterID = mid
		for _, e := range mb.items[mid].ModifiedOccurrences {
			if e.ID == id {
				original = e.OriginalStart
			}
		}
	} else if mid, idx, ok := ParseOccurrenceID(id); ok && mb.items[mid] != nil && mb.items[mid].Recurrence != nil {
		occ, found := nthOccurrence(*mb.items[mid], idx)
		if !found {
			s.mu.Unlock()
			return fmt.Errorf("tenant: delete %s in %q: %w", id, addr, ErrNoItem)
		}
		masterID, original = mid, occ.OriginalStart
	} else {
		s.mu.Unlock()
		return fmt.Errorf("tenant: delete %s in %q: %w", id, addr, ErrNoItem)
	}
	s.mu.Unlock()
	_, err := s.update(addr, masterID, func(m *Item) {
		m.ModifiedOccurrences = slices.DeleteFunc(m.ModifiedOccurrences, func(e Item) bool { return e.OriginalStart.Equal(original) })
		if !slices.ContainsFunc(m.DeletedOccurrences, original.Equal) {
			m.DeletedOccurrences = append(m.DeletedOccurrences, original)
			slices.SortFunc(m.DeletedOccurrences, time.Time.Compare)
		}
	})
	return err
}

// ---- journal ----

// record appends a change for id, superseding its previous entry.
func (mb *mailbox) record(id string, kind ChangeKind) Change {
	mb.seq++
	c := Change{Seq: mb.seq, Kind: kind, ItemID: id}
	if kind == Created {
		mb.created[id] = mb.seq
	}
	mb.latest[id] = len(mb.log)
	mb.log = append(mb.log, journalEntry{c})
	if len(mb.log) > 64 && len(mb.log) > 2*len(mb.latest) {
		mb.compact()
	}
	return c
}

// compact drops superseded entries.
func (mb *mailbox) compact() {
	out := mb.log[:0:0]
	for i, e := range mb.log {
		if mb.latest[e.ItemID] == i {
			mb.latest[e.ItemID] = len(out)
			out = append(out, e)
		}
	}
	mb.log = out
}

// journal implements Tenant.Journal. It keeps only the latest change per
// item, and shapes it for a reader whose state is at seq after, as
// Exchange's SyncFolderItems does for a sync state:
//   - an item created after `after` and updated since is reported as
//     Created (the reader never saw it);
//   - an item created after `after` and deleted since is left out entirely
//     (it "vanishes": the reader never saw it and need not hear of it);
//   - otherwise the latest kind is reported.
//
// The Seq of every reported change is that of the item's latest entry.
// Generated items are journaled as Created (Seq 1..Events), so
// Journal(m, 0) is a full initial sync: every existing item as Created,
// and no deletions.
func (s *state) journal(addr string, after uint64) ([]Change, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.box(addr)
	if mb == nil {
		return nil, 0
	}
	// Entries are in Seq order; binary search the first after `after`.
	i := sort.Search(len(mb.log), func(i int) bool { return mb.log[i].Seq > after })
	var out []Change
	for k := i; k < len(mb.log); k++ {
		e := mb.log[k]
		if mb.latest[e.ItemID] != k {
			continue
		}
		c := e.Change
		if cs, ok := mb.created[c.ItemID]; ok && cs > after {
			switch c.Kind {
			case Deleted:
				continue
			case Updated:
				c.Kind = Created
			}
		}
		out = append(out, c)
	}
	return out, mb.seq
}

// ---- watch ----

// watcher feeds one Watch callback from an unbounded queue on its own
// goroutine, so a slow callback never blocks a mutation and calls happen
// in journal order.
type watcher struct {
	fn     func(string, Change)
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []watchEvent
	closed bool
}

type watchEvent struct {
	mailbox string
	c       Change
}

func (s *state) watch(fn func(string, Change)) func() {
	w := &watcher{fn: fn}
	w.cond = sync.NewCond(&w.mu)
	s.wmu.Lock()
	s.nextW++
	id := s.nextW
	s.watchers[id] = w
	s.wmu.Unlock()
	go w.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.wmu.Lock()
			delete(s.watchers, id)
			s.wmu.Unlock()
			w.mu.Lock()
			w.closed = true
			w.queue = nil
			w.cond.Broadcast()
			w.mu.Unlock()
		})
	}
}

func (w *watcher) run() {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return
		}
		ev := w.queue[0]
		w.queue[0] = watchEvent{}
		w.queue = w.queue[1:]
		w.mu.Unlock()
		w.fn(ev.mailbox, ev.c)
	}
}

// notify queues c for every watcher; called with s.mu held for writing,
// so queues receive changes in the order the journal records them.
func (s *state) notify(addr string, c Change) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for _, w := range s.watchers {
		w.mu.Lock()
		if !w.closed {
			w.queue = append(w.queue, watchEvent{addr, c})
			w.cond.Signal()
		}
		w.mu.Unlock()
	}
}

// ---- copies and checks ----

func cloneItem(it Item) Item {
	out := it
	if it.Recurrence != nil {
		r := *it.Recurrence
		r.DaysOfWeek = slices.Clone(r.DaysOfWeek)
		out.Recurrence = &r
	}
	out.DeletedOccurrences = slices.Clone(it.DeletedOccurrences)
	if it.ModifiedOccurrences != nil {
		out.ModifiedOccurrences = make([]Item, len(it.ModifiedOccurrences))
		for i, e := range it.ModifiedOccurrences {
			out.ModifiedOccurrences[i] = cloneItem(e)
		}
	}
	out.Attendees = slices.Clone(it.Attendees)
	out.Categories = slices.Clone(it.Categories)
	return out
}

func itemsEqual(a, b Item) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// normalize puts times in UTC and fills defaults Exchange would.
func normalize(it *Item) {
	it.Start, it.End = it.Start.UTC(), it.End.UTC()
	it.OriginalStart = it.OriginalStart.UTC()
	if it.StartTimeZone == "" {
		it.StartTimeZone = "UTC"
	}
	if it.EndTimeZone == "" {
		it.EndTimeZone = it.StartTimeZone
	}
	if it.FreeBusy == "" {
		it.FreeBusy = "Busy"
	}
	if it.Sensitivity == "" {
		it.Sensitivity = "Normal"
	}
	for i := range it.DeletedOccurrences {
		it.DeletedOccurrences[i] = it.DeletedOccurrences[i].UTC()
	}
	for i := range it.ModifiedOccurrences {
		e := &it.ModifiedOccurrences[i]
		e.Start, e.End, e.OriginalStart = e.Start.UTC(), e.End.UTC(), e.OriginalStart.UTC()
		if e.FreeBusy == "" {
			e.FreeBusy = it.FreeBusy
		}
		if e.Sensitivity == "" {
			e.Sensitivity = it.Sensitivity
		}
	}
}

var validFreeBusy = []string{"Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"}
var validSensitivity = []string{"Normal", "Personal", "Private", "Confidential"}

func validate(it *Item) error {
	if it.End.Before(it.Start) {
		return fmt.Errorf("end %s before start %s: %w", it.End, it.Start, ErrInvalidItem)
	}
	if _, ok := zone(it.StartTimeZone); !ok {
		return fmt.Errorf("unknown time zone %q: %w", it.StartTimeZone, ErrInvalidItem)
	}
	if _, ok := zone(it.EndTimeZone); !ok {
		return fmt.Errorf("unknown time zone %q: %w", it.EndTimeZone, ErrInvalidItem)
	}
	if !slices.Contains(validFreeBusy, it.FreeBusy) {
		return fmt.Errorf("free/busy %q: %w", it.FreeBusy, ErrInvalidItem)
	}
	if !slices.Contains(validSensitivity, it.Sensitivity) {
		return fmt.Errorf("sensitivity %q: %w", it.Sensitivity, ErrInvalidItem)
	}
	if it.Recurrence == nil {
		if len(it.ModifiedOccurrences) > 0 || len(it.DeletedOccurrences) > 0 {
			return fmt.Errorf("exceptions on a non-recurring item: %w", ErrInvalidItem)
		}
		return nil
	}
	if err := validateRecurrence(it); err != nil {
		return err
	}
	for _, e := range it.ModifiedOccurrences {
		if e.OriginalStart.IsZero() {
			return fmt.Errorf("exception without OriginalStart: %w", ErrInvalidItem)
		}
		if e.End.Before(e.Start) {
			return fmt.Errorf("exception end before start: %w", ErrInvalidItem)
		}
	}
	return nil
}

// uidFor makes the UID of an item added through Add: a Global Object ID in
// Exchange's hex form whose payload is the mailbox and item number.
func uidFor(mbx, n int) string {
	return "040000008200E00074C5B7101A82E008" + "00000000" + "0000000000000000" + "0000000000000000" + "10000000" +
		fmt.Sprintf("4D42%04X%08X0000000000000000", mbx, n)
}

// pruneExceptions drops the exceptions and deleted occurrences that no
// longer name an instance once a series' pattern or times change, as
// Exchange does when a series is edited (its exceptions are discarded;
// inferred from Outlook's "changes to the series remove exceptions").
func pruneExceptions(old *Item, next *Item) {
	if next.Recurrence == nil {
		next.ModifiedOccurrences, next.DeletedOccurrences = nil, nil
		return
	}
	if old.Recurrence != nil && reflect.DeepEqual(*old.Recurrence, *next.Recurrence) &&
		old.Start.Equal(next.Start) && old.End.Equal(next.End) && old.StartTimeZone == next.StartTimeZone && old.AllDay == next.AllDay {
		return
	}
	var last time.Time
	for _, e := range next.ModifiedOccurrences {
		if e.OriginalStart.After(last) {
			last = e.OriginalStart
		}
	}
	for _, d := range next.DeletedOccurrences {
		if d.After(last) {
			last = d
		}
	}
	sr, err := newSeries(next)
	if err != nil {
		return
	}
	starts := map[int64]bool{}
	sr.walk(civilOf(last.In(sr.loc)).AddDate(0, 0, 1), func(in instance) bool {
		starts[in.start.UnixNano()] = true
		return !in.start.After(last)
	})
	next.ModifiedOccurrences = slices.DeleteFunc(next.ModifiedOccurrences, func(e Item) bool { return !starts[e.OriginalStart.UnixNano()] })
	next.DeletedOccurrences = slices.DeleteFunc(next.DeletedOccurrences, func(d time.Time) bool { return !starts[d.UnixNano()] })
}

// alignMaster does what Exchange does when a series is saved: the range's
// StartDate defaults to the master's local start date, and the master's
// Start/End move to the first instance of the pattern on or after it (a
// weekly Monday series "starting" on a Sunday begins on Monday), so the
// master always is its first occurrence.
func alignMaster(it *Item) {
	if it.Recurrence == nil {
		return
	}
	loc := location(it.StartTimeZone)
	if it.Recurrence.StartDate == "" {
		it.Recurrence.StartDate = FormatDate(civilOf(it.Start.In(loc)))
	}
	sr, err := newSeries(it)
	if err != nil {
		return
	}
	sr.walk(civil(9999, 12, 31), func(in instance) bool {
		it.Start, it.End = in.start, in.end
		return false
	})
}
