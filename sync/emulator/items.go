package emulator

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

var b64std = base64.StdEncoding

// propSet is a parsed ItemShape: which properties to write.
type propSet struct {
	base   string // IdOnly, Default, AllProperties
	fields map[string]bool
	html   bool // BodyType HTML requested
	find   bool // FindItem: GetItem-only properties are left out
}

// Properties of a calendar item the Default shape returns (an
// approximation of Exchange's Default set for calendar items).
var defaultCalendarProps = []string{
	"item:Subject", "item:HasAttachments", "item:Sensitivity", "calendar:Start", "calendar:End",
	"calendar:IsAllDayEvent", "calendar:LegacyFreeBusyStatus", "calendar:Location",
	"calendar:CalendarItemType", "calendar:Organizer", "calendar:IsRecurring", "calendar:IsCancelled",
	"calendar:IsMeeting", "calendar:UID",
}

// GetItem-only properties (ews-protocol.md §4: FindItem cannot return them).
var getItemOnly = map[string]bool{
	"item:Body": true, "calendar:RequiredAttendees": true, "calendar:OptionalAttendees": true,
	"calendar:Resources": true, "calendar:Recurrence": true, "calendar:FirstOccurrence": true,
	"calendar:LastOccurrence": true, "calendar:ModifiedOccurrences": true,
	"calendar:DeletedOccurrences": true, "calendar:AppointmentSequenceNumber": true,
}

func parseShape(shape *node, find bool) propSet {
	p := propSet{base: shape.child(nsTypes, "BaseShape").text(), fields: map[string]bool{}, find: find}
	p.html = shape.child(nsTypes, "BodyType").text() == "HTML"
	for _, f := range shape.child(nsTypes, "AdditionalProperties").all(nsTypes, "FieldURI") {
		p.fields[f.attr("FieldURI")] = true
	}
	switch p.base {
	case "Default":
		for _, f := range defaultCalendarProps {
			p.fields[f] = true
		}
	case "AllProperties":
		p.fields["*"] = true
	}
	return p
}

func (p propSet) has(uri string) bool {
	if p.find && getItemOnly[uri] {
		return false
	}
	return p.fields[uri] || p.fields["*"]
}

// itemView is what one CalendarItem element shows: a single item, a
// master, an exception, or an occurrence (master's data, own times).
type itemView struct {
	it            tenant.Item // properties (an occurrence: its master's)
	id, changeKey string
	typ           string // Single, Occurrence, Exception, RecurringMaster
	start, end    time.Time
	originalStart time.Time
	mailbox       string
}

func viewOf(mailbox string, it tenant.Item) itemView {
	v := itemView{it: it, id: it.ID, changeKey: it.ChangeKey, start: it.Start, end: it.End, mailbox: mailbox, typ: "Single"}
	switch {
	case it.Recurrence != nil:
		v.typ = "RecurringMaster"
	case !it.OriginalStart.IsZero():
		v.typ = "Exception"
		v.originalStart = it.OriginalStart
	}
	return v
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// xsDuration formats a duration as xs:duration the way Exchange writes
// biases and offsets ("-PT1H", "PT5H30M", "PT0H").
func xsDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case m == 0:
		return fmt.Sprintf("%sPT%dH", sign, h)
	case h == 0:
		return fmt.Sprintf("%sPT%dM", sign, m)
	}
	return fmt.Sprintf("%sPT%dH%dM", sign, h, m)
}

