package ews

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// byOp replies to each operation with a fixture.
func byOp(t *testing.T, fixtures map[string]string) func(http.ResponseWriter, *http.Request, string, []byte) {
	return func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		name, ok := fixtures[op]
		if !ok {
			t.Errorf("unexpected operation %q", op)
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		replay(t, w, name)
	}
}

func TestGetFolder(t *testing.T) {
	t.Parallel()
	f := newFake(t, byOp(t, map[string]string{"GetFolder": "msdocs/09-getfolder-calendar-response.xml"}))
	c := f.client(Config{UserAgent: "ExoCal/test"})
	got, err := c.GetFolder(context.Background(), nil, "room-101@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "AAMk" || got.ChangeKey != "AgAA" {
		t.Errorf("got folder %+v, want Id AAMk ChangeKey AgAA", got)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	h := reqs[0].Header
	for k, want := range map[string]string{
		"X-Anchormailbox": "room-101@contoso.com",
		"Content-Type":    "text/xml; charset=utf-8",
		"Accept":          "text/xml",
		"User-Agent":      "ExoCal/test",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("got header %s %q, want %q", k, got, want)
		}
	}
	body := string(reqs[0].Body)
	for _, want := range []string{
		`<t:RequestServerVersion Version="Exchange2013_SP1">`,
		`<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>room-101@contoso.com</t:PrimarySmtpAddress>`,
		`<t:DistinguishedFolderId Id="calendar">`,
		`FieldURI="folder:TotalCount"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("request lacks %s:\n%s", want, body)
		}
	}
}

func TestSyncFolderItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture   string
		state     string
		wantState string
		wantKinds []ChangeKind
		wantIDs   []string
		wantLast  bool
	}{
		{"msdocs/02-syncfolderitems-initial-response.xml", "", "H4sIAAA==",
			[]ChangeKind{ChangeCreate, ChangeCreate, ChangeCreate, ChangeCreate, ChangeCreate},
			[]string{"q04QAAAA==", "q07AAAAA==", "q1AwAAAA==", "AAMkADBh==", "AAMkADBh=="}, true},
		{"msdocs/04-syncfolderitems-incremental-response.xml", "H4sIAAA==", "H4sIAAAAAAAEAO29B2AcSZY==",
			[]ChangeKind{ChangeUpdate, ChangeCreate, ChangeCreate, ChangeReadFlag, ChangeDelete},
			[]string{"q04QAAAA==", "AQMkAD+", "Q04AAAAA==", "q07AAAAA==", "q1AwAAAA=="}, true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, byOp(t, map[string]string{"SyncFolderItems": tt.fixture}))
			c := f.client(Config{})
			res, err := c.SyncFolderItems(context.Background(), nil, "a@contoso.com", tt.state, 512)
			if err != nil {
				t.Fatal(err)
			}
			if res.SyncState != tt.wantState || res.IncludesLastItemInRange != tt.wantLast {
				t.Errorf("got state %q last %v, want %q %v", res.SyncState, res.IncludesLastItemInRange, tt.wantState, tt.wantLast)
			}
			if len(res.Changes) != len(tt.wantKinds) {
				t.Fatalf("got %d changes, want %d", len(res.Changes), len(tt.wantKinds))
			}
			for i, ch := range res.Changes {
				if ch.Kind != tt.wantKinds[i] || ch.ItemID != tt.wantIDs[i] {
					t.Errorf("change %d: got %v %q, want %v %q", i, ch.Kind, ch.ItemID, tt.wantKinds[i], tt.wantIDs[i])
				}
			}
			body := string(f.requests()[0].Body)
			hasState := strings.Contains(body, "<m:SyncState>")
			if hasState != (tt.state != "") {
				t.Errorf("got SyncState in request %v, want %v", hasState, tt.state != "")
			}
			if !strings.Contains(body, "<m:MaxChangesReturned>512</m:MaxChangesReturned>") {
				t.Errorf("request lacks MaxChangesReturned 512:\n%s", body)
			}
		})
	}
}

func TestSyncFolderItemsInvalidState(t *testing.T) {
	t.Parallel()
	f := newFake(t, byOp(t, map[string]string{"SyncFolderItems": "msdocs/07-syncfolderitems-ref-error-invalidsyncstatedata.xml"}))
	c := f.client(Config{})
	_, err := c.SyncFolderItems(context.Background(), nil, "a@contoso.com", "garbage", 10)
	if !IsInvalidSyncState(err) {
		t.Fatalf("got %v, want an invalid sync state error", err)
	}
	if !errors.Is(err, calendar.ErrInvalidSyncState) {
		t.Errorf("got %v, want it to wrap calendar.ErrInvalidSyncState", err)
	}
	if !IsPermanent(err) {
		t.Errorf("got IsPermanent false for %v, want true", err)
	}
}

func TestGetItemMasterWithOccurrences(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		if strings.Contains(string(body), `Id="EXC1"`) {
			replay(t, w, "handwritten/getitem-exception-response.xml")
			return
		}
		replay(t, w, "handwritten/getitem-master-response.xml")
	})
	c := f.client(Config{})
	events, gone, err := c.FetchEvents(context.Background(), nil, "alfred@contoso.com", []string{"MASTER1", "ALLDAY1", "GONE1"}, 2, DetailFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0] != "GONE1" {
		t.Errorf("got gone %v, want [GONE1]", gone)
	}
	if len(events) != 2 {
		t.Fatalf("got %d events, want 2", len(events))
	}
	m := events[0]
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	if m.ItemID != "MASTER1" || m.Subject != "Weekly Update Meeting" || m.Location != "Contoso Main Gallery" {
		t.Errorf("got master %q %q %q", m.ItemID, m.Subject, m.Location)
	}
	if m.Body != "Come hear about the project & its plans." {
		t.Errorf("got body %q", m.Body)
	}
	if !m.Start.Equal(utc("2014-03-08T21:21:00Z")) || m.Start.Location() != time.UTC {
		t.Errorf("got start %v, want 2014-03-08T21:21:00Z in UTC", m.Start)
	}
	if m.Sensitivity != calendar.Private || m.FreeBusy != calendar.Tentative || m.Sequence != 3 {
		t.Errorf("got sensitivity %v freebusy %v sequence %d, want Private Tentative 3", m.Sensitivity, m.FreeBusy, m.Sequence)
	}
	if m.Reminder == nil || *m.Reminder != 30*time.Minute {
		t.Errorf("got reminder %v, want 30m", m.Reminder)
	}
	if len(m.Categories) != 2 || m.Categories[1] != "Project X" {
		t.Errorf("got categories %q", m.Categories)
	}
	if m.Organizer == nil || m.Organizer.Email != "alfred@contoso.com" {
		t.Errorf("got organizer %+v", m.Organizer)
	}
	wantAtt := []calendar.Attendee{
		{Person: calendar.Person{Name: "Mack Chaves", Email: "Mack@contoso.com"}, Role: calendar.Required, Response: calendar.ResponseAccept},
		{Person: calendar.Person{Name: "Sadie Daniels", Email: "Sadie@contoso.com"}, Role: calendar.Required, Response: calendar.ResponseNoResponse},
		{Person: calendar.Person{Name: "Magdalena", Email: "Magdalena@contoso.com"}, Role: calendar.Optional, Response: calendar.ResponseTentative},
		{Person: calendar.Person{Name: "Gallery", Email: "gallery@contoso.com"}, Role: calendar.Resource, Response: calendar.ResponseDecline},
	}
	if len(m.Attendees) != len(wantAtt) {
		t.Fatalf("got %d attendees, want %d", len(m.Attendees), len(wantAtt))
	}
	for i := range wantAtt {
		if m.Attendees[i] != wantAtt[i] {
			t.Errorf("attendee %d: got %+v, want %+v", i, m.Attendees[i], wantAtt[i])
		}
	}
	r := m.Recurrence
	if r == nil || r.Pattern != calendar.Weekly || r.Interval != 2 || len(r.DaysOfWeek) != 2 ||
		r.DaysOfWeek[0] != calendar.Saturday || r.DaysOfWeek[1] != calendar.Sunday || r.FirstDayOfWeek != time.Monday ||
		r.Range != calendar.Numbered || r.Count != 10 || r.StartDate != (calendar.Date{Year: 2014, Month: 3, Day: 8}) {
		t.Errorf("got recurrence %+v", r)
	}
	if len(m.DeletedOccurrences) != 2 || !m.DeletedOccurrences[1].Equal(utc("2014-04-05T20:21:00Z")) {
		t.Errorf("got deleted occurrences %v", m.DeletedOccurrences)
	}
	if len(m.ModifiedOccurrences) != 1 {
		t.Fatalf("got %d modified occurrences, want 1", len(m.ModifiedOccurrences))
	}
	x := m.ModifiedOccurrences[0]
	if x.ItemID != "EXC1" || x.Subject != "Weekly Update Meeting (moved)" || !x.OriginalStart.Equal(utc("2014-03-22T20:21:00Z")) ||
		!x.Start.Equal(utc("2014-03-22T22:00:00Z")) || x.Recurrence != nil || x.UID != m.UID || x.TimeZone == nil {
		t.Errorf("got exception %+v", x)
	}
	tz := m.TimeZone
	if tz == nil || tz.ID != "Pacific Standard Time" || !tz.HasDefinition || tz.StandardOffset != -8*time.Hour || tz.DaylightOffset != -7*time.Hour {
		t.Fatalf("got zone %+v", tz)
	}
	// group 1 (in force since 2007): second Sunday of March, first Sunday of November.
	if *tz.ToDaylight != (calendar.Transition{Month: time.March, Week: 2, Weekday: time.Sunday, At: 2 * time.Hour}) ||
		*tz.ToStandard != (calendar.Transition{Month: time.November, Week: 1, Weekday: time.Sunday, At: 2 * time.Hour}) {
		t.Errorf("got transitions %+v %+v", tz.ToDaylight, tz.ToStandard)
	}
	if m.EndTimeZone != nil {
		t.Errorf("got EndTimeZone %+v, want nil (same zone)", m.EndTimeZone)
	}

	a := events[1]
	if !a.AllDay || a.FreeBusy != calendar.OutOfOffice || a.Reminder != nil {
		t.Errorf("got all-day %v freebusy %v reminder %v", a.AllDay, a.FreeBusy, a.Reminder)
	}
	// All-day: midnight in W. Europe (UTC+2 in May) of the first day and of the day after the last.
	berlin := time.FixedZone("CEST", 2*3600)
	if got := a.Start.In(berlin); got.Hour() != 0 || calendar.DateOf(got) != (calendar.Date{Year: 2014, Month: 5, Day: 2}) {
		t.Errorf("got all-day start %v", got)
	}
	if a.TimeZone == nil || a.TimeZone.StandardOffset != time.Hour || a.TimeZone.ToDaylight.Week != 5 || a.TimeZone.ToStandard.At != 3*time.Hour {
		t.Errorf("got all-day zone %+v", a.TimeZone)
	}

	// The master batch asked for every calendar field with a Text body.
	var first string
	for _, r := range f.requests() {
		if strings.Contains(string(r.Body), "MASTER1") {
			first = string(r.Body)
		}
	}
	for _, want := range []string{`<t:BodyType>Text</t:BodyType>`, `FieldURI="calendar:ModifiedOccurrences"`, `FieldURI="calendar:StartTimeZone"`, `FieldURI="item:Categories"`} {
		if !strings.Contains(first, want) {
			t.Errorf("GetItem request lacks %s", want)
		}
	}
}

func TestGetItemMSDocsSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture  string
		ids      int
		subjects []string
		kinds    []string
	}{
		{"msdocs/17-getitem-recurringmaster-response.xml", 1, []string{"Weekly Update Meeting"}, []string{"RecurringMaster"}},
		{"msdocs/19-getitem-calendaritem-allproperties-response.xml", 1, []string{""}, []string{"Single"}},
		{"msdocs/23-getitem-calendar-batch-response.xml", 3,
			[]string{"Review current quarterly deliverables", "Food bank delivery", "Code Blast"},
			[]string{"Single", "RecurringMaster", "Single"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, byOp(t, map[string]string{"GetItem": tt.fixture}))
			c := f.client(Config{})
			ids := make([]string, tt.ids)
			for i := range ids {
				ids[i] = "AAMkA"
			}
			res, err := c.GetItem(context.Background(), nil, "a@contoso.com", ids, 1, DetailFull)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if r.Err != nil {
					t.Fatalf("item %d: %v", i, r.Err)
				}
				if r.Event.Subject != tt.subjects[i] || r.Kind != tt.kinds[i] {
					t.Errorf("item %d: got %q %q, want %q %q", i, r.Event.Subject, r.Kind, tt.subjects[i], tt.kinds[i])
				}
			}
		})
	}
	// 17's recurrence and 23's attendees.
	f := newFake(t, byOp(t, map[string]string{"GetItem": "msdocs/17-getitem-recurringmaster-response.xml"}))
	res, err := f.client(Config{}).GetItem(context.Background(), nil, "a@contoso.com", []string{"AAMkAD"}, 1, DetailFull)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0].Event.Recurrence
	if r == nil || r.Pattern != calendar.Weekly || r.DaysOfWeek[0] != calendar.Saturday || r.Count != 10 || r.StartDate.Day != 8 {
		t.Errorf("got recurrence %+v", r)
	}
}

func TestGetItemBatches(t *testing.T) {
	t.Parallel()
	// 25 ids → batches of 10, 10, 5; each reply echoes one item per id.
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		n := strings.Count(string(body), "<t:ItemId ")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>`)
		for i := 0; i < n; i++ {
			b.WriteString(`<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="X" ChangeKey="C"/><t:Subject>s</t:Subject><t:Start>2024-01-01T10:00:00Z</t:Start><t:End>2024-01-01T11:00:00Z</t:End></t:CalendarItem></m:Items></m:GetItemResponseMessage>`)
		}
		b.WriteString(`</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`)
		writeReply(w, []byte(b.String()))
	})
	ids := make([]string, 25)
	for i := range ids {
		ids[i] = "id"
	}
	res, err := f.client(Config{}).GetItem(context.Background(), nil, "a@contoso.com", ids, 3, DetailFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 25 {
		t.Fatalf("got %d results, want 25", len(res))
	}
	var sizes []int
	for _, r := range f.requests() {
		sizes = append(sizes, strings.Count(string(r.Body), "<t:ItemId "))
	}
	total, biggest := 0, 0
	for _, s := range sizes {
		total += s
		biggest = max(biggest, s)
	}
	if len(sizes) != 3 || total != 25 || biggest != 10 {
		t.Errorf("got batches %v, want 3 batches of at most 10 covering 25", sizes)
	}
}

