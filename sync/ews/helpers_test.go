package ews

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recorded is one request the fake server received.
type recorded struct {
	Op     string
	Header http.Header
	Body   []byte
}

// fakeEWS is an httptest server that replays fixtures.
type fakeEWS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, op string, body []byte)) *fakeEWS {
	t.Helper()
	f := &fakeEWS{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		op := opOf(body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Op: op, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		handle(w, r, op, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEWS) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeEWS) client(cfg Config) *Client {
	cfg.URL = f.srv.URL + "/EWS/Exchange.asmx"
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = f.srv.Client()
	}
	return New(cfg)
}

// opOf returns the local name of the first element in the SOAP Body.
func opOf(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			if se.Name.Local == "Body" {
				inBody = true
			}
		}
	}
}

// fixture reads testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replay writes a fixture as the reply. A fixture that starts with an HTTP
// status line (ms-docs samples 35, 37) has its status and headers replayed.
func replay(t testing.TB, w http.ResponseWriter, name string) {
	writeReply(w, fixture(t, name))
}

func writeReply(w http.ResponseWriter, b []byte) {
	status := http.StatusOK
	if bytes.HasPrefix(b, []byte("HTTP/")) {
		i := bytes.Index(b, []byte("<?xml"))
		head, rest := b[:i], b[i:]
		sc := bufio.NewScanner(bytes.NewReader(head))
		var lines []string
		for sc.Scan() {
			line := sc.Text()
			if len(lines) > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
				lines[len(lines)-1] += " " + strings.TrimSpace(line)
				continue
			}
			lines = append(lines, line)
		}
		for _, l := range lines[1:] {
			if k, v, ok := strings.Cut(l, ":"); ok {
				w.Header().Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		b = rest
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	}
	w.WriteHeader(status)
	w.Write(b)
}

// validator returns the path of ../shared/ews-schema/validate-ews relative
// to the repository root, or skips the test with the reason.
func validator(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("schema validation skipped: xmllint is not installed (apt-get install libxml2-utils)")
	}
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("schema validation skipped: cannot find the repository root: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "..", "shared", "ews-schema", "validate-ews")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("schema validation skipped: %s not found", p)
	}
	return p
}

// validateEWS validates request bodies with validate-ews (strict).
func validateEWS(t *testing.T, bodies map[string][]byte) {
	t.Helper()
	script := validator(t)
	dir := t.TempDir()
	var files []string
	for name, b := range bodies {
		p := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	// The Exchange Online schema, and Microsoft's own Exchange 2013 SP1
	// schema (which pins RequestServerVersion to Exchange2013_SP1).
	for _, args := range [][]string{files, append([]string{"--schema-dir", filepath.Join(filepath.Dir(script), "exchange2013sp1-officedev")}, files...)} {
		out, err := exec.Command(script, args...).CombinedOutput()
		if err != nil {
			t.Errorf("validate-ews %s failed: %v\n%s", args[0], err, out)
		}
		if !bytes.Contains(out, []byte("RESULT PASS")) {
			t.Errorf("validate-ews printed no PASS:\n%s", out)
		}
	}
}
