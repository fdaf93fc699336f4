package ics

import (
	"errors"
	"fmt"
	"sort"

	ical "github.com/emersion/go-ical"
)

// encoder writes go-ical components exactly as go-ical's Encoder does
// (properties and parameters sorted by name, parameter values quoted when
// they hold ";:,") but into one buffer, folding lines as it goes: go-ical's
// Encoder neither folds nor avoids a buffer and a sort per property, and
// rendering 100,000 events must stay well under a second.
type encoder struct {
	buf  []byte
	line []byte
}

var (
	errParamQuote = errors.New("ics: parameter value contains a double quote")
	errValueCRLF  = errors.New("ics: property value contains CR or LF")
)

func (e *encoder) component(c *ical.Component) error {
	e.simple("BEGIN", c.Name)
	if err := e.props(c); err != nil {
		return err
	}
	for _, child := range c.Children {
		if err := e.component(child); err != nil {
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
			if err := e.prop(&props[i]); err != nil {
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

func (e *encoder) prop(p *ical.Prop) error {
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

// flush appends the pending line to buf, folded at 75 octets (RFC 5545
// 3.1) and never inside a UTF-8 sequence, with CRLF.
func (e *encoder) flush() {
	line := e.line
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
