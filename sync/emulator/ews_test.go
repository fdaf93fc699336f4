package emulator

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

const getFolderCalendar = `<m:GetFolder>
  <m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
  <m:FolderIds><t:DistinguishedFolderId Id="calendar" /></m:FolderIds>
</m:GetFolder>`

func TestEWSAccessChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[0]
	revoked := e.getToken()
	e.srv.RevokeTokens()
	good := e.getToken() // issued after the revocation
	noRoles := func() string {
		e.srv.SetMode(ModeNoConsent, true)
		defer e.srv.SetMode(ModeNoConsent, false)
		return e.getToken()
	}()
	noVersion := strings.Replace(soapEnvelope(mb, getFolderCalendar), `<t:RequestServerVersion Version="Exchange2013_SP1" />`, "", 1)
	badVersion := strings.Replace(soapEnvelope(mb, getFolderCalendar), `Exchange2013_SP1`, "Exchange2014", 1)
	emptyImp := strings.Replace(soapEnvelope(mb, getFolderCalendar), mb, "", 1)
	tests := []struct {
		name       string
		token      string
		body       string
		mode       Mode
		wantStatus int
		wantHeader map[string]string
		wantFault  string
	}{
		{name: "ok", token: good, body: soapEnvelope(mb, getFolderCalendar), wantStatus: 200},
		{name: "no token", body: soapEnvelope(mb, getFolderCalendar), wantStatus: 401,
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`}},
		{name: "no admin consent", token: noRoles, body: soapEnvelope(mb, getFolderCalendar), wantStatus: 401,
			wantHeader: map[string]string{"x-ms-diagnostics": `2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"`}},
		{name: "revoked token", token: revoked, body: soapEnvelope(mb, getFolderCalendar), wantStatus: 401,
			wantHeader: map[string]string{"x-ms-diagnostics": `2000001;reason="The token has been revoked.";error_category="invalid_token"`}},
		{name: "garbage token", token: "abc.def.ghi", body: soapEnvelope(mb, getFolderCalendar), wantStatus: 401,
			wantHeader: map[string]string{"x-ms-diagnostics": `2000001;reason="The token is invalid.";error_category="invalid_token"`}},
		{name: "ews disabled", token: good, mode: ModeEWSDisabled, body: soapEnvelope(mb, getFolderCalendar), wantStatus: 403,
			wantHeader: map[string]string{"X-EWS-Policy-Reason": "EWS is disabled for this user or tenant"}},
		{name: "app not allow-listed", token: good, mode: ModeNotAllowlisted, body: soapEnvelope(mb, getFolderCalendar), wantStatus: 403,
			wantHeader: map[string]string{"X-EWS-Policy-Reason": policyBlockedReason(testClientID)}},
		{name: "no RequestServerVersion", token: good, body: noVersion, wantStatus: 500, wantFault: "ErrorInvalidServerVersion"},
		{name: "bad RequestServerVersion", token: good, body: badVersion, wantStatus: 500, wantFault: "ErrorInvalidServerVersion"},
		{name: "no impersonation", token: good, body: soapEnvelope("", getFolderCalendar), wantStatus: 500, wantFault: "ErrorInvalidExchangeImpersonationHeaderData"},
		{name: "empty impersonation", token: good, body: emptyImp, wantStatus: 500, wantFault: "ErrorInvalidExchangeImpersonationHeaderData"},
		{name: "unknown mailbox", token: good, body: soapEnvelope("nobody@contoso.onmicrosoft.com", getFolderCalendar), wantStatus: 500, wantFault: "ErrorNonExistentMailbox"},
		{name: "foreign mailbox", token: good, body: soapEnvelope("someone@fabrikam.com", getFolderCalendar), wantStatus: 500, wantFault: "ErrorImpersonateUserDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode != "" {
				e.srv.SetMode(tt.mode, true)
				defer e.srv.SetMode(tt.mode, false)
			}
			res := e.post(ewsPath, tt.token, mb, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", res.status, tt.wantStatus, res.body)
			}
			for k, v := range tt.wantHeader {
				if got := res.header.Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			if tt.wantStatus == 401 || tt.wantStatus == 403 {
				if len(res.body) != 0 {
					t.Errorf("body: got %q, want empty", res.body)
				}
			}
			if tt.wantFault != "" {
				if got := res.faultCode(); got != tt.wantFault {
					t.Errorf("fault ResponseCode: got %q, want %q\n%s", got, tt.wantFault, res.body)
				}
			}
			if tt.wantStatus == 200 {
				msg := res.messages()[0]
				if msg.attr("ResponseClass") != "Success" || msg.path(nsMessages, "Folders").child(nsTypes, "CalendarFolder") == nil {
					t.Errorf("GetFolder: got %s", res.body)
				}
			}
		})
	}
}

func TestInternalURLIsCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[1]
	tok := e.getToken()
	if res := e.post(internalEWSPath, tok, mb, soapEnvelope(mb, getFolderCalendar)); res.status != 200 {
		t.Fatalf("internal GetFolder: got %d", res.status)
	}
	st := e.srv.Stats()
	if st.EWSInternal != 1 || st.EWSExternal != 0 {
		t.Errorf("stats: got internal %d external %d, want 1 and 0", st.EWSInternal, st.EWSExternal)
	}
}

func syncRequest(state string, max int, shape string) string {
	st := ""
	if state != "" {
		st = "<m:SyncState>" + state + "</m:SyncState>"
	}
	return fmt.Sprintf(`<m:SyncFolderItems>
  <m:ItemShape><t:BaseShape>%s</t:BaseShape></m:ItemShape>
  <m:SyncFolderId><t:DistinguishedFolderId Id="calendar" /></m:SyncFolderId>
  %s
  <m:MaxChangesReturned>%d</m:MaxChangesReturned>
  <m:SyncScope>NormalItems</m:SyncScope>
</m:SyncFolderItems>`, shape, st, max)
}

type syncPage struct {
	state    string
	last     bool
	creates  []string
	updates  []string
	deletes  []string
	code     string
	rawState *node
}

func (e *env) syncOnce(mb, state string, max int) syncPage {
	e.t.Helper()
	res := e.ews(mb, syncRequest(state, max, "IdOnly"))
	if res.status != 200 {
		e.t.Fatalf("SyncFolderItems: status %d: %s", res.status, res.body)
	}
	msg := res.messages()[0]
	p := syncPage{state: msg.child(nsMessages, "SyncState").text(), last: msg.child(nsMessages, "IncludesLastItemInRange").text() == "true",
		code: msg.child(nsMessages, "ResponseCode").text(), rawState: msg.child(nsMessages, "SyncState")}
	for _, c := range msg.child(nsMessages, "Changes").Children {
		var id string
		if c.Local == "Delete" {
			id = c.child(nsTypes, "ItemId").attr("Id")
		} else {
			id = c.child(nsTypes, "CalendarItem").child(nsTypes, "ItemId").attr("Id")
		}
		switch c.Local {
		case "Create":
			p.creates = append(p.creates, id)
		case "Update":
			p.updates = append(p.updates, id)
		case "Delete":
			p.deletes = append(p.deletes, id)
		}
	}
	return p
}

func itemIDs(items []tenant.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	sort.Strings(out)
	return out
}

func TestSyncFolderItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ten := e.srv.Tenant()
	mb := ten.Mailboxes()[0]

	// Initial sync, paged by 7.
	var got []string
	state, pages := "", 0
	for {
		p := e.syncOnce(mb, state, 7)
		if p.code != "NoError" {
			t.Fatalf("page %d: %s", pages, p.code)
		}
		if len(p.updates)+len(p.deletes) != 0 {
			t.Errorf("initial sync: got %d updates, %d deletes, want only creates", len(p.updates), len(p.deletes))
		}
		if len(p.creates) > 7 {
			t.Errorf("page size: got %d, want <= 7", len(p.creates))
		}
		got = append(got, p.creates...)
		state = p.state
		pages++
		if p.last {
			break
		}
		if pages > 100 {
			t.Fatal("sync does not end")
		}
	}
	sort.Strings(got)
	if want := itemIDs(ten.Items(mb)); !slices.Equal(got, want) {
		t.Fatalf("initial sync ids: got %d ids, want %d (%v vs %v)", len(got), len(want), got, want)
	}
	if pages < 2 {
		t.Errorf("pages: got %d, want several with MaxChangesReturned 7", pages)
	}
	// Nothing changed: no changes, same position.
	if p := e.syncOnce(mb, state, 512); len(p.creates)+len(p.updates)+len(p.deletes) != 0 || !p.last {
		t.Errorf("quiet sync: got %+v, want no changes", p)
	}

	// Change the mailbox: add, update, delete.
	items := ten.Items(mb)
	added, err := ten.Add(mb, tenant.Item{Subject: "Added by test", Start: testNow.Add(48 * time.Hour), End: testNow.Add(49 * time.Hour),
		StartTimeZone: "UTC", EndTimeZone: "UTC", FreeBusy: "Busy", Sensitivity: "Normal"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ten.Update(mb, items[0].ID, func(it *tenant.Item) { it.Subject = "Changed by test" }); err != nil {
		t.Fatal(err)
	}
	if err := ten.Delete(mb, items[1].ID); err != nil {
		t.Fatal(err)
	}
	p := e.syncOnce(mb, state, 512)
	if !slices.Equal(p.creates, []string{added.ID}) || !slices.Equal(p.updates, []string{items[0].ID}) || !slices.Equal(p.deletes, []string{items[1].ID}) {
		t.Errorf("incremental: got creates %v updates %v deletes %v, want %v %v %v", p.creates, p.updates, p.deletes, added.ID, items[0].ID, items[1].ID)
	}

	// Broken states: ErrorInvalidSyncStateData with an empty SyncState (sample 07).
	for name, bad := range map[string]string{
		"truncated": state[:len(state)/2],
		"tampered":  tamper(state),
		"garbage":   "H4sIAAA==",
	} {
		res := e.ews(mb, syncRequest(bad, 10, "IdOnly"))
		msg := res.messages()[0]
		if msg.attr("ResponseClass") != "Error" || msg.child(nsMessages, "ResponseCode").text() != "ErrorInvalidSyncStateData" ||
			msg.child(nsMessages, "MessageText").text() != "Synchronization state data is corrupt or otherwise invalid." {
			t.Errorf("%s state: got %s", name, res.body)
		}
		if s := msg.child(nsMessages, "SyncState"); s == nil || s.text() != "" {
			t.Errorf("%s state: got SyncState %v, want present and empty", name, s)
		}
	}
	// Another mailbox's state is invalid here too.
	if res := e.ews(ten.Mailboxes()[1], syncRequest(state, 10, "IdOnly")); res.messages()[0].child(nsMessages, "ResponseCode").text() != "ErrorInvalidSyncStateData" {
		t.Errorf("foreign state: got %s", res.body)
	}
	// MaxChangesReturned out of 1..512 is a schema error.
	if res := e.ews(mb, syncRequest("", 513, "IdOnly")); res.status != 500 || res.faultCode() != "ErrorSchemaValidation" {
		t.Errorf("MaxChangesReturned 513: got %d %s", res.status, res.body)
	}
}

func tamper(s string) string {
	b := []byte(s)
	i := len(b) / 3
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

var allCalendarFields = []string{
	"item:Subject", "item:Body", "item:Sensitivity", "item:Categories", "item:ReminderIsSet", "item:ReminderMinutesBeforeStart",
	"item:LastModifiedTime", "item:DateTimeCreated", "calendar:UID", "calendar:Start", "calendar:End", "calendar:OriginalStart",
	"calendar:IsAllDayEvent", "calendar:LegacyFreeBusyStatus", "calendar:Location", "calendar:IsMeeting", "calendar:IsCancelled",
	"calendar:IsRecurring", "calendar:CalendarItemType", "calendar:Organizer", "calendar:RequiredAttendees",
	"calendar:OptionalAttendees", "calendar:Resources", "calendar:AppointmentSequenceNumber", "calendar:Recurrence",
	"calendar:FirstOccurrence", "calendar:LastOccurrence", "calendar:ModifiedOccurrences", "calendar:DeletedOccurrences",
	"calendar:StartTimeZone", "calendar:EndTimeZone",
}

func getItemRequest(ids ...string) string {
	var b strings.Builder
	b.WriteString("<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:BodyType>Text</t:BodyType><t:AdditionalProperties>")
	for _, f := range allCalendarFields {
		b.WriteString(`<t:FieldURI FieldURI="` + f + `" />`)
	}
	b.WriteString("</t:AdditionalProperties></m:ItemShape><m:ItemIds>")
	for _, id := range ids {
		b.WriteString(id)
	}
	b.WriteString("</m:ItemIds></m:GetItem>")
	return b.String()
}

func itemIDXML(id string) string { return `<t:ItemId Id="` + id + `" />` }

func TestGetItem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ten := e.srv.Tenant()
	mb := ten.Mailboxes()[0]
	items := ten.Items(mb)
	for start := 0; start < len(items); start += 10 {
		batch := items[start:min(start+10, len(items))]
		var ids []string
		for _, it := range batch {
			ids = append(ids, itemIDXML(it.ID))
		}
		res := e.ews(mb, getItemRequest(ids...))
		msgs := res.messages()
		if len(msgs) != len(batch) {
			t.Fatalf("messages: got %d, want %d", len(msgs), len(batch))
		}
		for i, it := range batch {
			ci := msgs[i].path(nsMessages, "Items").child(nsTypes, "CalendarItem")
			checkCalendarItem(t, ci, it)
		}
	}
	// Exceptions by their own id; occurrences by index; errors per id.
	var master tenant.Item
	for _, it := range items {
		if it.Recurrence != nil && len(it.ModifiedOccurrences) > 0 && len(it.DeletedOccurrences) > 0 {
			master = it
			break
		}
	}
	if master.ID == "" {
		t.Fatal("generated tenant has no series with both modified and deleted occurrences")
	}
	exc := master.ModifiedOccurrences[0]
	res := e.ews(mb, getItemRequest(itemIDXML(exc.ID),
		`<t:OccurrenceItemId RecurringMasterId="`+master.ID+`" InstanceIndex="1" />`,
		`<t:OccurrenceItemId RecurringMasterId="`+master.ID+`" InstanceIndex="100000" />`,
		itemIDXML("AAMkAGRvZXNub3RleGlzdA==")))
	msgs := res.messages()
	if len(msgs) != 4 {
		t.Fatalf("messages: got %d, want 4", len(msgs))
	}
	ci := msgs[0].path(nsMessages, "Items").child(nsTypes, "CalendarItem")
	if got := ci.child(nsTypes, "CalendarItemType").text(); got != "Exception" {
		t.Errorf("exception type: got %q", got)
	}
	if got := ci.child(nsTypes, "Subject").text(); got != exc.Subject {
		t.Errorf("exception subject: got %q, want %q", got, exc.Subject)
	}
	if got := ci.child(nsTypes, "OriginalStart").text(); got != ts(exc.OriginalStart) {
		t.Errorf("exception OriginalStart: got %q, want %q", got, ts(exc.OriginalStart))
	}
	o1, err := ten.OccurrenceAt(mb, master.ID, 1)
	first := msgs[1].path(nsMessages, "Items").child(nsTypes, "CalendarItem")
	if err == nil {
		if got := first.child(nsTypes, "Start").text(); got != ts(o1.Start) {
			t.Errorf("occurrence 1 start: got %q, want %q", got, ts(o1.Start))
		}
	} else if msgs[1].attr("ResponseClass") != "Error" {
		t.Errorf("occurrence 1: got success, want error (%v)", err)
	}
	for i, want := range map[int]string{2: "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", 3: "ErrorItemNotFound"} {
		if master.Recurrence.Range == "NoEnd" && i == 2 {
			continue // a NoEnd series has an instance 100000
		}
		if got := msgs[i].child(nsMessages, "ResponseCode").text(); got != want {
			t.Errorf("message %d: got %q, want %q", i, got, want)
		}
	}
}

// checkCalendarItem compares a GetItem CalendarItem with the tenant item.
func checkCalendarItem(t *testing.T, ci *node, it tenant.Item) {
	t.Helper()
	if ci == nil {
		t.Fatalf("item %s: no CalendarItem", it.ID)
	}
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("item %s %s: got %q, want %q", it.ID, field, got, want)
		}
	}
	check("ItemId", ci.child(nsTypes, "ItemId").attr("Id"), it.ID)
	check("ChangeKey", ci.child(nsTypes, "ItemId").attr("ChangeKey"), it.ChangeKey)
	check("Subject", ci.child(nsTypes, "Subject").text(), it.Subject)
	check("UID", ci.child(nsTypes, "UID").text(), it.UID)
	check("Start", ci.child(nsTypes, "Start").text(), ts(it.Start))
	check("End", ci.child(nsTypes, "End").text(), ts(it.End))
	check("IsAllDayEvent", ci.child(nsTypes, "IsAllDayEvent").text(), boolStr(it.AllDay))
	check("Location", ci.child(nsTypes, "Location").text(), it.Location)
	check("Body", ci.child(nsTypes, "Body").Text, it.Body)
	check("Sensitivity", ci.child(nsTypes, "Sensitivity").text(), it.Sensitivity)
	check("IsCancelled", ci.child(nsTypes, "IsCancelled").text(), boolStr(it.IsCancelled))
	check("StartTimeZone", ci.child(nsTypes, "StartTimeZone").attr("Id"), it.StartTimeZone)
	check("AppointmentSequenceNumber", ci.child(nsTypes, "AppointmentSequenceNumber").text(), fmt.Sprint(it.Sequence))
	wantType := "Single"
	if it.Recurrence != nil {
		wantType = "RecurringMaster"
		rec := ci.child(nsTypes, "Recurrence")
		if rec == nil || len(rec.Children) != 2 {
			t.Fatalf("item %s: Recurrence: got %v", it.ID, rec)
		}
		check("pattern", rec.Children[0].Local, it.Recurrence.Pattern+"Recurrence")
		check("range", rec.Children[1].Local, it.Recurrence.Range+"Recurrence")
		check("StartDate", rec.Children[1].child(nsTypes, "StartDate").text()[:10], it.Recurrence.StartDate)
		check("modified", fmt.Sprint(len(ci.child(nsTypes, "ModifiedOccurrences").all(nsTypes, "Occurrence"))), fmt.Sprint(len(it.ModifiedOccurrences)))
		check("deleted", fmt.Sprint(len(ci.child(nsTypes, "DeletedOccurrences").all(nsTypes, "DeletedOccurrence"))), fmt.Sprint(len(it.DeletedOccurrences)))
		if ci.child(nsTypes, "FirstOccurrence") == nil {
			t.Errorf("item %s: no FirstOccurrence", it.ID)
		}
		if (ci.child(nsTypes, "LastOccurrence") == nil) != (it.Recurrence.Range == "NoEnd") {
			t.Errorf("item %s: LastOccurrence presence wrong for range %s", it.ID, it.Recurrence.Range)
		}
	}
	check("CalendarItemType", ci.child(nsTypes, "CalendarItemType").text(), wantType)
	var attendees int
	for _, role := range []string{"RequiredAttendees", "OptionalAttendees", "Resources"} {
		attendees += len(ci.child(nsTypes, role).all(nsTypes, "Attendee"))
	}
	check("attendees", fmt.Sprint(attendees), fmt.Sprint(len(it.Attendees)))
}

