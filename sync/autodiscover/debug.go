package autodiscover

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// The protocol debug log (the settings' "EWS protocol debugging"): when
// Request.Debug is set, every autodiscover exchange — SOAP GetUserSettings,
// POX, Autodiscover V2, each redirect hop — is written to it as one record
// for the request and one for the reply, in the same shape as the EWS
// client's records. Credential headers are redacted here; the writer (an
// ews.DebugLog) redacts tokens and secrets in the text as well.

// debugSecretHeaders are written with their values redacted.
var debugSecretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

const debugRedacted = "[REDACTED]"

func (r *run) debugRequest(op string, req *http.Request, body string) {
	if r.req.Debug == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s autodiscover %s request\n%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), op, req.Method, req.URL)
	writeDebugHeaders(&b, req.Header)
	b.WriteString("\n")
	b.WriteString(body)
	b.WriteString("\n")
	r.req.Debug.Write(b.Bytes())
}

func (r *run) debugResponse(op string, resp *http.Response, body []byte) {
	if r.req.Debug == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s autodiscover %s response\n%s\n", time.Now().UTC().Format(time.RFC3339Nano), op, resp.Status)
	writeDebugHeaders(&b, resp.Header)
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	r.req.Debug.Write(b.Bytes())
}

func (r *run) debugFailure(op string, req *http.Request, err error) {
	if r.req.Debug == nil {
		return
	}
	fmt.Fprintf(r.req.Debug, "==== %s autodiscover %s failed\n%s %s\n%v\n", time.Now().UTC().Format(time.RFC3339Nano), op, req.Method, req.URL, err)
}

func writeDebugHeaders(b *bytes.Buffer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if debugSecretHeaders[http.CanonicalHeaderKey(k)] {
				v = redactDebugHeader(k, v)
			}
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// redactDebugHeader keeps an auth scheme and cookie names, not values.
func redactDebugHeader(name, v string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Cookie":
		parts := strings.Split(v, ";")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=" + debugRedacted
			}
		}
		return strings.Join(parts, ";")
	case "Set-Cookie":
		first, rest, _ := strings.Cut(v, ";")
		if k, _, ok := strings.Cut(first, "="); ok {
			first = k + "=" + debugRedacted
		}
		if rest != "" {
			return first + ";" + rest
		}
		return first
	default: // Authorization, Proxy-Authorization
		if scheme, _, ok := strings.Cut(v, " "); ok {
			return scheme + " " + debugRedacted
		}
		return debugRedacted
	}
}
