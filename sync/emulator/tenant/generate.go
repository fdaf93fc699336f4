package tenant

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// The generator builds every mailbox from its own PCG stream (seeded from
// cfg.Seed and the mailbox number), so a tenant is a pure function of
// cfg: same Seed and Now give the same mailboxes, items, ids, change keys
// and times. Each mailbox's first len(kinds) items walk the kinds list
// below in order (so even a small mailbox holds every kind); later items
// draw kinds at random, weighted towards what real calendars hold.
//
// Every item's first occurrence starts in [Now-25d, Now+330d], inside a
// default sync window (30 days back, 365 ahead); exceptions and deleted
// occurrences are put on early instances so they fall inside it too.

// kind is one recipe for a generated item.
type kind struct {
	name   string
	weight int // for the random draw after the first pass
	make   func(g *gen, it *Item)
}

// Kinds lists the names of the generator's item kinds, in the order a
// mailbox's first items are made.
func Kinds() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name
	}
	return out
}

var kinds = []kind{
	{"single", 30, (*gen).single},
	{"single-allday", 6, (*gen).singleAllDay},
	{"multiday-allday", 3, (*gen).multiDayAllDay},
	{"multiday-timed", 2, (*gen).multiDayTimed},
	{"daily-noend-exceptions", 3, (*gen).dailyNoEnd},
	{"daily-interval-numbered", 2, (*gen).dailyNumbered},
	{"weekly-multi-enddate", 6, (*gen).weeklyMulti},
	{"weekly-interval2-sunday-numbered", 3, (*gen).weeklyInterval},
	{"weekly-interval3-noend", 2, (*gen).weeklyInterval3},
	{"weekly-allday", 1, (*gen).weeklyAllDay},
	{"absmonthly-31", 1, (*gen).absMonthly31},
	{"absmonthly-29-30", 1, (*gen).absMonthly2930},
	{"absmonthly-interval2-enddate", 2, (*gen).absMonthlyInterval},
	{"relmonthly-first-monday", 2, relMonthlyDay(1, "")},
	{"relmonthly-last-friday", 2, relMonthlyDay(-1, "")},
	{"relmonthly-third-weekday-name", 1, relMonthlyDay(3, "")},
	{"relmonthly-last-weekday", 1, relMonthlyDay(-1, "Weekday")},
	{"relmonthly-second-weekday", 1, relMonthlyDay(2, "Weekday")},
	{"relmonthly-first-weekendday", 1, relMonthlyDay(1, "WeekendDay")},
	{"relmonthly-last-weekendday", 1, relMonthlyDay(-1, "WeekendDay")},
	{"relmonthly-first-day", 1, relMonthlyDay(1, "Day")},
	{"relmonthly-last-day", 1, relMonthlyDay(-1, "Day")},
	{"relmonthly-fourth-weekday-name", 1, relMonthlyDay(4, "")},
	{"relmonthly-random", 4, relMonthlyRandom},
	{"absyearly-allday", 1, (*gen).absYearly},
	{"relyearly", 1, (*gen).relYearly},
	{"relyearly-last-weekday", 1, (*gen).relYearlyWeekday},
	{"private", 2, (*gen).private},
	{"personal", 1, (*gen).personal},
	{"confidential-series", 1, (*gen).confidentialSeries},
	{"cancelled-meeting", 2, (*gen).cancelled},
	{"series-cancelled-occurrence", 1, (*gen).seriesCancelledOccurrence},
	{"dst-spring-series", 1, dstSeries(true)},
	{"dst-fall-series", 1, dstSeries(false)},
	{"dst-gap-series", 1, (*gen).dstGap},
	{"dst-day-single", 1, (*gen).dstDaySingle},
	{"zero-length", 1, (*gen).zeroLength},
}

var freeBusyCycle = []string{"Busy", "Tentative", "Free", "OOF", "WorkingElsewhere", "NoData", "Busy", "Busy"}

// sensitivityCycle is applied on top of the kinds (which set Private,
// Personal and Confidential themselves too).
var sensitivityCycle = []string{"Normal", "Normal", "Normal", "Private", "Normal", "Personal", "Normal", "Confidential", "Normal", "Normal", "Normal"}

