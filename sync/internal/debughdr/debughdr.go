// Package debughdr writes HTTP headers into the protocol debug log (the
// settings' "EWS protocol debugging") with credential values redacted, for
// the client side: sync/ews and sync/autodiscover. (The emulator has its
// own code: it shares nothing with the client.)
package debughdr

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Redacted replaces a secret value.
const Redacted = "[REDACTED]"

// secret are the headers written with their values redacted: an auth
// scheme and cookie names are kept, values never.
var secret = map[string]bool{
	"Authorization":           true,
	"Proxy-Authorization":     true,
	"Cookie":                  true,
	"Set-Cookie":              true,
	"X-Backendoverridecookie": true,
}

// Write writes h to b, one "Name: value" line each, sorted by name, with
// credential values redacted.
func Write(b *bytes.Buffer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if secret[http.CanonicalHeaderKey(k)] {
				v = Redact(k, v)
			}
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// Redact returns header name's value v without its secret parts.
func Redact(name, v string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Cookie":
		parts := strings.Split(v, ";")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=" + Redacted
			}
		}
		return strings.Join(parts, ";")
	case "Set-Cookie":
		first, rest, _ := strings.Cut(v, ";")
		if k, _, ok := strings.Cut(first, "="); ok {
			first = k + "=" + Redacted
		}
		if rest != "" {
			return first + ";" + rest
		}
		return first
	case "Authorization", "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(v, " "); ok {
			return scheme + " " + Redacted
		}
	}
	return Redacted
}
