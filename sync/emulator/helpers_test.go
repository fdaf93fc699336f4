package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/ewsvalidate"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

const (
	testTenantID = "8a5c3d7e-1f2b-4c6d-9e0f-a1b2c3d4e5f6"
	testClientID = "3f2e1d0c-b9a8-4765-8432-10fedcba9876"
	testSecret   = "Xq8~emulator-test-secret-value-0123456789"
)

// testNow is the tenant's "now" for tests (items spread around it).
var testNow = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// env is one emulator under test, behind a capturing middleware that
// keeps every EWS exchange for schema validation at the end of the test.
type env struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	cap    *capture
	client *http.Client
	token  string
}

type envOpt func(*Options)

func newEnv(t *testing.T, opts ...envOpt) *env {
	t.Helper()
	ten := tenant.Generate(tenant.Config{Seed: 7, Mailboxes: 4, Events: 40, Now: testNow})
	o := Options{Tenant: ten, TenantID: testTenantID, ClientID: testClientID, ClientSecret: testSecret, Seed: 7,
		Heartbeat: 100 * time.Millisecond, StreamMinute: 400 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	srv := New(o)
	c := &capture{dir: t.TempDir()}
	ts := httptest.NewServer(c.wrap(srv))
	e := &env{t: t, srv: srv, ts: ts, cap: c, client: ts.Client()}
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		c.validate(t)
	})
	return e
}

// --- capture ------------------------------------------------------------------

type exchange struct {
	path           string
	reqFile        string
	respFile       string
	status         int
	contentType    string
	op             string
	streaming      bool
	requestIsSOAP  bool
	responseIsSOAP bool
}

type capture struct {
	dir string
	mu  sync.Mutex
	n   int
	ex  []*exchange
}

func (c *capture) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lp := strings.ToLower(r.URL.Path)
		if !strings.HasSuffix(lp, "/ews/exchange.asmx") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.mu.Lock()
		c.n++
		n := c.n
		c.mu.Unlock()
		x := &exchange{path: r.URL.Path, reqFile: filepath.Join(c.dir, fmt.Sprintf("%03d-request.xml", n)),
			respFile: filepath.Join(c.dir, fmt.Sprintf("%03d-response.xml", n))}
		os.WriteFile(x.reqFile, body, 0o600)
		if root, err := parseXML(bytes.NewReader(body)); err == nil {
			x.requestIsSOAP = root.Local == "Envelope"
			if b := root.child("", "Body"); b != nil && len(b.Children) > 0 {
				x.op = b.Children[0].Local
			}
		}
		cw := &captureWriter{ResponseWriter: w}
		defer func() {
			x.status = cw.status
			x.contentType = cw.Header().Get("Content-Type")
			x.streaming = x.op == "GetStreamingEvents"
			x.responseIsSOAP = strings.HasPrefix(x.contentType, "text/xml") && cw.buf.Len() > 0
			if cl := cw.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(cw.buf.Len()) {
				// A deliberately truncated answer (FaultTruncate).
				x.responseIsSOAP = false
			}
			os.WriteFile(x.respFile, cw.buf.Bytes(), 0o600)
			c.mu.Lock()
			c.ex = append(c.ex, x)
			c.mu.Unlock()
		}()
		h.ServeHTTP(cw, r)
	})
}

