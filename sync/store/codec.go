package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// Item encoding. Schema 1 stored every item as the JSON of a
// calendar.Event (about 1.6 kB, most of it field names and the decimal
// nanoseconds of durations): encoding it was the store's biggest CPU cost,
// and two items filled a 4 kB page. Schema 2 stores a compact binary form:
//
//	value  = formatBinary1 event
//	event  = string×6 (ItemID ChangeKey UID Subject Location Body)
//	         time Start, time End, bool AllDay, zone? TimeZone, zone? EndTimeZone,
//	         recurrence? Recurrence, n+1 × time DeletedOccurrences,
//	         n+1 × event ModifiedOccurrences, time OriginalStart,
//	         person? Organizer, n+1 × (person, varint Role, varint Response) Attendees,
//	         n+1 × string Categories, varint FreeBusy, varint Sensitivity,
//	         duration? Reminder, bool Cancelled, time LastModified, varint Sequence
//	string = uvarint length, bytes
//	time   = varint Unix seconds, uvarint nanoseconds<<1 | offset flag, [varint offset]
//	x?     = byte 0 (nil) or 1 followed by x
//	n+1 ×  = uvarint 0 for a nil slice, else len+1, then the elements
//	varint, duration = zigzag varint
//
// A value starting with '{' is schema 1 JSON; decodeEvent reads both, and
// Open migrates a schema 1 database to binary in place (migrate).
const formatBinary1 = 0x01

var errShort = errors.New("store: truncated item")

// appendEvent appends the schema 2 encoding of e (with the format byte) to b.
func appendEvent(b []byte, e *calendar.Event) []byte {
	return appendEventBody(append(b, formatBinary1), e)
}

func appendEventBody(b []byte, e *calendar.Event) []byte {
	for _, s := range [...]string{e.ItemID, e.ChangeKey, e.UID, e.Subject, e.Location, e.Body} {
		b = appendString(b, s)
	}
	b = appendTime(b, e.Start)
	b = appendTime(b, e.End)
	b = appendBool(b, e.AllDay)
	b = appendZone(b, e.TimeZone)
	b = appendZone(b, e.EndTimeZone)
	if b = appendBool(b, e.Recurrence != nil); e.Recurrence != nil {
		r := e.Recurrence
		b = binary.AppendVarint(b, int64(r.Pattern))
		b = binary.AppendVarint(b, int64(r.Interval))
		b = appendLen(b, r.DaysOfWeek == nil, len(r.DaysOfWeek))
		for _, d := range r.DaysOfWeek {
			b = binary.AppendVarint(b, int64(d))
		}
		b = binary.AppendVarint(b, int64(r.FirstDayOfWeek))
		b = binary.AppendVarint(b, int64(r.DayOfMonth))
		b = binary.AppendVarint(b, int64(r.Index))
		b = binary.AppendVarint(b, int64(r.Month))
		b = binary.AppendVarint(b, int64(r.Range))
		b = appendDate(b, r.StartDate)
		b = appendDate(b, r.EndDate)
		b = binary.AppendVarint(b, int64(r.Count))
	}
	b = appendLen(b, e.DeletedOccurrences == nil, len(e.DeletedOccurrences))
	for _, t := range e.DeletedOccurrences {
		b = appendTime(b, t)
	}
	b = appendLen(b, e.ModifiedOccurrences == nil, len(e.ModifiedOccurrences))
	for i := range e.ModifiedOccurrences {
		b = appendEventBody(b, &e.ModifiedOccurrences[i])
	}
	b = appendTime(b, e.OriginalStart)
	if b = appendBool(b, e.Organizer != nil); e.Organizer != nil {
		b = appendString(appendString(b, e.Organizer.Name), e.Organizer.Email)
	}
	b = appendLen(b, e.Attendees == nil, len(e.Attendees))
	for _, a := range e.Attendees {
		b = appendString(appendString(b, a.Name), a.Email)
		b = binary.AppendVarint(b, int64(a.Role))
		b = binary.AppendVarint(b, int64(a.Response))
	}
	b = appendLen(b, e.Categories == nil, len(e.Categories))
	for _, c := range e.Categories {
		b = appendString(b, c)
	}
	b = binary.AppendVarint(b, int64(e.FreeBusy))
	b = binary.AppendVarint(b, int64(e.Sensitivity))
	if b = appendBool(b, e.Reminder != nil); e.Reminder != nil {
		b = binary.AppendVarint(b, int64(*e.Reminder))
	}
	b = appendBool(b, e.Cancelled)
	b = appendTime(b, e.LastModified)
	return binary.AppendVarint(b, int64(e.Sequence))
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendLen(b []byte, isNil bool, n int) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

// appendTime writes t's instant and its UTC offset, which is what schema
// 1's JSON (RFC 3339) kept: Unix seconds, then nanoseconds<<1 | 1 when an
// offset other than UTC's follows.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	ns := uint64(t.Nanosecond()) << 1
	if _, off := t.Zone(); off != 0 {
		return binary.AppendVarint(binary.AppendUvarint(b, ns|1), int64(off))
	}
	return binary.AppendUvarint(b, ns)
}

