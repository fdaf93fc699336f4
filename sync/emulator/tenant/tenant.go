// Package tenant is the data model of the emulated Exchange Online tenant:
// mailboxes and their calendar items, generated deterministically from a
// seed, changed by tests while the emulator runs, with a per-mailbox change
// journal (for SyncFolderItems) and change events (for streaming
// notifications), and Exchange's own recurrence expansion (CalendarView).
//
// It is written from Microsoft's EWS documentation and shares no code with
// ExoCal's client side (sync/calendar, sync/ews, sync/ics): it is the ground
// truth the client is checked against. Its vocabulary is EWS's own words
// ("Weekly", "AbsoluteMonthly", "W. Europe Standard Time", "Tentative").
//
// API CONTRACT (fixed; the HTTP layer in sync/emulator codes against it):
// the exported names below must keep these signatures.
package tenant

import "time"

// Config says what tenant to generate.
type Config struct {
	Seed      int64
	Mailboxes int       // number of mailboxes, addresses user001@Domain ... (plus room/resource mailboxes among them)
	Events    int       // items per mailbox (masters and single items; exceptions not counted)
	Now       time.Time // items spread from Now-1 month to Now+1 year
	Domain    string    // default "contoso.onmicrosoft.com"
}

// Item is a calendar item as Exchange stores it: a single item, or a
// recurring master with its exceptions. Times are UTC instants.
type Item struct {
	ID        string // EWS ItemId Id (opaque, base64)
	ChangeKey string // changes on every update
	UID       string // iCalendar UID, shared by master and occurrences

	Subject, Location, Body string
	Start, End              time.Time
	AllDay                  bool
	StartTimeZone           string // Windows time zone id, e.g. "W. Europe Standard Time"
	EndTimeZone             string // usually == StartTimeZone

	Recurrence *Recurrence // nil for a single item
	// DeletedOccurrences: original starts of deleted occurrences.
	DeletedOccurrences []time.Time
	// ModifiedOccurrences: exceptions; each has OriginalStart and its own ID.
	ModifiedOccurrences []Item
	OriginalStart       time.Time // exceptions only

	Organizer Person
	Attendees []Attendee // required, optional, resource

	Categories      []string
	FreeBusy        string // LegacyFreeBusyType: Free, Tentative, Busy, OOF, WorkingElsewhere, NoData
	Sensitivity     string // Normal, Personal, Private, Confidential
	ReminderSet     bool
	ReminderMinutes int
	IsCancelled     bool
	IsMeeting       bool

	Created, LastModified time.Time
	Sequence              int // AppointmentSequenceNumber
}

// Person is a mailbox user.
type Person struct{ Name, Email string }

// Attendee is an invited person with a role and a response
// (ResponseTypeType: Unknown, Organizer, Tentative, Accept, Decline, NoResponseReceived).
type Attendee struct {
	Person
	Role     string // Required, Optional, Resource
	Response string
}

// Recurrence is an EWS RecurrenceType: one pattern and one range.
type Recurrence struct {
	Pattern        string   // Daily, Weekly, AbsoluteMonthly, RelativeMonthly, AbsoluteYearly, RelativeYearly
	Interval       int      // not used by the yearly patterns
	DaysOfWeek     []string // Weekly: days; Relative*: one of Sunday..Saturday, Day, Weekday, WeekendDay
	FirstDayOfWeek string   // Weekly
	DayOfMonth     int      // Absolute*
	DayOfWeekIndex string   // Relative*: First, Second, Third, Fourth, Last
	Month          string   // *Yearly: January..December

	Range     string // NoEnd, EndDate, Numbered
	StartDate string // yyyy-mm-dd, local date in StartTimeZone
	EndDate   string // EndDate range
	Count     int    // Numbered range
}

// Occurrence is one instance of a calendar view: a single item, or an
// occurrence or exception of a series (CalendarItemType Single, Occurrence,
// Exception).
type Occurrence struct {
	ItemID        string // the occurrence's own id (OccurrenceItemId-like for a plain occurrence)
	MasterID      string // "" for a single item
	UID           string
	InstanceIndex int    // 1-based index in the series, 0 for a single item
	Type          string // Single, Occurrence, Exception
	Subject       string
	Start, End    time.Time
	OriginalStart time.Time // zero for a single item
	AllDay        bool
	FreeBusy      string
	Sensitivity   string
	IsCancelled   bool
}

// ChangeKind is the kind of a journal entry.
type ChangeKind int

const (
	Created ChangeKind = iota + 1
	Updated
	Deleted
)

// Change is one entry of a mailbox's calendar change journal.
type Change struct {
	Seq    uint64
	Kind   ChangeKind
	ItemID string
}