var (
	firstNames = []string{"Adele", "Alex", "Ana", "Ben", "Carlos", "Chen", "Diego", "Elena", "Fatima", "Grace", "Hiroshi", "Ingrid", "Isaiah", "Jonas", "Katarzyna", "Lars", "Lee", "Lidia", "Lynne", "Mariam", "Megan", "Miriam", "Nestor", "Olga", "Patti", "Priya", "Rafael", "Sanjay", "Sofia", "Tomás", "Wei", "Yuki", "Zoë"}
	lastNames  = []string{"Vance", "Wilber", "Souza", "Andersen", "García", "Wang", "Ramos", "Petrova", "Haddad", "Taylor", "Sato", "Nilsson", "Johnson", "Becker", "Nowak", "Holm", "Gomez", "Kowalska", "Robbins", "Khan", "Bowen", "Cohen", "Wilke", "Ivanova", "Fernandez", "Iyer", "Costa", "Rao", "Rossi", "Álvarez", "Zhang", "Tanaka", "Müller"}
	roomNames  = []string{"Everest", "Kilimanjaro", "Matterhorn", "Fuji", "Denali", "Aconcagua", "Elbrus", "Vinson", "Olympus", "Etna"}
	externals  = []Person{
		{"Ana Souza", "ana.souza@fabrikam.com"}, {"Kenji Sato", "kenji.sato@adatum.co.jp"},
		{"Liam O'Connor", "liam.oconnor@northwindtraders.com"}, {"Priya Natarajan", "priya@tailspintoys.in"},
		{"Jörg Schäfer", "j.schaefer@litwareinc.de"}, {"Chloé Martin", "chloe.martin@wingtiptoys.fr"},
	}
	categoriesAll = []string{"Red category", "Blue category", "Green category", "Yellow category", "Orange category", "Purple category", "Customer", "Travel", "Holiday", "Project Phoenix"}
	locations     = []string{"Microsoft Teams Meeting", "Cafeteria, building 2", "Head office, 3rd floor", "Customer site", "Online", "Zoom", "Harbour Street 12, Hamburg", "Café Central", ""}
	reminderMins  = []int{0, 5, 10, 15, 15, 15, 30, 60, 120}
)

// gen is the generator's state for one mailbox.
type gen struct {
	rng    *rand.Rand
	now    time.Time
	cfg    Config
	mbx    int // mailbox number (1-based)
	self   Person
	room   bool
	people []Person // others in the tenant
	rooms  []Person
	n      int    // item number being made
	zone   string // zone of the item being made
	loc    *time.Location
}

func personFor(i int, domain string) Person {
	f := firstNames[(i*7)%len(firstNames)]
	l := lastNames[(i*11+i/len(firstNames))%len(lastNames)]
	return Person{Name: f + " " + l, Email: fmt.Sprintf("user%03d@%s", i, domain)}
}

func roomFor(k int, domain string) Person {
	name := roomNames[k%len(roomNames)]
	slug := strings.ToLower(name)
	if k >= len(roomNames) {
		slug = fmt.Sprintf("%s-%d", slug, k/len(roomNames)+1)
		name = fmt.Sprintf("%s %d", name, k/len(roomNames)+1)
	}
	return Person{Name: "Room " + name, Email: "room-" + slug + "@" + domain}
}

// layout says which mailbox numbers are people and which are rooms: with
// four or more mailboxes, one in ten (at least one) is a room.
func layout(n int) (users, rooms int) {
	if n >= 4 {
		rooms = max(1, n/10)
	}
	return n - rooms, rooms
}

func generate(cfg Config) *Tenant {
	if cfg.Domain == "" {
		cfg.Domain = "contoso.onmicrosoft.com"
	}
	cfg.Now = cfg.Now.UTC()
	if cfg.Now.IsZero() {
		cfg.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	s := newState(cfg.Domain, cfg.Now)
	users, rooms := layout(cfg.Mailboxes)
	var people, roomList []Person
	for i := 1; i <= users; i++ {
		people = append(people, personFor(i, cfg.Domain))
	}
	for k := 0; k < rooms; k++ {
		roomList = append(roomList, roomFor(k, cfg.Domain))
	}
	gens := make([]*gen, 0, cfg.Mailboxes)
	boxes := make([]*mailbox, 0, cfg.Mailboxes)
	for i := 1; i <= cfg.Mailboxes; i++ {
		var self Person
		room := i > users
		if room {
			self = roomList[i-users-1]
		} else {
			self = people[i-1]
		}
		boxes = append(boxes, s.addMailbox(self.Email, self.Name, i, room))
		g := &gen{
			rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i)*0x9E3779B97F4A7C15)),
			now:  cfg.Now,
			cfg:  cfg,
			mbx:  i,
			self: self, room: room, rooms: roomList, people: people,
		}
		gens = append(gens, g)
	}
	// Mailboxes are independent (own random stream, own maps), so they are
	// filled in parallel without changing the result.
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), max(1, cfg.Mailboxes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fill(gens[k], boxes[k], cfg.Events)
			}
		}()
	}
	for k := range gens {
		next <- k
	}
	close(next)
	wg.Wait()
	return &Tenant{impl: s}
}

