package ics

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// encoder writes iCalendar exactly as go-ical's Encoder writes the same
// components (properties sorted by name, same-named ones in the order they
// were added, parameters sorted by name, parameter values quoted when they
// hold ";:,"), but straight into one buffer, folding lines at 75 octets as
// it goes (go-ical's Encoder does not fold). Events are written property by
// property (prop, begin, end) without building go-ical components: a map,
// a sort and several allocations per property would make rendering 100,000
// events take seconds. go-ical components (the VTIMEZONEs) are written with
// component.
//
// With tree set (tests), the encoder also collects everything it writes
// as go-ical components (roots), so a test can check that go-ical's own
// Encoder gives the same bytes, unfolded.
type encoder struct {
	buf []byte // the encoded, folded output

	// The open component's properties, unfolded, one after another in
	// line; pending says where each is. They are sorted and written out
	// when a child begins or the component ends.
	line    []byte
	pending []pendingProp
	ranks   uint64        // the ranks with pending properties
	first   [maxProps]int // per rank, its first pending property
	last    [maxProps]int // per rank, its last pending property
	val     []byte        // scratch for formatting a value
	err     error         // the first error (a value go-ical would refuse)

	tree  bool
	stack []*ical.Component
	roots []*ical.Component
}

// A propName is a property name the encoder writes, with its rank in the
// sorted list of all of them: a component's properties are put in name
// order (go-ical's) by rank, without sorting strings.
type propName struct {
	name string
	rank int
}

var propNames []*propName

func newPropName(name string) *propName {
	p := &propName{name: name}
	propNames = append(propNames, p)
	return p
}

var (
	pAction          = newPropName(ical.PropAction)
	pAttendee        = newPropName(ical.PropAttendee)
	pBusyStatus      = newPropName("X-MICROSOFT-CDO-BUSYSTATUS")
	pCalName         = newPropName("X-WR-CALNAME")
	pCalendarScale   = newPropName(ical.PropCalendarScale)
	pCategories      = newPropName(ical.PropCategories)
	pClass           = newPropName(ical.PropClass)
	pDateTimeEnd     = newPropName(ical.PropDateTimeEnd)
	pDateTimeStamp   = newPropName(ical.PropDateTimeStamp)
	pDateTimeStart   = newPropName(ical.PropDateTimeStart)
	pDescription     = newPropName(ical.PropDescription)
	pDuration        = newPropName(ical.PropDuration)
	pExceptionDates  = newPropName(ical.PropExceptionDates)
	pLastModified    = newPropName(ical.PropLastModified)
	pLocation        = newPropName(ical.PropLocation)
	pOrganizer       = newPropName(ical.PropOrganizer)
	pProductID       = newPropName(ical.PropProductID)
	pRecurrenceDates = newPropName(ical.PropRecurrenceDates)
	pRecurrenceID    = newPropName(ical.PropRecurrenceID)
	pRecurrenceRule  = newPropName(ical.PropRecurrenceRule)
	pSequence        = newPropName(ical.PropSequence)
	pStatus          = newPropName(ical.PropStatus)
	pSummary         = newPropName(ical.PropSummary)
	pTransparency    = newPropName(ical.PropTransparency)
	pTrigger         = newPropName(ical.PropTrigger)
	pUID             = newPropName(ical.PropUID)
	pVersion         = newPropName(ical.PropVersion)
)

// maxProps bounds the number of property names (ranks index a bit mask).
const maxProps = 64

func init() {
	slices.SortFunc(propNames, func(a, b *propName) int { return strings.Compare(a.name, b.name) })
	if len(propNames) > maxProps {
		panic("ics: too many property names")
	}
	for i, p := range propNames {
		if i > 0 && propNames[i-1].name == p.name {
			panic("ics: property name declared twice: " + p.name)
		}
		p.rank = i
	}
}

// pendingProp is a property of the open component, line[lo:hi]; next is
// the next pending one of the same name (-1: none).
type pendingProp struct {
	lo, hi int
	next   int
}

// param is a single-valued property parameter.
type param struct{ name, value string }

var (
	errParamQuote = errors.New("ics: parameter value contains a double quote")
	errValueCRLF  = errors.New("ics: property value contains CR or LF")
)

// begin writes the pending properties of the open component, then starts
// a component.
func (e *encoder) begin(name string) {
	e.flushProps()
	e.simple("BEGIN", name)
	if e.tree {
		c := ical.NewComponent(name)
		e.attach(c)
		e.stack = append(e.stack, c)
	}
}

// end writes the pending properties, then ends the open component.
func (e *encoder) end(name string) {
	e.flushProps()
	e.simple("END", name)
	if e.tree {
		e.stack = e.stack[:len(e.stack)-1]
	}
}