func appendDate(b []byte, d calendar.Date) []byte {
	b = binary.AppendVarint(b, int64(d.Year))
	b = binary.AppendVarint(b, int64(d.Month))
	return binary.AppendVarint(b, int64(d.Day))
}

func appendZone(b []byte, z *calendar.TimeZone) []byte {
	if b = appendBool(b, z != nil); z == nil {
		return b
	}
	b = appendString(appendString(b, z.ID), z.Name)
	b = binary.AppendVarint(b, int64(z.StandardOffset))
	b = binary.AppendVarint(b, int64(z.DaylightOffset))
	for _, tr := range [...]*calendar.Transition{z.ToStandard, z.ToDaylight} {
		if b = appendBool(b, tr != nil); tr != nil {
			b = binary.AppendVarint(b, int64(tr.Month))
			b = binary.AppendVarint(b, int64(tr.Week))
			b = binary.AppendVarint(b, int64(tr.Weekday))
			b = binary.AppendVarint(b, int64(tr.At))
		}
	}
	return appendBool(b, z.HasDefinition)
}

// decodeEvent decodes a stored item of either schema into e.
func decodeEvent(v []byte, e *calendar.Event) error {
	if len(v) == 0 {
		return errShort
	}
	switch v[0] {
	case '{':
		return json.Unmarshal(v, e)
	case formatBinary1:
		// One string holds the item's text; its strings are substrings of it.
		d := decoder{b: v[1:], s: string(v[1:])}
		d.event(e)
		if d.err == nil && len(d.b) != 0 {
			d.err = fmt.Errorf("store: %d bytes after the item", len(d.b))
		}
		return d.err
	default:
		return fmt.Errorf("store: unknown item format %#x", v[0])
	}
}

// decoder reads the binary item encoding; the first error sticks and
// every later read returns zero values.
type decoder struct {
	b   []byte
	s   string // the whole input, as a string
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int { return int(d.varint()) }

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errShort)
		return ""
	}
	at := len(d.s) - len(d.b)
	d.b = d.b[n:]
	return d.s[at : at+int(n)]
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.fail(errShort)
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	if v > 1 {
		d.fail(fmt.Errorf("store: bad flag %d in item", v))
	}
	return v == 1
}

// len reads a slice length written by appendLen: -1 for nil.
func (d *decoder) len() int {
	n := d.uvarint()
	if n > uint64(len(d.b))+1 { // every element takes at least a byte
		d.fail(errShort)
		return -1
	}
	return int(n) - 1
}