// Tenant is a set of mailboxes. All methods are safe for concurrent use.
type Tenant struct {
	impl *state
}

// Generate builds a tenant deterministically from cfg.
func Generate(cfg Config) *Tenant { return generate(cfg) }

// Domain returns the tenant's verified domain.
func (t *Tenant) Domain() string { return t.impl.domain() }

// Mailboxes returns every mailbox address, sorted.
func (t *Tenant) Mailboxes() []string { return t.impl.mailboxes() }

// HasMailbox reports whether addr (case-insensitive) is a mailbox.
func (t *Tenant) HasMailbox(addr string) bool { return t.impl.hasMailbox(addr) }

// Items returns deep copies of mailbox's calendar items (masters and singles), sorted by ID.
func (t *Tenant) Items(mailbox string) []Item { return t.impl.items(mailbox) }

// Item returns a deep copy of one item by ID; exceptions are found by their own ID too.
func (t *Tenant) Item(mailbox, id string) (Item, bool) { return t.impl.item(mailbox, id) }

// Add stores a new item (ID, ChangeKey, UID, Created, LastModified are
// assigned when empty), journals a Created change and notifies watchers.
func (t *Tenant) Add(mailbox string, it Item) (Item, error) { return t.impl.add(mailbox, it) }

// Update changes an item in place through fn, bumps ChangeKey, LastModified
// and Sequence, journals Updated and notifies watchers.
func (t *Tenant) Update(mailbox, id string, fn func(*Item)) (Item, error) {
	return t.impl.update(mailbox, id, fn)
}

// Delete removes an item, journals Deleted and notifies watchers.
func (t *Tenant) Delete(mailbox, id string) error { return t.impl.delete(mailbox, id) }

// Journal returns the changes of mailbox after seq (exclusive), oldest
// first, and the journal head. Compaction is the caller's business: the
// journal keeps the latest change per item.
func (t *Tenant) Journal(mailbox string, after uint64) (changes []Change, head uint64) {
	return t.impl.journal(mailbox, after)
}

// Watch calls fn (on its own goroutine, never under the tenant's lock)
// with the mailbox and change after every Add, Update and Delete in any
// mailbox, until the returned cancel is called.
func (t *Tenant) Watch(fn func(mailbox string, c Change)) (cancel func()) { return t.impl.watch(fn) }

// CalendarView expands mailbox's calendar the way Exchange's CalendarView
// does: single items, occurrences and exceptions (no masters) that end after
// start and start before end, deleted occurrences left out, sorted by start
// then ItemID.
func (t *Tenant) CalendarView(mailbox string, start, end time.Time) []Occurrence {
	return t.impl.calendarView(mailbox, start, end)
}

// Expand expands one item (master or single) over [start, end) with
// CalendarView's rules.
func Expand(it Item, start, end time.Time) []Occurrence { return expand(it, start, end) }

// Zone returns the definition of a Windows time zone id the tenant uses:
// its IANA location (for expansion) and the EWS TimeZoneDefinition facts
// (bias and transitions) the HTTP layer writes. ok is false for an unknown id.
func Zone(windowsID string) (z ZoneInfo, ok bool) { return zone(windowsID) }

// ZoneInfo describes a Windows time zone as EWS's TimeZoneDefinitionType
// does (Periods + a recurring TransitionsGroup).
type ZoneInfo struct {
	ID, Name     string
	Location     *time.Location
	StandardBias time.Duration // EWS Bias of the standard period (UTC = local + bias)
	DaylightBias time.Duration // total bias in daylight time; == StandardBias when no DST
	// ToStandard/ToDaylight: nil when no DST.
	ToStandard, ToDaylight *ZoneTransition
}

// ZoneTransition is an EWS RecurringDayTransition.
type ZoneTransition struct {
	TimeOffset time.Duration // local time of day
	Month      int           // 1..12
	DayOfWeek  string        // Sunday..Saturday
	Occurrence int           // 1..4, -1 = last
}

// ZoneIDs lists the Windows zone ids the generator uses.
func ZoneIDs() []string { return zoneIDs() }

// GroundTruth is the JSON ground-truth dump of the tenant: every mailbox's
// items, and each item's occurrences over [start, end).
type GroundTruth struct {
	Mailboxes map[string][]Item       `json:"mailboxes"`
	View      map[string][]Occurrence `json:"view"`
	Start     time.Time               `json:"start"`
	End       time.Time               `json:"end"`
}

// Dump returns the ground truth with the calendar view over [start, end).
func (t *Tenant) Dump(start, end time.Time) GroundTruth { return t.impl.dump(start, end) }