// writeCalendarItem writes one t:CalendarItem with the properties p asks
// for, in types.xsd's order (ItemType, then CalendarItemType).
func (s *Server) writeCalendarItem(w *xw, v itemView, p propSet) {
	it := v.it
	w.open("t:CalendarItem")
	w.empty("t:ItemId", "Id", v.id, "ChangeKey", v.changeKey)
	if p.has("item:ParentFolderId") {
		w.empty("t:ParentFolderId", "Id", s.calendarFolderID(v.mailbox), "ChangeKey", "AgAAABYAAAA=")
	}
	if p.has("item:ItemClass") {
		w.elem("t:ItemClass", "IPM.Appointment")
	}
	if p.has("item:Subject") {
		w.elem("t:Subject", it.Subject)
	}
	if p.has("item:Sensitivity") && it.Sensitivity != "" {
		w.elem("t:Sensitivity", it.Sensitivity)
	}
	if p.has("item:Body") {
		if p.html {
			w.open("t:Body", "BodyType", "HTML", "IsTruncated", "false")
			w.WriteString(esc("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>" + esc(it.Body) + "</body></html>"))
			w.close("t:Body")
		} else {
			w.open("t:Body", "BodyType", "Text", "IsTruncated", "false")
			w.WriteString(esc(it.Body))
			w.close("t:Body")
		}
	}
	if p.has("item:DateTimeReceived") && !it.Created.IsZero() {
		w.elem("t:DateTimeReceived", ts(it.Created))
	}
	if p.has("item:Categories") && len(it.Categories) > 0 {
		w.open("t:Categories")
		for _, c := range it.Categories {
			w.elem("t:String", c)
		}
		w.close("t:Categories")
	}
	if p.has("item:Importance") {
		w.elem("t:Importance", "Normal")
	}
	if p.has("item:DateTimeCreated") && !it.Created.IsZero() {
		w.elem("t:DateTimeCreated", ts(it.Created))
	}
	if p.has("item:ReminderDueBy") && it.ReminderSet {
		w.elem("t:ReminderDueBy", ts(v.start.Add(-time.Duration(it.ReminderMinutes)*time.Minute)))
	}
	if p.has("item:ReminderIsSet") {
		w.elem("t:ReminderIsSet", boolStr(it.ReminderSet))
	}
	if p.has("item:ReminderMinutesBeforeStart") {
		w.elem("t:ReminderMinutesBeforeStart", fmt.Sprint(it.ReminderMinutes))
	}
	if p.has("item:HasAttachments") {
		w.elem("t:HasAttachments", "false")
	}
	if p.has("item:LastModifiedTime") && !it.LastModified.IsZero() {
		w.elem("t:LastModifiedTime", ts(it.LastModified))
	}
	// CalendarItemType
	if p.has("calendar:UID") && it.UID != "" {
		w.elem("t:UID", it.UID)
	}
	if p.has("calendar:RecurrenceId") && !v.originalStart.IsZero() {
		w.elem("t:RecurrenceId", ts(v.originalStart))
	}
	if p.has("calendar:DateTimeStamp") && !it.LastModified.IsZero() {
		w.elem("t:DateTimeStamp", ts(it.LastModified))
	}
	if p.has("calendar:Start") {
		w.elem("t:Start", ts(v.start))
	}
	if p.has("calendar:End") {
		w.elem("t:End", ts(v.end))
	}
	if p.has("calendar:OriginalStart") && !v.originalStart.IsZero() {
		w.elem("t:OriginalStart", ts(v.originalStart))
	}
	if p.has("calendar:IsAllDayEvent") {
		w.elem("t:IsAllDayEvent", boolStr(it.AllDay))
	}
	if p.has("calendar:LegacyFreeBusyStatus") && it.FreeBusy != "" {
		w.elem("t:LegacyFreeBusyStatus", it.FreeBusy)
	}
	if p.has("calendar:Location") && it.Location != "" {
		w.elem("t:Location", it.Location)
	}
	if p.has("calendar:IsMeeting") {
		w.elem("t:IsMeeting", boolStr(it.IsMeeting))
	}
	if p.has("calendar:IsCancelled") {
		w.elem("t:IsCancelled", boolStr(it.IsCancelled))
	}
	if p.has("calendar:IsRecurring") {
		w.elem("t:IsRecurring", boolStr(v.typ == "Occurrence" || v.typ == "Exception"))
	}
	if p.has("calendar:CalendarItemType") {
		w.elem("t:CalendarItemType", v.typ)
	}
	if p.has("calendar:MyResponseType") {
		resp := "Organizer"
		if !strings.EqualFold(it.Organizer.Email, v.mailbox) && it.IsMeeting {
			resp = "NoResponseReceived"
			for _, a := range it.Attendees {
				if strings.EqualFold(a.Email, v.mailbox) && a.Response != "" {
					resp = a.Response
				}
			}
		}
		w.elem("t:MyResponseType", resp)
	}
	if p.has("calendar:Organizer") && (it.Organizer.Email != "" || it.Organizer.Name != "") {
		w.open("t:Organizer")
		w.open("t:Mailbox")
		w.elem("t:Name", it.Organizer.Name)
		if !p.find {
			w.elem("t:EmailAddress", it.Organizer.Email)
			w.elem("t:RoutingType", "SMTP")
			w.elem("t:MailboxType", "Mailbox")
		}
		w.close("t:Mailbox")
		w.close("t:Organizer")
	}
	for _, role := range []struct{ uri, elem, role string }{
		{"calendar:RequiredAttendees", "t:RequiredAttendees", "Required"},
		{"calendar:OptionalAttendees", "t:OptionalAttendees", "Optional"},
		{"calendar:Resources", "t:Resources", "Resource"},
	} {
		if !p.has(role.uri) {
			continue
		}
		var as []tenant.Attendee
		for _, a := range it.Attendees {
			if a.Role == role.role {
				as = append(as, a)
			}
		}
		if len(as) == 0 {
			continue
		}
		w.open(role.elem)
		for _, a := range as {
			w.open("t:Attendee")
			w.open("t:Mailbox")
			w.elem("t:Name", a.Name)
			w.elem("t:EmailAddress", a.Email)
			w.elem("t:RoutingType", "SMTP")
			w.elem("t:MailboxType", "Mailbox")
			w.close("t:Mailbox")
			if a.Response != "" {
				w.elem("t:ResponseType", a.Response)
			}
			w.close("t:Attendee")
		}
		w.close(role.elem)
	}
	if p.has("calendar:Duration") {
		w.elem("t:Duration", isoDuration(v.end.Sub(v.start)))
	}
	if p.has("calendar:TimeZone") && it.StartTimeZone != "" {
		if z, ok := tenant.Zone(it.StartTimeZone); ok {
			w.elem("t:TimeZone", z.Name)
		}
	}
	if p.has("calendar:AppointmentSequenceNumber") {
		w.elem("t:AppointmentSequenceNumber", fmt.Sprint(it.Sequence))
	}
	if p.has("calendar:AppointmentState") {
		state := 0
		if it.IsMeeting {
			state = 1 // Meeting
			if !strings.EqualFold(it.Organizer.Email, v.mailbox) {
				state |= 2 // Received
			}
			if it.IsCancelled {
				state |= 4 // Cancelled
			}
		}
		w.elem("t:AppointmentState", fmt.Sprint(state))
	}
	if v.typ == "RecurringMaster" && it.Recurrence != nil {
		if p.has("calendar:Recurrence") {
			writeRecurrence(w, it.Recurrence, it.StartTimeZone)
		}
		first, last, hasLast := s.firstLast(it)
		if p.has("calendar:FirstOccurrence") && first != nil {
			writeOccurrenceInfo(w, "t:FirstOccurrence", *first)
		}
		if p.has("calendar:LastOccurrence") && hasLast && last != nil {
			writeOccurrenceInfo(w, "t:LastOccurrence", *last)
		}
		if p.has("calendar:ModifiedOccurrences") && len(it.ModifiedOccurrences) > 0 {
			w.open("t:ModifiedOccurrences")
			for _, e := range it.ModifiedOccurrences {
				w.open("t:Occurrence")
				w.empty("t:ItemId", "Id", e.ID, "ChangeKey", e.ChangeKey)
				w.elem("t:Start", ts(e.Start))
				w.elem("t:End", ts(e.End))
				w.elem("t:OriginalStart", ts(e.OriginalStart))
				w.close("t:Occurrence")
			}
			w.close("t:ModifiedOccurrences")
		}
		if p.has("calendar:DeletedOccurrences") && len(it.DeletedOccurrences) > 0 {
			w.open("t:DeletedOccurrences")
			for _, d := range it.DeletedOccurrences {
				w.open("t:DeletedOccurrence")
				w.elem("t:Start", ts(d))
				w.close("t:DeletedOccurrence")
			}
			w.close("t:DeletedOccurrences")
		}
	}
	if p.has("calendar:StartTimeZone") && it.StartTimeZone != "" {
		writeTimeZone(w, "t:StartTimeZone", it.StartTimeZone)
	}
	if p.has("calendar:EndTimeZone") {
		if tz := cmpOr(it.EndTimeZone, it.StartTimeZone); tz != "" {
			writeTimeZone(w, "t:EndTimeZone", tz)
		}
	}
	if p.has("calendar:StartTimeZoneId") && it.StartTimeZone != "" {
		w.elem("t:StartTimeZoneId", it.StartTimeZone)
	}
	if p.has("calendar:EndTimeZoneId") {
		if tz := cmpOr(it.EndTimeZone, it.StartTimeZone); tz != "" {
			w.elem("t:EndTimeZoneId", tz)
		}
	}
	w.close("t:CalendarItem")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// isoDuration writes a duration as Exchange's Duration ("PT1H30M", "P1D").
func isoDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	out := "P"
	if days > 0 {
		out += fmt.Sprintf("%dD", days)
	}
	if d > 0 {
		out += "T"
		if h := int(d / time.Hour); h > 0 {
			out += fmt.Sprintf("%dH", h)
		}
		if m := int(d % time.Hour / time.Minute); m > 0 {
			out += fmt.Sprintf("%dM", m)
		}
		if sec := int(d % time.Minute / time.Second); sec > 0 {
			out += fmt.Sprintf("%dS", sec)
		}
	}
	return out
}

