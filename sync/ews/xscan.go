package ews

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"
)

// xscan is a small pull scanner over a complete XML document in memory,
// used for the hot GetItem replies instead of encoding/xml's reflection
// (which cost about 300 µs of CPU per calendar item). It is deliberately
// conservative: anything it does not handle exactly like encoding/xml
// (DOCTYPE, a non-UTF-8 encoding, unusual names, control characters,
// unknown entities, …) makes it fail with errXScan, and the caller then
// parses the same bytes with encoding/xml — so a reply either parses to the
// same values as encoding/xml would give, or encoding/xml decides.
// Elements match by local name, as the wire types' struct tags do.
type xscan struct {
	b     []byte
	i     int
	stack [][]byte // qualified names of the open elements
	tmp   []byte   // decoded text when it needs unescaping

	zones *zoneCache // see unmarshalGetItem

	// the current start tag
	tagStart int // offset of its '<'
	local    []byte
	attrs    []xattr
	selfEnd  bool // the current start tag was <…/>; its end is pending
	rootDone bool
}

type xattr struct {
	local []byte
	raw   []byte // undecoded value
}

// errXScan means "let encoding/xml decide"; it never reaches a caller.
var errXScan = errors.New("ews: reply needs the general XML decoder")

type xtok int

const (
	xStart xtok = iota + 1
	xEnd
	xText
	xEOF
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *xscan) skipSpace() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// name reads an XML name made of ASCII letters, digits, '_', '-', '.' and
// at most one ':' separating a non-empty prefix from a non-empty local part.
func (s *xscan) name() (qual, local []byte, err error) {
	start := s.i
	colon := -1
	for s.i < len(s.b) {
		switch nameClass[s.b[s.i]] {
		case nameStart:
		case nameMore:
			if s.i == start || s.i == colon+1 {
				return nil, nil, errXScan
			}
		case nameColon:
			if colon >= 0 || s.i == start {
				return nil, nil, errXScan
			}
			colon = s.i
		default:
			goto done
		}
		s.i++
	}
done:
	if s.i == start || s.i == colon+1 {
		return nil, nil, errXScan
	}
	qual = s.b[start:s.i]
	local = qual
	if colon >= 0 {
		local = s.b[colon+1 : s.i]
	}
	return qual, local, nil
}

const (
	nameStart = iota + 1 // letters and '_'
	nameMore             // digits, '-', '.'
	nameColon
)

var nameClass = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = nameStart, nameStart
	}
	t['_'] = nameStart
	for c := '0'; c <= '9'; c++ {
		t[c] = nameMore
	}
	t['-'], t['.'], t[':'] = nameMore, nameMore, nameColon
	return t
}()