// fill makes a mailbox's items.
func fill(g *gen, mb *mailbox, events int) {
	for n := 1; n <= events; n++ {
		it := g.item(n)
		mb.insert(&it)
		mb.version[it.ID] = 1 + it.Sequence
		// Journaled, so Journal(m, 0) is a full initial sync.
		mb.record(it.ID, Created)
	}
	mb.nextItem = events
}

// item makes the n-th item of the mailbox.
func (g *gen) item(n int) Item {
	g.n = n
	var k kind
	if n <= len(kinds) {
		k = kinds[n-1]
	} else {
		total := 0
		for _, k := range kinds {
			total += k.weight
		}
		r := g.rng.IntN(total)
		for _, kk := range kinds {
			if r < kk.weight {
				k = kk
				break
			}
			r -= kk.weight
		}
	}
	ids := zoneIDs()
	g.zone = ids[(n+g.mbx)%len(ids)]
	g.loc = location(g.zone)
	it := Item{
		ID:          itemID(g.mbx, n),
		UID:         g.uid(),
		FreeBusy:    freeBusyCycle[(n+g.mbx)%len(freeBusyCycle)],
		Sensitivity: sensitivityCycle[(n+g.mbx)%len(sensitivityCycle)],
	}
	it.StartTimeZone = g.zone // recipes may switch zones (the DST ones)
	k.make(g, &it)
	if g.room && !it.IsMeeting {
		// A room's calendar holds bookings: meetings with the room as a resource.
		g.meeting(&it, 2, true)
	}
	it.EndTimeZone = it.StartTimeZone
	if it.Organizer == (Person{}) {
		it.Organizer = g.self // Exchange makes the owner the organizer of a plain appointment
	}
	if it.Location == "" && g.rng.IntN(3) > 0 {
		it.Location = locations[g.rng.IntN(len(locations))]
	}
	if it.Body == "" {
		it.Body = g.body(it.Subject)
	}
	if it.Categories == nil && g.rng.IntN(3) == 0 {
		it.Categories = g.categories()
	}
	// Reminders: most items have one; all-day items remind the day before.
	if g.rng.IntN(5) > 0 {
		it.ReminderSet = true
		it.ReminderMinutes = reminderMins[g.rng.IntN(len(reminderMins))]
		if it.AllDay {
			it.ReminderMinutes = 1080
		}
	}
	// History: created up to 90 days ago, modified since, meetings updated
	// a few times. All before Now, so mutations (after Now) stay monotonic.
	it.Created = g.now.Add(-time.Duration(1+g.rng.IntN(90*24*60)) * time.Minute).Truncate(time.Second)
	it.LastModified = it.Created.Add(time.Duration(g.rng.Int64N(int64(g.now.Sub(it.Created))))).Truncate(time.Second)
	if it.IsMeeting {
		it.Sequence = g.rng.IntN(4)
	}
	it.ChangeKey = changeKey(it.ID, 1+it.Sequence)
	for k := range it.ModifiedOccurrences {
		e := &it.ModifiedOccurrences[k]
		// An exception carries its own copy of the master's properties.
		if e.Location == "" {
			e.Location = it.Location
		}
		if e.Body == "" {
			e.Body = it.Body
		}
		if e.Categories == nil {
			e.Categories = slices.Clone(it.Categories)
		}
		if e.Organizer == (Person{}) {
			e.Organizer, e.Attendees, e.IsMeeting = it.Organizer, slices.Clone(it.Attendees), it.IsMeeting
		}
		e.ReminderSet, e.ReminderMinutes = it.ReminderSet, it.ReminderMinutes
		e.ID = exceptionID(g.mbx, n, k+1)
		e.UID = it.UID
		e.StartTimeZone, e.EndTimeZone = it.StartTimeZone, it.EndTimeZone
		e.Created = it.Created
		e.LastModified = it.LastModified
		e.ChangeKey = changeKey(e.ID, 1)
		e.Sequence = it.Sequence
	}
	normalize(&it)
	if err := validate(&it); err != nil {
		panic(fmt.Sprintf("tenant: generator made an invalid %s item: %v", k.name, err)) // a bug in a recipe
	}
	return it
}

// uid makes a Global Object ID in Exchange's hex form: the fixed class id,
// a zero instance date, a creation FILETIME, 8 zero bytes, then a 16-byte
// payload with its length.
func (g *gen) uid() string {
	return fmt.Sprintf("040000008200E00074C5B7101A82E00800000000%016X000000000000000010000000%016X%016X",
		0x01DB000000000000|g.rng.Uint64()>>16, g.rng.Uint64(), g.rng.Uint64())
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) body(subject string) string {
	lines := []string{
		"Agenda:\n1. Status\n2. Risks\n3. Next steps",
		"Please review the attached deck before the meeting.",
		"Dial-in details are in the Teams link.",
		"Bring your laptop.",
		"Notes from last time are in the team OneNote.",
		"",
	}
	return strings.TrimSpace(subject + "\n\n" + g.pick(lines))
}