// zonedDate writes a recurrence range date the way Exchange does (sample
// 17: "2014-03-08-08:00"): the date with the series' UTC offset on it.
func zonedDate(date, zoneID string) string {
	z, ok := tenant.Zone(zoneID)
	d, err := time.Parse("2006-01-02", date)
	if !ok || z.Location == nil || err != nil {
		return date
	}
	_, off := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, z.Location).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%s%02d:%02d", date, sign, off/3600, off%3600/60)
}

// writeRecurrence writes t:Recurrence (a pattern, then a range) for a
// series in time zone zoneID.
func writeRecurrence(w *xw, r *tenant.Recurrence, zoneID string) {
	w.open("t:Recurrence")
	iv := fmt.Sprint(max(r.Interval, 1))
	switch r.Pattern {
	case "Daily":
		w.open("t:DailyRecurrence")
		w.elem("t:Interval", iv)
		w.close("t:DailyRecurrence")
	case "Weekly":
		w.open("t:WeeklyRecurrence")
		w.elem("t:Interval", iv)
		w.elem("t:DaysOfWeek", strings.Join(r.DaysOfWeek, " "))
		if r.FirstDayOfWeek != "" {
			w.elem("t:FirstDayOfWeek", r.FirstDayOfWeek)
		}
		w.close("t:WeeklyRecurrence")
	case "AbsoluteMonthly":
		w.open("t:AbsoluteMonthlyRecurrence")
		w.elem("t:Interval", iv)
		w.elem("t:DayOfMonth", fmt.Sprint(r.DayOfMonth))
		w.close("t:AbsoluteMonthlyRecurrence")
	case "RelativeMonthly":
		w.open("t:RelativeMonthlyRecurrence")
		w.elem("t:Interval", iv)
		w.elem("t:DaysOfWeek", firstOr(r.DaysOfWeek, "Day"))
		w.elem("t:DayOfWeekIndex", r.DayOfWeekIndex)
		w.close("t:RelativeMonthlyRecurrence")
	case "AbsoluteYearly":
		w.open("t:AbsoluteYearlyRecurrence")
		w.elem("t:DayOfMonth", fmt.Sprint(r.DayOfMonth))
		w.elem("t:Month", r.Month)
		w.close("t:AbsoluteYearlyRecurrence")
	case "RelativeYearly":
		w.open("t:RelativeYearlyRecurrence")
		w.elem("t:DaysOfWeek", firstOr(r.DaysOfWeek, "Day"))
		w.elem("t:DayOfWeekIndex", r.DayOfWeekIndex)
		w.elem("t:Month", r.Month)
		w.close("t:RelativeYearlyRecurrence")
	}
	switch r.Range {
	case "EndDate":
		w.open("t:EndDateRecurrence")
		w.elem("t:StartDate", zonedDate(r.StartDate, zoneID))
		w.elem("t:EndDate", zonedDate(r.EndDate, zoneID))
		w.close("t:EndDateRecurrence")
	case "Numbered":
		w.open("t:NumberedRecurrence")
		w.elem("t:StartDate", zonedDate(r.StartDate, zoneID))
		w.elem("t:NumberOfOccurrences", fmt.Sprint(r.Count))
		w.close("t:NumberedRecurrence")
	default:
		w.open("t:NoEndRecurrence")
		w.elem("t:StartDate", zonedDate(r.StartDate, zoneID))
		w.close("t:NoEndRecurrence")
	}
	w.close("t:Recurrence")
}