// next advances to the next token. For xStart, s.local and s.attrs describe
// the tag; for xText, the text is in s.textOf's result.
func (s *xscan) next() (xtok, []byte, error) {
	if s.selfEnd {
		s.selfEnd = false
		s.stack = s.stack[:len(s.stack)-1]
		if len(s.stack) == 0 {
			s.rootDone = true
		}
		return xEnd, nil, nil
	}
	for {
		if s.i >= len(s.b) {
			if len(s.stack) > 0 || !s.rootDone {
				return 0, nil, errXScan // unexpected EOF
			}
			return xEOF, nil, nil
		}
		if s.b[s.i] != '<' {
			j := bytes.IndexByte(s.b[s.i:], '<')
			if j < 0 {
				j = len(s.b) - s.i
			}
			raw := s.b[s.i : s.i+j]
			s.i += j
			t, err := s.decode(raw, false)
			if err != nil {
				return 0, nil, err
			}
			return xText, t, nil
		}
		rest := s.b[s.i:]
		var c1 byte
		if len(rest) > 1 {
			c1 = rest[1]
		}
		switch c1 {
		case '/':
			// The end tag must close the innermost open element.
			if len(s.stack) == 0 {
				return 0, nil, errXScan
			}
			top := s.stack[len(s.stack)-1]
			if !bytes.HasPrefix(rest[2:], top) {
				return 0, nil, errXScan
			}
			s.i += 2 + len(top)
			s.skipSpace()
			if s.i >= len(s.b) || s.b[s.i] != '>' {
				return 0, nil, errXScan // also a longer name: "</ab>" for <a>
			}
			s.i++
			s.stack = s.stack[:len(s.stack)-1]
			if len(s.stack) == 0 {
				s.rootDone = true
			}
			return xEnd, nil, nil
		case '?':
			if err := s.procInst(); err != nil {
				return 0, nil, err
			}
			continue
		case '!':
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				j := bytes.Index(rest[4:], []byte("--"))
				if j < 0 || !bytes.HasPrefix(rest[4+j:], []byte("-->")) {
					return 0, nil, errXScan
				}
				if !utf8.Valid(rest[4 : 4+j]) {
					return 0, nil, errXScan
				}
				s.i += 4 + j + 3
				continue
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				if len(s.stack) == 0 {
					return 0, nil, errXScan
				}
				j := bytes.Index(rest[9:], []byte("]]>"))
				if j < 0 {
					return 0, nil, errXScan
				}
				raw := rest[9 : 9+j]
				s.i += 9 + j + 3
				t, err := s.decode(raw, true)
				if err != nil {
					return 0, nil, err
				}
				return xText, t, nil
			}
			return 0, nil, errXScan // DOCTYPE and other directives
		}
		if s.rootDone {
			return 0, nil, errXScan // a second root: not expected
		}
		s.tagStart = s.i
		s.i++
		qual, local, err := s.name()
		if err != nil {
			return 0, nil, err
		}
		s.local = local
		s.attrs = s.attrs[:0]
		for {
			sp := s.i
			s.skipSpace()
			if s.i >= len(s.b) {
				return 0, nil, errXScan
			}
			c := s.b[s.i]
			if c == '>' {
				s.i++
				break
			}
			if c == '/' {
				if s.i+1 >= len(s.b) || s.b[s.i+1] != '>' {
					return 0, nil, errXScan
				}
				s.i += 2
				s.selfEnd = true
				break
			}
			if s.i == sp {
				return 0, nil, errXScan // attributes must be separated by space
			}
			_, alocal, err := s.name()
			if err != nil {
				return 0, nil, err
			}
			s.skipSpace()
			if s.i >= len(s.b) || s.b[s.i] != '=' {
				return 0, nil, errXScan
			}
			s.i++
			s.skipSpace()
			if s.i >= len(s.b) || (s.b[s.i] != '"' && s.b[s.i] != '\'') {
				return 0, nil, errXScan
			}
			q := s.b[s.i]
			s.i++
			j := bytes.IndexByte(s.b[s.i:], q)
			if j < 0 {
				return 0, nil, errXScan
			}
			raw := s.b[s.i : s.i+j]
			if bytes.IndexByte(raw, '<') >= 0 {
				return 0, nil, errXScan
			}
			// encoding/xml checks every value, read or not.
			mark := len(s.tmp)
			if _, err := s.decode(raw, false); err != nil {
				return 0, nil, err
			}
			s.tmp = s.tmp[:mark]
			s.i += j + 1
			s.attrs = append(s.attrs, xattr{local: alocal, raw: raw})
		}
		s.stack = append(s.stack, qual)
		return xStart, nil, nil
	}
}