func (g *gen) categories() []string {
	n := 1 + g.rng.IntN(2)
	var out []string
	for len(out) < n {
		c := g.pick(categoriesAll)
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// ---- dates ----

// today is Now's local date in the item's zone.
func (g *gen) today() time.Time { return civilOf(g.now.In(g.loc)) }

// day picks a local date between from and to days after today (inclusive).
func (g *gen) day(from, to int) time.Time { return g.today().AddDate(0, 0, from+g.rng.IntN(to-from+1)) }

// workTime picks a working-hours time of day (08:00..17:30, on the half hour).
func (g *gen) workTime() time.Duration {
	return time.Duration(8*60+30*g.rng.IntN(20)) * time.Minute
}

func (g *gen) at(date time.Time, tod time.Duration) time.Time { return localToUTC(date, tod, g.loc) }

func (g *gen) duration() time.Duration {
	return []time.Duration{15 * time.Minute, 30 * time.Minute, 30 * time.Minute, 45 * time.Minute, time.Hour, time.Hour, 90 * time.Minute, 2 * time.Hour}[g.rng.IntN(8)]
}

func (g *gen) timed(it *Item, date time.Time, tod, dur time.Duration) {
	it.Start = g.at(date, tod)
	it.End = it.Start.Add(dur)
}

func (g *gen) allDay(it *Item, date time.Time, days int) {
	it.AllDay = true
	it.Start = g.at(date, 0)
	it.End = g.at(date.AddDate(0, 0, days), 0)
	if it.FreeBusy == "Busy" || it.FreeBusy == "Tentative" {
		it.FreeBusy = "Free" // Outlook's default for all-day events
	}
}

// ---- people ----

// other picks someone other than the mailbox owner: a colleague, or (one
// in four) an external contact.
func (g *gen) other() Person {
	others := len(g.people)
	if !g.room && others > 0 {
		others-- // the owner is g.people[g.mbx-1]
	}
	if others == 0 || g.rng.IntN(4) == 0 {
		return externals[g.rng.IntN(len(externals))]
	}
	k := g.rng.IntN(others)
	if !g.room && k >= g.mbx-1 {
		k++
	}
	return g.people[k]
}

var responses = []string{"Accept", "Accept", "Tentative", "Decline", "NoResponseReceived", "Unknown"}

// meeting makes it a meeting: organized by the mailbox owner (attendees
// answer variously) or by someone else (the owner is an attendee).
func (g *gen) meeting(it *Item, attendees int, withRoom bool) {
	it.IsMeeting = true
	selfOrganizes := !g.room && g.rng.IntN(2) == 0
	if selfOrganizes {
		it.Organizer = g.self
	} else {
		it.Organizer = g.other()
	}
	seen := map[string]bool{it.Organizer.Email: true}
	if !selfOrganizes && !g.room {
		it.Attendees = append(it.Attendees, Attendee{Person: g.self, Role: "Required", Response: g.pick([]string{"Accept", "Tentative", "NoResponseReceived"})})
		seen[g.self.Email] = true
	}
	for tries := 0; len(it.Attendees) < attendees && tries < 4*attendees; tries++ {
		p := g.other()
		if seen[p.Email] {
			continue
		}
		seen[p.Email] = true
		role := "Required"
		if g.rng.IntN(4) == 0 {
			role = "Optional"
		}
		it.Attendees = append(it.Attendees, Attendee{Person: p, Role: role, Response: g.pick(responses)})
	}
	if withRoom && len(g.rooms) > 0 {
		r := g.rooms[g.rng.IntN(len(g.rooms))]
		if g.room {
			r = g.self
		}
		if !seen[r.Email] {
			it.Attendees = append(it.Attendees, Attendee{Person: r, Role: "Resource", Response: "Accept"})
		}
		it.Location = r.Name
	}
}

// ---- recurrence helpers ----

func (g *gen) series(it *Item, r Recurrence, date time.Time, tod, dur time.Duration) {
	r.StartDate = FormatDate(date)
	it.Recurrence = &r
	if it.AllDay {
		it.Start = g.at(date, 0)
		it.End = g.at(date.AddDate(0, 0, int(dur/(24*time.Hour))), 0)
		return
	}
	g.timed(it, date, tod, dur)
}

// instance returns the original start of the k-th instance of it.
func instanceStart(it *Item, k int) (time.Time, time.Time) {
	o, ok := nthOccurrence(*it, k)
	if !ok {
		panic(fmt.Sprintf("tenant: generator: series has no instance %d", k))
	}
	return o.Start, o.End
}

func (g *gen) deleteInstance(it *Item, k int) {
	st, _ := instanceStart(it, k)
	it.DeletedOccurrences = append(it.DeletedOccurrences, st)
}

// modifyInstance makes the k-th instance an exception via fn (which gets
// a copy of the master with the instance's times).
func (g *gen) modifyInstance(it *Item, k int, fn func(e *Item)) {
	st, en := instanceStart(it, k)
	e := cloneItem(*it)
	e.Recurrence, e.DeletedOccurrences, e.ModifiedOccurrences = nil, nil, nil
	e.ID, e.ChangeKey = "", ""
	e.OriginalStart = st
	e.Start, e.End = st, en
	fn(&e)
	it.ModifiedOccurrences = append(it.ModifiedOccurrences, e)
}

// ---- kinds ----

var singleSubjects = []string{
	"Customer call – Fabrikam", "Budget review", "Lunch with %s", "Interview: senior Go engineer", "Design review: sync engine",
	"Coffee with %s", "Quarterly business review", "Vendor demo", "Dentist", "Release go/no-go", "Workshop: EWS migration",
	"Board meeting prep", "Pick up kids", "Onboarding: %s", "Security training", "Project Phoenix kickoff",
}

func (g *gen) subject(list []string) string {
	s := g.pick(list)
	if strings.Contains(s, "%s") {
		s = fmt.Sprintf(s, strings.Fields(g.other().Name)[0])
	}
	return s
}

func (g *gen) single(it *Item) {
	it.Subject = g.subject(singleSubjects)
	g.timed(it, g.day(-25, 330), g.workTime(), g.duration())
	if g.rng.IntN(2) == 0 {
		g.meeting(it, 1+g.rng.IntN(5), g.rng.IntN(2) == 0)
	}
}

func (g *gen) singleAllDay(it *Item) {
	it.Subject = g.pick([]string{"Company holiday", "Working from home", "Public holiday", "Team day out", "Release day"})
	g.allDay(it, g.day(-20, 300), 1)
}

func (g *gen) multiDayAllDay(it *Item) {
	it.Subject = g.pick([]string{"Vacation", "Conference: KubeCon", "Parental leave", "Trade fair: CeBIT", "Offsite in Lisbon"})
	g.allDay(it, g.day(-20, 300), 2+g.rng.IntN(8))
	if it.Subject == "Vacation" || it.Subject == "Parental leave" {
		it.FreeBusy = "OOF"
	}
}

func (g *gen) multiDayTimed(it *Item) {
	it.Subject = g.pick([]string{"Hackathon", "Flight to Singapore and hotel", "Datacenter migration", "Team offsite"})
	st := g.at(g.day(-15, 300), 14*time.Hour)
	it.Start = st
	it.End = st.Add(time.Duration(26+g.rng.IntN(48)) * time.Hour)
	g.meeting(it, 3, false)
}

func (g *gen) dailyNoEnd(it *Item) {
	it.Subject = g.pick([]string{"Daily stand-up", "Daily scrum", "Morning sync"})
	date := g.day(-25, 5)
	g.series(it, Recurrence{Pattern: "Daily", Interval: 1, Range: "NoEnd"}, date, 9*time.Hour+15*time.Minute, 15*time.Minute)
	g.meeting(it, 4, false)
	g.deleteInstance(it, 3)
	g.modifyInstance(it, 5, func(e *Item) { // moved later the same day
		e.Start, e.End = e.Start.Add(2*time.Hour), e.End.Add(2*time.Hour)
	})
	g.modifyInstance(it, 8, func(e *Item) { // subject and place changed
		e.Subject = it.Subject + " (demo day)"
		e.Location = "Town hall"
		e.End = e.End.Add(15 * time.Minute)
	})
}

func (g *gen) dailyNumbered(it *Item) {
	it.Subject = g.pick([]string{"Physio", "Language course", "Medication reminder"})
	g.series(it, Recurrence{Pattern: "Daily", Interval: 2 + g.rng.IntN(2), Range: "Numbered", Count: 10}, g.day(-20, 200), g.workTime(), 45*time.Minute)
	g.deleteInstance(it, 2)
}

// weekDays lists day names starting at the date's weekday.
var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

func (g *gen) weeklyMulti(it *Item) {
	it.Subject = g.pick([]string{"Team sync", "Office hours", "Gym", "Support rotation handover"})
	date := g.day(-25, 30)
	for date.Weekday() != time.Monday {
		date = date.AddDate(0, 0, 1)
	}
	end := date.AddDate(0, 2+g.rng.IntN(6), 0)
	g.series(it, Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{"Monday", "Wednesday", "Friday"}, FirstDayOfWeek: "Monday",
		Range: "EndDate", EndDate: FormatDate(end)}, date, g.workTime(), g.duration())
	g.meeting(it, 3, true)
	g.modifyInstance(it, 2, func(e *Item) {
		e.Subject = it.Subject + " – moved"
		e.Start, e.End = e.Start.Add(-90*time.Minute), e.End.Add(-90*time.Minute)
	})
	g.deleteInstance(it, 4)
}

func (g *gen) weeklyInterval(it *Item) {
	it.Subject = g.pick([]string{"1:1 with %s", "Sprint review", "Architecture board"})
	it.Subject = strings.ReplaceAll(it.Subject, "%s", strings.Fields(g.other().Name)[0])
	date := g.day(-25, 30)
	for date.Weekday() != time.Tuesday {
		date = date.AddDate(0, 0, 1)
	}
	g.series(it, Recurrence{Pattern: "Weekly", Interval: 2, DaysOfWeek: []string{"Thursday", "Tuesday"}, FirstDayOfWeek: "Sunday",
		Range: "Numbered", Count: 12}, date, g.workTime(), 30*time.Minute)
	g.meeting(it, 1, false)
	g.modifyInstance(it, 3, func(e *Item) {
		e.Subject = it.Subject + " (room change)"
		e.Location = "Head office, 5th floor"
		e.Start, e.End = e.Start.Add(24*time.Hour), e.End.Add(24*time.Hour)
	})
}

func (g *gen) weeklyInterval3(it *Item) {
	it.Subject = "Book club"
	date := g.day(-25, 100)
	g.series(it, Recurrence{Pattern: "Weekly", Interval: 3, DaysOfWeek: []string{dayNames[date.Weekday()]}, FirstDayOfWeek: "Monday", Range: "NoEnd"},
		date, 18*time.Hour+30*time.Minute, 90*time.Minute)
	it.Sensitivity = "Personal"
}

func (g *gen) weeklyAllDay(it *Item) {
	it.Subject = "Home office"
	date := g.day(-25, 60)
	it.AllDay = true
	it.FreeBusy = "WorkingElsewhere"
	g.series(it, Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{dayNames[date.Weekday()]}, FirstDayOfWeek: "Monday", Range: "Numbered", Count: 20},
		date, 0, 24*time.Hour)
	g.deleteInstance(it, 2)
}