type captureWriter struct {
	http.ResponseWriter
	buf    bytes.Buffer
	status int
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// validate runs validate-ews over every captured request the emulator
// accepted and every SOAP response it sent: strictly, except the
// GetStreamingEvents responses (split into their envelopes), which use
// --lenient for Exchange's m:Notification wire form. Faults are checked to
// be well-formed (validate-ews has nothing to validate in a soap:Fault).
func (c *capture) validate(t *testing.T) {
	t.Helper()
	if t.Failed() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var strict, lenient []string
	for i, x := range c.ex {
		if !x.responseIsSOAP {
			continue
		}
		resp, _ := os.ReadFile(x.respFile)
		if x.status == http.StatusInternalServerError {
			// A SOAP fault (request-level error): well-formed, with a code.
			root, err := parseXML(bytes.NewReader(resp))
			if err != nil || root.child(nsSOAP, "Body").child(nsSOAP, "Fault") == nil {
				t.Errorf("capture %d: HTTP 500 body is not a SOAP fault: %v\n%s", i, err, resp)
			}
			if x.requestIsSOAP && x.op != "" {
				// The request may be the very thing that is wrong; only
				// well-formedness is required of it.
				continue
			}
			continue
		}
		if x.requestIsSOAP {
			strict = append(strict, x.reqFile)
		}
		if x.streaming {
			for j, envl := range splitEnvelopes(resp) {
				f := fmt.Sprintf("%s.%02d.xml", strings.TrimSuffix(x.respFile, ".xml"), j)
				os.WriteFile(f, envl, 0o600)
				lenient = append(lenient, f)
			}
			continue
		}
		if len(resp) > 0 && bytes.Contains(resp, []byte("Envelope")) {
			strict = append(strict, x.respFile)
		}
	}
	if os.Getenv("EXOCAL_VALIDATE_ALL") != "1" {
		// xmllint compiles the schemas once per element (~0.3 s), so by
		// default a message is validated only when it shows something no
		// message validated before it did: a new element path, attribute
		// name, or word-like value (enumerations). Every shape and value
		// the emulator sent is still checked; EXOCAL_VALIDATE_ALL=1 checks
		// each message.
		seen := map[string]bool{}
		strict, lenient = coverage(strict, seen), coverage(lenient, seen)
	}
	if len(strict) > 0 {
		ewsvalidate.Files(t, false, strict...)
	}
	if len(lenient) > 0 {
		ewsvalidate.Files(t, true, lenient...)
	}
	t.Logf("validate-ews: %d captured exchanges, %d messages validated strictly, %d stream envelopes leniently", len(c.ex), len(strict), len(lenient))
}

var wordValue = regexp.MustCompile(`^[A-Za-z_ ]{1,60}$`)

// coverage keeps the files that add something new to seen.
func coverage(files []string, seen map[string]bool) []string {
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		root, err := parseXML(bytes.NewReader(b))
		if err != nil {
			out = append(out, f) // let validate-ews report it
			continue
		}
		keys := map[string]bool{}
		var walk func(n *node, path string)
		walk = func(n *node, path string) {
			path += "/" + n.Space + ":" + n.Local
			keys[path] = true
			for _, a := range n.Attrs {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					keys[path+"@"+a.Name.Local] = true
				}
			}
			if len(n.Children) == 0 && wordValue.MatchString(strings.TrimSpace(n.Text)) {
				keys[path+"="+strings.TrimSpace(n.Text)] = true
			}
			for _, c := range n.Children {
				walk(c, path)
			}
		}
		walk(root, "")
		fresh := false
		for k := range keys {
			if !seen[k] {
				fresh = true
				seen[k] = true
			}
		}
		if fresh {
			out = append(out, f)
		}
	}
	return out
}

// splitEnvelopes cuts a stream of concatenated SOAP envelopes apart.
func splitEnvelopes(b []byte) [][]byte {
	var out [][]byte
	const end = "</s:Envelope>"
	for {
		i := bytes.Index(b, []byte("<s:Envelope"))
		if i < 0 {
			return out
		}
		j := bytes.Index(b[i:], []byte(end))
		if j < 0 {
			return out
		}
		out = append(out, append([]byte(`<?xml version="1.0" encoding="utf-8"?>`), b[i:i+j+len(end)]...))
		b = b[i+j+len(end):]
	}
}

// --- requests -------------------------------------------------------------------

func (e *env) tokenURL() string { return e.ts.URL + "/" + testTenantID + "/oauth2/v2.0/token" }

// getToken fetches a token with the registered secret.
func (e *env) getToken() string {
	e.t.Helper()
	resp, err := e.client.PostForm(e.tokenURL(), url.Values{
		"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("token: status %d, err %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

// soapEnvelope wraps an operation in a request envelope shaped like
// samples 34/38 (RequestServerVersion, ExchangeImpersonation).
func soapEnvelope(mailbox, body string) string {
	imp := ""
	if mailbox != "" {
		imp = `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>` + mailbox + `</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
	}
	return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2013_SP1" />
    ` + imp + `
  </soap:Header>
  <soap:Body>
` + body + `
  </soap:Body>
</soap:Envelope>`
}

type ewsResult struct {
	status int
	header http.Header
	body   []byte
	root   *node
}

// post sends raw XML to EWS with a bearer token and X-AnchorMailbox.
func (e *env) post(path, token, anchor, xmlBody string, hdr ...string) ewsResult {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(xmlBody))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if anchor != "" {
		req.Header.Set("X-AnchorMailbox", anchor)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("post %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read %s: %v", path, err)
	}
	res := ewsResult{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		res.root, _ = parseXML(bytes.NewReader(b))
	}
	return res
}

// ews sends one operation for mailbox with a fresh token.
func (e *env) ews(mailbox, op string) ewsResult {
	e.t.Helper()
	if e.token == "" {
		e.token = e.getToken()
	}
	return e.post(ewsPath, e.token, mailbox, soapEnvelope(mailbox, op))
}

// messages returns the response messages of a SOAP response.
func (r ewsResult) messages() []*node {
	b := r.root.child(nsSOAP, "Body")
	if b == nil || len(b.Children) == 0 {
		return nil
	}
	return b.Children[0].child(nsMessages, "ResponseMessages").Children
}

func (r ewsResult) faultCode() string {
	return r.root.child(nsSOAP, "Body").child(nsSOAP, "Fault").child("", "detail").child(nsErrors, "ResponseCode").text()
}