// procInst skips the XML declaration, which must say version 1.0 and, if
// it names one, the UTF-8 encoding.
func (s *xscan) procInst() error {
	rest := s.b[s.i+2:]
	j := bytes.Index(rest, []byte("?>"))
	if j < 0 {
		return errXScan
	}
	body := rest[:j]
	s.i += 2 + j + 2
	if !bytes.HasPrefix(body, []byte("xml")) || len(body) == 3 || !isSpace(body[3]) {
		return errXScan // other processing instructions: not in EWS replies
	}
	// <?xml version="1.0" encoding="utf-8"?> in one of its usual spellings.
	switch string(bytes.Join(bytes.Fields(body[3:]), []byte(" "))) {
	case `version="1.0"`, `version="1.0" encoding="utf-8"`, `version="1.0" encoding="UTF-8"`,
		`version='1.0'`, `version='1.0' encoding='utf-8'`, `version='1.0' encoding='UTF-8'`,
		`version="1.0" encoding="utf-8" standalone="yes"`, `version="1.0" encoding="UTF-8" standalone="yes"`,
		`version="1.0" encoding="utf-8" standalone="no"`, `version="1.0" encoding="UTF-8" standalone="no"`:
		return nil
	}
	return errXScan
}

// decode checks raw character data and returns it with entities and
// character references replaced and line ends normalized (\r\n and \r
// become \n), as encoding/xml does. The result may alias s.b or a part of
// s.tmp that stays unchanged until s.tmp is reset.
func (s *xscan) decode(raw []byte, cdata bool) ([]byte, error) {
	i := 0
	for i < len(raw) && plainText[raw[i]] {
		i++
	}
	if i == len(raw) {
		return raw, nil // the usual case: ASCII without markup or line ends to rewrite
	}
	plain := true
	for _, c := range raw {
		if c < 0x20 {
			if c != '\t' && c != '\n' && c != '\r' {
				return nil, errXScan
			}
			if c == '\r' {
				plain = false
			}
		} else if c >= 0x80 {
			plain = false
		} else if c == '&' && !cdata {
			plain = false
		} else if c == '>' && !cdata {
			plain = false // checked below for "]]>"
		}
	}
	if plain {
		return raw, nil
	}
	if !utf8.Valid(raw) || bytes.Contains(raw, []byte("\uFFFE")) || bytes.Contains(raw, []byte("\uFFFF")) {
		return nil, errXScan
	}
	if !cdata && bytes.Contains(raw, []byte("]]>")) {
		return nil, errXScan
	}
	if bytes.IndexByte(raw, '\r') < 0 && (cdata || bytes.IndexByte(raw, '&') < 0) {
		return raw, nil
	}
	start := len(s.tmp)
	out := s.tmp
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\r':
			out = append(out, '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
		case c == '&' && !cdata:
			j := bytes.IndexByte(raw[i:], ';')
			if j < 0 {
				return nil, errXScan
			}
			ent := raw[i+1 : i+j]
			i += j
			switch string(ent) {
			case "lt":
				out = append(out, '<')
			case "gt":
				out = append(out, '>')
			case "amp":
				out = append(out, '&')
			case "apos":
				out = append(out, '\'')
			case "quot":
				out = append(out, '"')
			default:
				r, ok := charRef(ent)
				if !ok {
					return nil, errXScan
				}
				out = utf8.AppendRune(out, r)
			}
		default:
			out = append(out, c)
		}
	}
	s.tmp = out
	return out[start:], nil
}

// plainText marks the bytes decode passes through unchecked.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '&' && c != '>'
	}
	t['\t'], t['\n'] = true, true
	return t
}()