// nextDay returns the first date on or after d whose day of month is dom.
func nextDay(d time.Time, dom int) time.Time {
	for d.Day() != dom {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func (g *gen) absMonthly31(it *Item) {
	it.Subject = "Month-end close"
	date := nextDay(g.day(-25, 90), 31)
	g.series(it, Recurrence{Pattern: "AbsoluteMonthly", Interval: 1, DayOfMonth: 31, Range: "NoEnd"}, date, 16*time.Hour, time.Hour)
	g.modifyInstance(it, 2, func(e *Item) { e.Subject = "Month-end close (short month)" })
}

func (g *gen) absMonthly2930(it *Item) {
	dom := 29 + g.rng.IntN(2)
	it.Subject = "Invoice run"
	date := nextDay(g.day(-25, 90), dom)
	g.series(it, Recurrence{Pattern: "AbsoluteMonthly", Interval: 1, DayOfMonth: dom, Range: "Numbered", Count: 12}, date, 10*time.Hour, 30*time.Minute)
}

func (g *gen) absMonthlyInterval(it *Item) {
	it.Subject = "Steering committee"
	date := g.day(-25, 150)
	if date.Day() > 28 {
		date = nextDay(date, 15)
	}
	g.series(it, Recurrence{Pattern: "AbsoluteMonthly", Interval: 2, DayOfMonth: date.Day(), Range: "EndDate", EndDate: FormatDate(date.AddDate(1, 0, 0))},
		date, g.workTime(), 2*time.Hour)
	g.meeting(it, 5, true)
}

// nthOf returns the index (1..4) of date among the days of its month that
// match sel, and whether it is the last such day.
func nthOf(date time.Time, sel string) (idx int, last bool) {
	y, m, d := date.Date()
	for k := 1; k <= d; k++ {
		if matchesSelector(civil(y, m, k).Weekday(), sel) {
			idx++
		}
	}
	return idx, relativeDay(y, m, -1, sel) == d
}

var indexNames = map[int]string{1: "First", 2: "Second", 3: "Third", 4: "Fourth", -1: "Last"}

// relMonthlyDay makes a RelativeMonthly series on the idx-th (or last)
// day matching sel ("" = the weekday of a random date).
func relMonthlyDay(idx int, sel string) func(*gen, *Item) {
	return func(g *gen, it *Item) {
		date := g.day(-25, 200)
		s := sel
		if s == "" {
			s = dayNames[date.Weekday()]
		}
		// Move to the first date on or after `date` that is the wanted day.
		for {
			y, m, _ := date.Date()
			if d := relativeDay(y, m, idx, s); d >= date.Day() && d != 0 {
				date = civil(y, m, d)
				break
			}
			date = civil(y, m+1, 1)
		}
		it.Subject = map[string]string{
			"": "Monthly review", "Weekday": "Payroll cut-off", "WeekendDay": "Hiking club", "Day": "Rent reminder",
		}[sel]
		if sel == "" {
			it.Subject = g.pick([]string{"All-hands", "Monthly review", "Patch Tuesday triage", "Game night", "Security council"})
		}
		r := Recurrence{Pattern: "RelativeMonthly", Interval: 1, DaysOfWeek: []string{s}, DayOfWeekIndex: indexNames[idx]}
		switch g.rng.IntN(3) {
		case 0:
			r.Range = "NoEnd"
		case 1:
			r.Range, r.Count = "Numbered", 6+g.rng.IntN(10)
		default:
			r.Range, r.EndDate = "EndDate", FormatDate(date.AddDate(0, 8, 0))
		}
		if sel == "Weekday" && idx == 2 {
			r.Interval = 3
		}
		g.series(it, r, date, g.workTime(), time.Hour)
		if sel == "" && idx == 1 {
			g.meeting(it, 8, true)
			g.modifyInstance(it, 2, func(e *Item) {
				e.Subject = it.Subject + " (CEO Q&A)"
				e.Location = "Auditorium"
				e.End = e.End.Add(30 * time.Minute)
			})
		}
	}
}

// relMonthlyRandom draws the index and the day selector, so a large
// mailbox covers the whole First..Last × (day name, Day, Weekday,
// WeekendDay) product.
func relMonthlyRandom(g *gen, it *Item) {
	idx := []int{1, 2, 3, 4, -1}[g.rng.IntN(5)]
	sel := []string{"", "Day", "Weekday", "WeekendDay"}[g.rng.IntN(4)]
	relMonthlyDay(idx, sel)(g, it)
}

// relYearlyWeekday is a RelativeYearly series on the last weekday of a month.
func (g *gen) relYearlyWeekday(it *Item) {
	it.Subject = "Year-end inventory"
	date := g.day(-25, 330)
	y, m, _ := date.Date()
	if d := relativeDay(y, m, -1, "Weekday"); d >= date.Day() {
		date = civil(y, m, d)
	} else {
		y, m, _ = civil(y, m+1, 1).Date()
		date = civil(y, m, relativeDay(y, m, -1, "Weekday"))
	}
	g.series(it, Recurrence{Pattern: "RelativeYearly", DaysOfWeek: []string{"Weekday"}, DayOfWeekIndex: "Last",
		Month: date.Month().String(), Range: "NoEnd"}, date, 8*time.Hour, 8*time.Hour)
}

func (g *gen) absYearly(it *Item) {
	who := g.other()
	it.Subject = "Birthday: " + who.Name
	date := g.day(-25, 330)
	it.AllDay = true
	it.FreeBusy = "Free"
	g.series(it, Recurrence{Pattern: "AbsoluteYearly", DayOfMonth: date.Day(), Month: date.Month().String(), Range: "NoEnd"}, date, 0, 24*time.Hour)
	it.Categories = []string{"Holiday"}
}

func (g *gen) relYearly(it *Item) {
	it.Subject = g.pick([]string{"Annual shareholder meeting", "Summer party", "Performance review season kickoff"})
	date := g.day(-25, 330)
	idx, last := nthOf(date, dayNames[date.Weekday()])
	if last {
		idx = -1
	} else if idx > 4 {
		idx = 4 // cannot happen (a 5th is always the last); kept for safety
	}
	g.series(it, Recurrence{Pattern: "RelativeYearly", DaysOfWeek: []string{dayNames[date.Weekday()]}, DayOfWeekIndex: indexNames[idx],
		Month: date.Month().String(), Range: "Numbered", Count: 5}, date, 14*time.Hour, 3*time.Hour)
	g.meeting(it, 6, false)
}

func (g *gen) private(it *Item) {
	it.Subject = g.pick([]string{"Doctor's appointment", "Therapy", "Job interview (external)", "Lawyer"})
	it.Sensitivity = "Private"
	g.timed(it, g.day(-20, 300), g.workTime(), time.Hour)
	it.Body = "Private details, not to be shared."
}

func (g *gen) personal(it *Item) {
	it.Subject = g.pick([]string{"Parent-teacher conference", "Car service", "Moving day"})
	it.Sensitivity = "Personal"
	g.allDay(it, g.day(-20, 300), 1)
}

func (g *gen) confidentialSeries(it *Item) {
	it.Subject = "M&A working group"
	it.Sensitivity = "Confidential"
	date := g.day(-25, 60)
	g.series(it, Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{dayNames[date.Weekday()]}, FirstDayOfWeek: "Sunday", Range: "Numbered", Count: 8},
		date, g.workTime(), time.Hour)
	g.meeting(it, 3, true)
}

func (g *gen) cancelled(it *Item) {
	subj := g.subject(singleSubjects)
	g.timed(it, g.day(-20, 200), g.workTime(), g.duration())
	g.meeting(it, 3, false)
	if it.Organizer.Email == g.self.Email {
		it.Organizer = g.other()
		if it.Organizer.Email == g.self.Email {
			it.Organizer = externals[0]
		}
	}
	// An attendee's copy of a cancelled meeting: Exchange prefixes the
	// subject and marks it free.
	it.Subject = "Canceled: " + subj
	it.IsCancelled = true
	it.FreeBusy = "Free"
}

func (g *gen) seriesCancelledOccurrence(it *Item) {
	it.Subject = "Partner weekly"
	date := g.day(-25, 30)
	g.series(it, Recurrence{Pattern: "Weekly", Interval: 1, DaysOfWeek: []string{dayNames[date.Weekday()]}, FirstDayOfWeek: "Monday", Range: "NoEnd"},
		date, g.workTime(), time.Hour)
	g.meeting(it, 2, false)
	g.modifyInstance(it, 3, func(e *Item) {
		e.Subject = "Canceled: " + it.Subject
		e.IsCancelled = true
		e.FreeBusy = "Free"
	})
}

// dstZones are the zones with DST the DST recipes rotate through.
var dstZones = []string{"W. Europe Standard Time", "Eastern Standard Time", "Pacific Standard Time", "AUS Eastern Standard Time", "New Zealand Standard Time", "GMT Standard Time", "Central Standard Time", "Romance Standard Time", "Central Europe Standard Time"}

// nextTransition returns the local date of the zone's next transition
// (to DST when spring) on or after today-10d.
func (g *gen) nextTransition(spring bool) time.Time {
	z, _ := zone(g.zone)
	tr := z.ToStandard
	if spring {
		tr = z.ToDaylight
	}
	from := g.today().AddDate(0, 0, -10)
	for y := from.Year(); ; y++ {
		yy, mm, dd := tr.Date(y)
		if d := civil(yy, mm, dd); !d.Before(from) {
			return d
		}
	}
}

func (g *gen) useDSTZone() {
	g.zone = dstZones[(g.n+g.mbx)%len(dstZones)]
	g.loc = location(g.zone)
}

func dstSeries(spring bool) func(*gen, *Item) {
	return func(g *gen, it *Item) {
		g.useDSTZone()
		it.StartTimeZone = g.zone
		it.Subject = "Morning check-in"
		date := g.nextTransition(spring).AddDate(0, 0, -3)
		g.series(it, Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 7}, date, 9*time.Hour, 30*time.Minute)
		g.meeting(it, 2, false)
		// The instance after the change is moved to 10:00 local.
		g.modifyInstance(it, 5, func(e *Item) { e.Start, e.End = e.Start.Add(time.Hour), e.End.Add(time.Hour) })
	}
}

func (g *gen) dstGap(it *Item) {
	g.useDSTZone()
	it.StartTimeZone = g.zone
	it.Subject = "Nightly maintenance window"
	it.FreeBusy = "Free"
	date := g.nextTransition(true).AddDate(0, 0, -2)
	// 02:30 does not exist on the spring-forward day in any DST zone of the
	// table (all jump at 02:00 local).
	g.series(it, Recurrence{Pattern: "Daily", Interval: 1, Range: "Numbered", Count: 5}, date, 2*time.Hour+30*time.Minute, time.Hour)
}

func (g *gen) dstDaySingle(it *Item) {
	g.useDSTZone()
	it.StartTimeZone = g.zone
	it.Subject = "Sunday brunch"
	g.timed(it, g.nextTransition(false), 11*time.Hour, 2*time.Hour)
}

func (g *gen) zeroLength(it *Item) {
	it.Subject = "Reminder: submit expenses"
	it.FreeBusy = "Free"
	st := g.at(g.day(-20, 300), 17*time.Hour)
	it.Start, it.End = st, st
}