func (e *encoder) attach(c *ical.Component) {
	if n := len(e.stack); n > 0 {
		e.stack[n-1].Children = append(e.stack[n-1].Children, c)
	} else {
		e.roots = append(e.roots, c)
	}
}

// prop adds a property of the open component: name, params (sorted here)
// and value, an already encoded value (escaped TEXT, a date-time, ...).
func (e *encoder) prop(pn *propName, value []byte, params ...param) {
	name := pn.name
	lo := len(e.line)
	l := append(e.line, name...)
	// Insertion sort: a property has at most a handful of parameters.
	for i := 1; i < len(params); i++ {
		for j := i; j > 0 && params[j].name < params[j-1].name; j-- {
			params[j], params[j-1] = params[j-1], params[j]
		}
	}
	for _, p := range params {
		l = append(append(append(l, ';'), p.name...), '=')
		quote := false
		for j := 0; j < len(p.value); j++ {
			switch p.value[j] {
			case '"':
				e.fail(fmt.Errorf("%w (%s %s)", errParamQuote, name, p.name))
			case ';', ':', ',':
				quote = true
			}
		}
		if quote {
			l = append(append(append(l, '"'), p.value...), '"')
		} else {
			l = append(l, p.value...)
		}
	}
	if bytes.IndexByte(value, '\r') >= 0 || bytes.IndexByte(value, '\n') >= 0 {
		e.fail(fmt.Errorf("%w (%s)", errValueCRLF, name))
	}
	e.line = append(append(l, ':'), value...)
	i, r := len(e.pending), pn.rank
	e.pending = append(e.pending, pendingProp{lo: lo, hi: len(e.line), next: -1})
	if e.ranks&(1<<r) == 0 {
		e.ranks |= 1 << r
		e.first[r] = i
	} else {
		e.pending[e.last[r]].next = i
	}
	e.last[r] = i
	if e.tree {
		p := ical.Prop{Name: name, Value: string(value)}
		if len(params) > 0 {
			p.Params = make(ical.Params, len(params))
			for _, pa := range params {
				p.Params.Add(pa.name, pa.value)
			}
		}
		e.stack[len(e.stack)-1].Props.Add(&p)
	}
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// flushProps writes the pending properties in name order; those of one
// name in the order they were added.
func (e *encoder) flushProps() {
	for m := e.ranks; m != 0; m &= m - 1 {
		for i := e.first[bits.TrailingZeros64(m)]; i >= 0; i = e.pending[i].next {
			e.fold(e.line[e.pending[i].lo:e.pending[i].hi])
		}
	}
	e.ranks = 0
	e.pending = e.pending[:0]
	e.line = e.line[:0]
}

// component writes a go-ical component (and its children) as go-ical's
// Encoder does.
func (e *encoder) component(c *ical.Component) error {
	e.flushProps()
	if e.tree {
		e.attach(c)
	}
	tree := e.tree
	e.tree = false
	defer func() { e.tree = tree }()
	return e.writeComponent(c)
}

func (e *encoder) writeComponent(c *ical.Component) error {
	e.simple("BEGIN", c.Name)
	if err := e.props(c); err != nil {
		return err
	}
	for _, child := range c.Children {
		if err := e.writeComponent(child); err != nil {
			return err
		}
	}
	e.simple("END", c.Name)
	return nil
}

// props writes c's properties, sorted by name.
func (e *encoder) props(c *ical.Component) error {
	var arr [32]string
	names := arr[:0]
	for name := range c.Props {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		props := c.Props[name]
		for i := range props {
			if err := e.icalProp(&props[i]); err != nil {
				return fmt.Errorf("%w (%s %s)", err, c.Name, name)
			}
		}
	}
	return nil
}

func (e *encoder) simple(name, value string) {
	e.line = append(append(append(e.line[:0], name...), ':'), value...)
	e.flush()
}

func (e *encoder) icalProp(p *ical.Prop) error {
	l := append(e.line[:0], p.Name...)
	if len(p.Params) > 0 {
		var arr [8]string
		names := arr[:0]
		for name := range p.Params {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			l = append(append(append(l, ';'), name...), '=')
			for i, v := range p.Params[name] {
				if i > 0 {
					l = append(l, ',')
				}
				quote := false
				for j := 0; j < len(v); j++ {
					switch v[j] {
					case '"':
						return errParamQuote
					case ';', ':', ',':
						quote = true
					}
				}
				if quote {
					l = append(append(append(l, '"'), v...), '"')
				} else {
					l = append(l, v...)
				}
			}
		}
	}
	for j := 0; j < len(p.Value); j++ {
		if c := p.Value[j]; c == '\r' || c == '\n' {
			return errValueCRLF
		}
	}
	e.line = append(append(l, ':'), p.Value...)
	e.flush()
	return nil
}

// flush writes the pending line (e.line), folded, and empties it.
func (e *encoder) flush() {
	e.fold(e.line)
	e.line = e.line[:0]
}

// fold appends line to buf, folded at 75 octets (RFC 5545 3.1) and never
// inside a UTF-8 sequence, with CRLF.
func (e *encoder) fold(line []byte) {
	limit := maxLine
	for len(line) > limit {
		cut := limit
		for cut > 1 && line[cut]&0xC0 == 0x80 {
			cut--
		}
		e.buf = append(append(e.buf, line[:cut]...), "\r\n "...)
		line = line[cut:]
		limit = maxLine - 1
	}
	e.buf = append(append(e.buf, line...), "\r\n"...)
}

// appendInt appends x with at least width digits, as package time formats
// years ("2006": a minus sign, then the zero-padded absolute value).
func appendInt(b []byte, x, width int) []byte {
	if x < 0 {
		b = append(b, '-')
		x = -x
	}
	var digits [20]byte
	i := len(digits)
	for x >= 10 {
		i--
		digits[i] = byte('0' + x%10)
		x /= 10
	}
	i--
	digits[i] = byte('0' + x)
	for w := len(digits) - i; w < width; w++ {
		b = append(b, '0')
	}
	return append(b, digits[i:]...)
}

// wallUTC returns t's wall time as a UTC time (one zone lookup, where
// t.Date and t.Clock look the zone up each).
func wallUTC(t time.Time) time.Time {
	_, off := t.Zone()
	return t.UTC().Add(time.Duration(off) * time.Second)
}

// appendDate appends t's date as "20060102" (dateFormat).
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	return appendInt(appendInt(appendInt(b, y, 4), int(m), 2), d, 2)
}