func calendarViewRequest(start, end time.Time, max int) string {
	m := ""
	if max > 0 {
		m = fmt.Sprintf(` MaxEntriesReturned="%d"`, max)
	}
	return `<m:FindItem Traversal="Shallow">
  <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>
    <t:FieldURI FieldURI="item:Subject" /><t:FieldURI FieldURI="calendar:Start" /><t:FieldURI FieldURI="calendar:End" />
    <t:FieldURI FieldURI="calendar:CalendarItemType" /><t:FieldURI FieldURI="calendar:UID" />
  </t:AdditionalProperties></m:ItemShape>
  <m:CalendarView` + m + ` StartDate="` + ts(start) + `" EndDate="` + ts(end) + `" />
  <m:ParentFolderIds><t:DistinguishedFolderId Id="calendar" /></m:ParentFolderIds>
</m:FindItem>`
}

func TestFindItem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ten := e.srv.Tenant()
	mb := ten.Mailboxes()[2]
	start, end := testNow.AddDate(0, -1, 0), testNow.AddDate(0, 6, 0)
	want := ten.CalendarView(mb, start, end)

	res := e.ews(mb, calendarViewRequest(start, end, 0))
	msg := res.messages()[0]
	root := msg.child(nsMessages, "RootFolder")
	items := root.child(nsTypes, "Items").all(nsTypes, "CalendarItem")
	if len(items) != len(want) || root.attr("IncludesLastItemInRange") != "true" || root.attr("TotalItemsInView") != fmt.Sprint(len(want)) {
		t.Fatalf("CalendarView: got %d items (%s/%s), want %d", len(items), root.attr("TotalItemsInView"), root.attr("IncludesLastItemInRange"), len(want))
	}
	types := map[string]int{}
	for i, ci := range items {
		o := want[i]
		if ci.child(nsTypes, "ItemId").attr("Id") != o.ItemID || ci.child(nsTypes, "Start").text() != ts(o.Start) ||
			ci.child(nsTypes, "End").text() != ts(o.End) || ci.child(nsTypes, "CalendarItemType").text() != o.Type || ci.child(nsTypes, "UID").text() != o.UID {
			t.Errorf("view item %d: got id %s start %s type %s, want %s %s %s", i, ci.child(nsTypes, "ItemId").attr("Id"),
				ci.child(nsTypes, "Start").text(), ci.child(nsTypes, "CalendarItemType").text(), o.ItemID, ts(o.Start), o.Type)
		}
		types[o.Type]++
	}
	for _, k := range []string{"Single", "Occurrence", "Exception"} {
		if types[k] == 0 {
			t.Errorf("view: no %s items", k)
		}
	}
	// An occurrence from the view can be fetched by its ItemId.
	for _, o := range want {
		if o.Type != "Occurrence" {
			continue
		}
		r := e.ews(mb, getItemRequest(itemIDXML(o.ItemID)))
		ci := r.messages()[0].path(nsMessages, "Items").child(nsTypes, "CalendarItem")
		if ci.child(nsTypes, "CalendarItemType").text() != "Occurrence" || ci.child(nsTypes, "Start").text() != ts(o.Start) {
			t.Errorf("GetItem occurrence: got %s", r.body)
		}
		break
	}
	// MaxEntriesReturned truncates (sample 11).
	res = e.ews(mb, calendarViewRequest(start, end, 5))
	root = res.messages()[0].child(nsMessages, "RootFolder")
	if n := len(root.child(nsTypes, "Items").all(nsTypes, "CalendarItem")); n != 5 || root.attr("IncludesLastItemInRange") != "false" {
		t.Errorf("MaxEntriesReturned 5: got %d items, IncludesLastItemInRange %s", n, root.attr("IncludesLastItemInRange"))
	}
	// Over two years: ErrorCalendarViewRangeTooBig.
	res = e.ews(mb, calendarViewRequest(start, start.AddDate(2, 0, 1), 0))
	if got := res.messages()[0].child(nsMessages, "ResponseCode").text(); got != "ErrorCalendarViewRangeTooBig" {
		t.Errorf("3-year view: got %q, want ErrorCalendarViewRangeTooBig", got)
	}
	// Without CalendarView: singles and masters, paged.
	shallow := `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:CalendarItemType" /></t:AdditionalProperties></m:ItemShape>
  <m:IndexedPageItemView MaxEntriesReturned="1000" Offset="0" BasePoint="Beginning" />
  <m:ParentFolderIds><t:DistinguishedFolderId Id="calendar" /></m:ParentFolderIds></m:FindItem>`
	res = e.ews(mb, shallow)
	var ids []string
	for _, ci := range res.messages()[0].child(nsMessages, "RootFolder").child(nsTypes, "Items").all(nsTypes, "CalendarItem") {
		ids = append(ids, ci.child(nsTypes, "ItemId").attr("Id"))
		if k := ci.child(nsTypes, "CalendarItemType").text(); k != "Single" && k != "RecurringMaster" {
			t.Errorf("shallow FindItem: got type %s", k)
		}
	}
	sort.Strings(ids)
	if w := itemIDs(ten.Items(mb)); !slices.Equal(ids, w) {
		t.Errorf("shallow FindItem: got %d ids, want %d", len(ids), len(w))
	}
	// With sample 12's Restriction (Start > a and End < b): only masters
	// and singles that themselves match, no expansion (sample 13).
	a, b := testNow, testNow.AddDate(0, 1, 0)
	restricted := strings.Replace(shallow, "<m:ParentFolderIds>", `<m:Restriction><t:And>
    <t:IsGreaterThan><t:FieldURI FieldURI="calendar:Start" /><t:FieldURIOrConstant><t:Constant Value="`+ts(a)+`" /></t:FieldURIOrConstant></t:IsGreaterThan>
    <t:IsLessThan><t:FieldURI FieldURI="calendar:End" /><t:FieldURIOrConstant><t:Constant Value="`+ts(b)+`" /></t:FieldURIOrConstant></t:IsLessThan>
  </t:And></m:Restriction>
  <m:ParentFolderIds>`, 1)
	res = e.ews(mb, restricted)
	ids = nil
	for _, ci := range res.messages()[0].child(nsMessages, "RootFolder").child(nsTypes, "Items").all(nsTypes, "CalendarItem") {
		ids = append(ids, ci.child(nsTypes, "ItemId").attr("Id"))
	}
	var wantIDs []string
	for _, it := range ten.Items(mb) {
		if it.Start.After(a) && it.End.Before(b) {
			wantIDs = append(wantIDs, it.ID)
		}
	}
	sort.Strings(ids)
	sort.Strings(wantIDs)
	if !slices.Equal(ids, wantIDs) || len(ids) == 0 {
		t.Errorf("restricted FindItem: got %d ids, want %d (non-zero)", len(ids), len(wantIDs))
	}
}