// time reads what appendTime wrote, with the location encoding/json's
// RFC 3339 parser gives: UTC for offset 0, Local when the offset is Local's
// at that instant, else a fixed zone.
func (d *decoder) time() time.Time {
	sec, ns := d.varint(), d.uvarint()
	if ns>>1 >= 1e9 {
		d.fail(fmt.Errorf("store: bad time in item"))
	}
	t := time.Unix(sec, int64(ns>>1))
	if ns&1 == 0 {
		return t.UTC()
	}
	off := d.int()
	if _, local := t.Zone(); local == off {
		return t
	}
	return t.In(time.FixedZone("", off))
}

func (d *decoder) date() calendar.Date {
	return calendar.Date{Year: d.int(), Month: time.Month(d.int()), Day: d.int()}
}

func (d *decoder) zone() *calendar.TimeZone {
	if !d.bool() {
		return nil
	}
	z := &calendar.TimeZone{ID: d.string(), Name: d.string(),
		StandardOffset: time.Duration(d.varint()), DaylightOffset: time.Duration(d.varint())}
	for _, tr := range [...]**calendar.Transition{&z.ToStandard, &z.ToDaylight} {
		if d.bool() {
			*tr = &calendar.Transition{Month: time.Month(d.int()), Week: d.int(), Weekday: time.Weekday(d.int()), At: time.Duration(d.varint())}
		}
	}
	z.HasDefinition = d.bool()
	return z
}

func (d *decoder) person() calendar.Person {
	return calendar.Person{Name: d.string(), Email: d.string()}
}

func (d *decoder) event(e *calendar.Event) {
	e.ItemID, e.ChangeKey, e.UID = d.string(), d.string(), d.string()
	e.Subject, e.Location, e.Body = d.string(), d.string(), d.string()
	e.Start, e.End = d.time(), d.time()
	e.AllDay = d.bool()
	e.TimeZone, e.EndTimeZone = d.zone(), d.zone()
	if d.bool() {
		r := &calendar.Recurrence{Pattern: calendar.Pattern(d.int()), Interval: d.int()}
		if n := d.len(); n >= 0 {
			r.DaysOfWeek = make([]calendar.Day, n)
			for i := range r.DaysOfWeek {
				r.DaysOfWeek[i] = calendar.Day(d.int())
			}
		}
		r.FirstDayOfWeek = time.Weekday(d.int())
		r.DayOfMonth = d.int()
		r.Index = calendar.WeekIndex(d.int())
		r.Month = time.Month(d.int())
		r.Range = calendar.RangeKind(d.int())
		r.StartDate, r.EndDate = d.date(), d.date()
		r.Count = d.int()
		e.Recurrence = r
	}
	if n := d.len(); n >= 0 {
		e.DeletedOccurrences = make([]time.Time, n)
		for i := range e.DeletedOccurrences {
			e.DeletedOccurrences[i] = d.time()
		}
	}
	if n := d.len(); n >= 0 {
		e.ModifiedOccurrences = make([]calendar.Event, n)
		for i := range e.ModifiedOccurrences {
			d.event(&e.ModifiedOccurrences[i])
		}
	}
	e.OriginalStart = d.time()
	if d.bool() {
		p := d.person()
		e.Organizer = &p
	}
	if n := d.len(); n >= 0 {
		e.Attendees = make([]calendar.Attendee, n)
		for i := range e.Attendees {
			e.Attendees[i] = calendar.Attendee{Person: d.person(), Role: calendar.AttendeeRole(d.int()), Response: calendar.Response(d.int())}
		}
	}
	if n := d.len(); n >= 0 {
		e.Categories = make([]string, n)
		for i := range e.Categories {
			e.Categories[i] = d.string()
		}
	}
	e.FreeBusy = calendar.FreeBusy(d.int())
	e.Sensitivity = calendar.Sensitivity(d.int())
	if d.bool() {
		r := time.Duration(d.varint())
		e.Reminder = &r
	}
	e.Cancelled = d.bool()
	e.LastModified = d.time()
	e.Sequence = d.int()
}
