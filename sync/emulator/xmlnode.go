package emulator

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// XML namespaces, as Microsoft's schemas and the samples in
// ../shared/ews-reference/ms-docs-samples (with the real http:// forms, see
// INDEX.md there) declare them.
const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12   = "http://www.w3.org/2003/05/soap-envelope"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
	nsAutod    = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	nsWSA      = "http://www.w3.org/2005/08/addressing"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	nsPOXReq   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsPOXResp  = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsPOXRespA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// node is a parsed XML element: the emulator reads requests as a generic
// tree and looks elements up by namespace and local name, as the schema
// names them, so prefixes and declaration styles do not matter.
type node struct {
	Space, Local string
	Attrs        []xml.Attr
	Children     []*node
	Text         string
}

// parseXML reads one XML document into a tree.
func parseXML(r io.Reader) (*node, error) {
	dec := xml.NewDecoder(r)
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("emulator: parse xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{Space: t.Name.Space, Local: t.Name.Local, Attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root == nil {
				root = n
			} else {
				return nil, fmt.Errorf("emulator: parse xml: more than one root element")
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("emulator: parse xml: no element")
	}
	return root, nil
}

// child returns the first child with that namespace and local name.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Local == local && (space == "" || c.Space == space) {
			return c
		}
	}
	return nil
}

// path follows a chain of children in one namespace.
func (n *node) path(space string, locals ...string) *node {
	for _, l := range locals {
		n = n.child(space, l)
	}
	return n
}

// all returns every child with that namespace and local name.
func (n *node) all(space, local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.Children {
		if c.Local == local && (space == "" || c.Space == space) {
			out = append(out, c)
		}
	}
	return out
}

// attr returns an unqualified attribute's value.
func (n *node) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == name && (a.Name.Space == "" || a.Name.Space == n.Space) {
			return a.Value
		}
	}
	return ""
}

// hasAttr reports whether an unqualified attribute is present.
func (n *node) hasAttr(name string) bool {
	if n == nil {
		return false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return true
		}
	}
	return false
}

func (n *node) text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// xw writes XML by hand, element by element, in the order the schema
// declares them (encoding/xml structs would hide that order in tags).
type xw struct{ bytes.Buffer }

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")

func esc(s string) string { return textEscaper.Replace(s) }

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")

func escAttr(s string) string { return attrEscaper.Replace(s) }

// open writes <name attrs...>; attrs are name, value pairs.
func (w *xw) open(name string, attrs ...string) {
	w.WriteByte('<')
	w.WriteString(name)
	w.attrs(attrs)
	w.WriteByte('>')
}

func (w *xw) attrs(attrs []string) {
	for i := 0; i+1 < len(attrs); i += 2 {
		w.WriteByte(' ')
		w.WriteString(attrs[i])
		w.WriteString(`="`)
		w.WriteString(escAttr(attrs[i+1]))
		w.WriteByte('"')
	}
}

func (w *xw) close(name string) {
	w.WriteString("</")
	w.WriteString(name)
	w.WriteByte('>')
}

// empty writes <name attrs.../>.
func (w *xw) empty(name string, attrs ...string) {
	w.WriteByte('<')
	w.WriteString(name)
	w.attrs(attrs)
	w.WriteString("/>")
}

// elem writes <name>text</name>.
func (w *xw) elem(name, text string) {
	w.open(name)
	w.WriteString(esc(text))
	w.close(name)
}