// charRef decodes the body of a character reference ("#65", "#x41") that
// names a character XML allows.
func charRef(ent []byte) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	base, digits := 10, ent[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	for _, c := range digits {
		ok := c >= '0' && c <= '9' || base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		if !ok {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil {
		return 0, false
	}
	r := rune(n)
	inRange := r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
	return r, inRange
}

// attr returns the decoded value of the current start tag's last attribute
// with the given local name.
func (s *xscan) attr(local string) (string, bool, error) {
	s.tmp = s.tmp[:0]
	for k := len(s.attrs) - 1; k >= 0; k-- {
		a := s.attrs[k]
		if string(a.local) == local {
			v, err := s.decode(a.raw, false)
			if err != nil {
				return "", false, err
			}
			if bytes.IndexByte(a.raw, '\n') >= 0 || bytes.IndexByte(a.raw, '\t') >= 0 {
				return "", false, errXScan // attribute-value normalization: leave it to encoding/xml
			}
			return intern(v), true, nil
		}
	}
	return "", false, nil
}

// root advances to the document element.
func (s *xscan) root() error {
	for {
		tok, _, err := s.next()
		if err != nil {
			return err
		}
		switch tok {
		case xStart:
			return nil
		case xEOF, xEnd:
			return errXScan
		}
	}
}

// children calls fn for each child element of the element just entered
// (fn must consume the child, e.g. with skip, text or children), then
// consumes the element's end tag. Character data between children is
// ignored.
func (s *xscan) children(fn func(local []byte) error) error {
	for {
		tok, _, err := s.next()
		if err != nil {
			return err
		}
		switch tok {
		case xEnd:
			return nil
		case xStart:
			if err := fn(s.local); err != nil {
				return err
			}
		case xEOF:
			return errXScan
		}
	}
}

// skip consumes the rest of the element just entered.
func (s *xscan) skip() error {
	depth := 1
	for {
		tok, _, err := s.next()
		if err != nil {
			return err
		}
		switch tok {
		case xStart:
			depth++
		case xEnd:
			depth--
			if depth == 0 {
				return nil
			}
		case xEOF:
			return errXScan
		}
	}
}

// textBytes consumes the rest of the element just entered and returns the
// character data directly inside it (that of child elements is ignored, as
// encoding/xml does for a string field). The result is valid until the
// next call.
func (s *xscan) textBytes() ([]byte, error) {
	s.tmp = s.tmp[:0]
	var acc []byte
	n := 0
	for {
		tok, t, err := s.next()
		if err != nil {
			return nil, err
		}
		switch tok {
		case xText:
			if n == 0 {
				acc = t
			} else {
				if n == 1 {
					acc = append([]byte(nil), acc...)
				}
				acc = append(acc, t...)
			}
			n++
		case xStart:
			if err := s.skip(); err != nil {
				return nil, err
			}
		case xEnd:
			return acc, nil
		case xEOF:
			return nil, errXScan
		}
	}
}

func (s *xscan) text() (string, error) {
	b, err := s.textBytes()
	if err != nil {
		return "", err
	}
	return intern(b), nil
}

// intern returns b as a string, without allocating for the short values
// that recur in every item.
func intern(b []byte) string {
	if len(b) <= 24 {
		if v, ok := internTable[string(b)]; ok {
			return v
		}
	}
	return string(b)
}

var internTable = func() map[string]string {
	m := map[string]string{}
	for _, v := range []string{"", "true", "false", "SMTP", "Mailbox", "Normal", "Busy", "Free", "Tentative", "Accept",
		"Decline", "Unknown", "Organizer", "NoResponseReceived", "Single", "Occurrence", "Exception",
		"RecurringMaster", "Period", "Group", "Standard", "Daylight", "Sunday", "Monday", "Tuesday", "Wednesday",
		"Thursday", "Friday", "Saturday", "Success", "NoError", "Text", "Private", "Personal", "Confidential",
		"Std", "Dlt", "0", "1", "OOF", "Transition", "RecurringDayTransition", "AbsoluteDateTransition",
		"RecurringDateTransition"} {
		m[v] = v
	}
	return m
}()

// xmlInt and xmlBool convert element text as encoding/xml does for int and
// bool fields (empty means zero; otherwise trimmed and parsed strictly).
func xmlInt(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0, errXScan
	}
	return int(n), nil
}

func xmlBool(b []byte) (bool, error) {
	if len(b) == 0 {
		return false, nil
	}
	v, err := strconv.ParseBool(string(bytes.TrimSpace(b)))
	if err != nil {
		return false, errXScan
	}
	return v, nil
}