func firstOr(v []string, def string) string {
	if len(v) > 0 {
		return v[0]
	}
	return def
}

func writeOccurrenceInfo(w *xw, name string, o tenant.Occurrence) {
	w.open(name)
	w.empty("t:ItemId", "Id", o.ItemID, "ChangeKey", occChangeKey)
	w.elem("t:Start", ts(o.Start))
	w.elem("t:End", ts(o.End))
	w.elem("t:OriginalStart", ts(cmpTime(o.OriginalStart, o.Start)))
	w.close(name)
}

const occChangeKey = "DwAAABYAAAA="

func cmpTime(a, b time.Time) time.Time {
	if a.IsZero() {
		return b
	}
	return a
}

// writeTimeZone writes a TimeZoneDefinitionType (Periods, one recurring
// TransitionsGroup, Transitions), the form of sample 20.
func writeTimeZone(w *xw, name, id string) {
	z, ok := tenant.Zone(id)
	if !ok {
		w.empty(name, "Id", id)
		return
	}
	w.open(name, "Id", z.ID, "Name", z.Name)
	w.open("t:Periods")
	w.empty("t:Period", "Bias", xsDuration(z.StandardBias), "Name", "Standard", "Id", "Std")
	dst := z.ToDaylight != nil && z.ToStandard != nil
	if dst {
		w.empty("t:Period", "Bias", xsDuration(z.DaylightBias), "Name", "Daylight", "Id", "Dlt")
	}
	w.close("t:Periods")
	w.open("t:TransitionsGroups")
	w.open("t:TransitionsGroup", "Id", "0")
	if dst {
		writeDayTransition(w, "Dlt", z.ToDaylight)
		writeDayTransition(w, "Std", z.ToStandard)
	} else {
		w.open("t:Transition")
		w.open("t:To", "Kind", "Period")
		w.WriteString("Std")
		w.close("t:To")
		w.close("t:Transition")
	}
	w.close("t:TransitionsGroup")
	w.close("t:TransitionsGroups")
	w.open("t:Transitions")
	w.open("t:Transition")
	w.open("t:To", "Kind", "Group")
	w.WriteString("0")
	w.close("t:To")
	w.close("t:Transition")
	w.close("t:Transitions")
	w.close(name)
}

func writeDayTransition(w *xw, to string, t *tenant.ZoneTransition) {
	w.open("t:RecurringDayTransition")
	w.open("t:To", "Kind", "Period")
	w.WriteString(to)
	w.close("t:To")
	w.elem("t:TimeOffset", xsDuration(t.TimeOffset))
	w.elem("t:Month", fmt.Sprint(t.Month))
	w.elem("t:DayOfWeek", t.DayOfWeek)
	w.elem("t:Occurrence", fmt.Sprint(t.Occurrence))
	w.close("t:RecurringDayTransition")
}

// firstLast returns a master's first and (for bounded series) last
// instance, as tenant.FirstLast defines them.
func (s *Server) firstLast(it tenant.Item) (first, last *tenant.Occurrence, bounded bool) {
	f, l, hasLast := tenant.FirstLast(it)
	if f.ItemID != "" {
		first = &f
	}
	if hasLast {
		last = &l
	}
	return first, last, hasLast
}