func TestCalendarView(t *testing.T) {
	t.Parallel()
	f := newFake(t, byOp(t, map[string]string{"FindItem": "msdocs/11-finditem-calendarview-response.xml"}))
	start := time.Date(2013, 8, 21, 17, 30, 24, 0, time.UTC)
	items, complete, err := f.client(Config{}).CalendarView(context.Background(), nil, "a@contoso.com", start, start.AddDate(0, 0, 30), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 5 || complete {
		t.Fatalf("got %d items complete %v, want 5 false", len(items), complete)
	}
	if items[3].Subject != "Tennis at the club" || !items[3].Start.Equal(time.Date(2013, 8, 22, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", items[3])
	}
	body := string(f.requests()[0].Body)
	if !strings.Contains(body, `<m:CalendarView MaxEntriesReturned="5" StartDate="2013-08-21T17:30:24Z" EndDate="2013-09-20T17:30:24Z">`) {
		t.Errorf("request lacks the CalendarView:\n%s", body)
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	ok := newFake(t, byOp(t, map[string]string{"Unsubscribe": "msdocs/32-unsubscribe-response.xml"}))
	if err := ok.client(Config{}).Unsubscribe(context.Background(), nil, "a@contoso.com", "sub1"); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	gone := newFake(t, byOp(t, map[string]string{"Unsubscribe": "msdocs/33-unsubscribe-error-subscriptionnotfound.xml"}))
	err := gone.client(Config{}).Unsubscribe(context.Background(), nil, "a@contoso.com", "sub1")
	if !IsSubscriptionNotFound(err) {
		t.Errorf("got %v, want a subscription-not-found error", err)
	}
}

// TestAffinitySubscribe replays the affinity walk-through (samples 34–38):
// the anchor's Subscribe carries X-PreferServerAffinity and the anchor's
// X-AnchorMailbox, its reply sets X-BackEndOverrideCookie, and the member's
// Subscribe and the GetStreamingEvents send the cookie back.
func TestAffinitySubscribe(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		switch {
		case op == "Subscribe" && strings.Contains(string(body), "alfred@contoso.com</t:PrimarySmtpAddress>"):
			replay(t, w, "msdocs/35-affinity-subscribe-anchor-http-response.xml")
		case op == "Subscribe":
			replay(t, w, "msdocs/37-affinity-subscribe-member-http-response.xml")
		case op == "GetStreamingEvents":
			replay(t, w, "examples/getstreamingevents-heartbeat.xml")
		}
	})
	c := f.client(Config{})
	s := NewAffinitySession("alfred@contoso.com")
	ctx := context.Background()
	a, err := c.Subscribe(ctx, s, "alfred@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if s.BackEndCookie() != "CO1PR06MB222.namprd06.prod.outlook.com~1941996295" {
		t.Errorf("got back-end cookie %q", s.BackEndCookie())
	}
	b, err := c.Subscribe(ctx, s, "sadie@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !strings.HasPrefix(a, "JgBjbzFw") {
		t.Errorf("got ids %q %q", a, b)
	}
	if err := c.GetStreamingEvents(ctx, s, "alfred@contoso.com", []string{a, b}, time.Minute, func(StreamResponse) {}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("X-AnchorMailbox"); got != "alfred@contoso.com" {
			t.Errorf("request %d: got X-AnchorMailbox %q, want the anchor", i, got)
		}
		if got := r.Header.Get("X-PreferServerAffinity"); got != "true" {
			t.Errorf("request %d: got X-PreferServerAffinity %q, want true", i, got)
		}
		cookie := r.Header.Get("Cookie")
		has := strings.Contains(cookie, "X-BackEndOverrideCookie=CO1PR06MB222.namprd06.prod.outlook.com~1941996295")
		if has != (i > 0) {
			t.Errorf("request %d: got Cookie %q, want the override cookie only after the anchor's reply", i, cookie)
		}
	}
	if !strings.Contains(string(reqs[1].Body), "<t:PrimarySmtpAddress>sadie@contoso.com</t:PrimarySmtpAddress>") {
		t.Errorf("member Subscribe does not impersonate the member:\n%s", reqs[1].Body)
	}
	// A mailbox session of the same client has its own jar: no cookie leaks.
	if ck := c.MailboxSession("alfred@contoso.com"); ck.BackEndCookie() != "" {
		t.Errorf("got a back-end cookie in a mailbox session")
	}
}

// TestRequestsValidateAgainstSchema sends every request the client builds
// and validates them with ../shared/ews-schema/validate-ews.
func TestRequestsValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	script := validator(t)
	_ = script
	f := newFake(t, byOp(t, map[string]string{
		"GetFolder":          "msdocs/09-getfolder-calendar-response.xml",
		"SyncFolderItems":    "msdocs/02-syncfolderitems-initial-response.xml",
		"GetItem":            "msdocs/17-getitem-recurringmaster-response.xml",
		"FindItem":           "msdocs/11-finditem-calendarview-response.xml",
		"Subscribe":          "msdocs/25-subscribe-streaming-response.xml",
		"GetStreamingEvents": "examples/getstreamingevents-heartbeat.xml",
		"Unsubscribe":        "msdocs/32-unsubscribe-response.xml",
	}))
	c := f.client(Config{})
	ctx := context.Background()
	mb := "room-101@contoso.onmicrosoft.com"
	if _, err := c.GetFolder(ctx, nil, mb); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncFolderItems(ctx, nil, mb, "", 512); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncFolderItems(ctx, nil, mb, "H4sIAAA==", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetItem(ctx, nil, mb, []string{"AAMkAD"}, 1, DetailFull); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetItem(ctx, nil, mb, []string{"AAMkAD"}, 1, DetailFreeBusy); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CalendarView(ctx, nil, mb, time.Now(), time.Now().Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	id, err := c.Subscribe(ctx, nil, mb)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.GetStreamingEvents(ctx, nil, mb, []string{id}, 30*time.Minute, func(StreamResponse) {}); err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctx, nil, mb, id); err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{}
	for i, r := range f.requests() {
		bodies[strings.ToLower(r.Op)+"-"+string(rune('a'+i))] = r.Body
	}
	if len(bodies) != 9 {
		t.Fatalf("got %d requests, want 9", len(bodies))
	}
	validateEWS(t, bodies)
}