// appendLocal appends t's wall time as "20060102T150405" (localFormat).
func appendLocal(b []byte, t time.Time) []byte {
	t = wallUTC(t)
	b = append(appendDate(b, t), 'T')
	h, mi, s := t.Clock()
	return appendInt(appendInt(appendInt(b, h, 2), mi, 2), s, 2)
}

// appendUTC appends t in UTC as "20060102T150405Z" (utcFormat).
func appendUTC(b []byte, t time.Time) []byte {
	return append(appendLocal(b, t.UTC()), 'Z')
}

// appendText appends s as an escaped TEXT value (cleanText, then
// escapeText).
func appendText(b []byte, s string) []byte {
	// Fast path: valid UTF-8 without control characters other than HTAB
	// and LF is what cleanText leaves unchanged.
	n := len(b)
	for i := 0; i < len(s); i++ {
		// A run of bytes written as they are.
		j := i
		for j < len(s) && plainText[s[j]] {
			j++
		}
		if j > i {
			b = append(b, s[i:j]...)
			if i = j; i == len(s) {
				break
			}
		}
		switch c := s[i]; {
		case c == '\\' || c == ';' || c == ',':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c >= 0x20 && c < 0x7f || c == '\t':
			b = append(b, c)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return appendTextSlow(b[:n], s)
			}
			b = append(b, s[i:i+size]...)
			i += size - 1
		default:
			return appendTextSlow(b[:n], s)
		}
	}
	return b
}

// plainText marks the bytes appendText copies as they are: printable
// ASCII and HTAB but the escaped ones.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\' && c != ';' && c != ','
	}
	t['\t'] = true
	return t
}()

func appendTextSlow(b []byte, s string) []byte {
	s = cleanText(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendTrigger appends "before Start" as a negative RFC 5545 duration
// (positive when before is negative).
func appendTrigger(b []byte, before time.Duration) []byte {
	neg := true
	if before < 0 {
		neg, before = false, -before
	}
	s := int64(before / time.Second)
	if s == 0 {
		return append(b, "PT0S"...)
	}
	if neg {
		b = append(b, '-')
	}
	b = append(b, 'P')
	if d := s / 86400; d > 0 {
		b = append(strconv.AppendInt(b, d, 10), 'D')
		s %= 86400
	}
	if s > 0 {
		b = append(b, 'T')
		if h := s / 3600; h > 0 {
			b = append(strconv.AppendInt(b, h, 10), 'H')
		}
		if m := s / 60 % 60; m > 0 {
			b = append(strconv.AppendInt(b, m, 10), 'M')
		}
		if sec := s % 60; sec > 0 {
			b = append(strconv.AppendInt(b, sec, 10), 'S')
		}
	}
	return b
}
