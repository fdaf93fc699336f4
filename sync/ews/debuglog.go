package ews

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/exocal/exocal/sync/internal/debughdr"
)

// DebugLog is the EWS protocol debug log (the settings' "EWS protocol
// debugging" switch): every request and reply, with credentials redacted
// before anything is written, in a file that is size-capped and rotated
// (path, path.1, … path.Keep). The file is created with mode 0600.
// A nil *DebugLog logs nothing.
type DebugLog struct {
	path    string
	maxSize int64
	keep    int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// DefaultDebugLogSize is the size at which the debug log is rotated.
const DefaultDebugLogSize = 10 << 20

// OpenDebugLog opens (appending) the debug log at path. maxSize <= 0 means
// DefaultDebugLogSize; keep is the number of rotated files kept (1 or 2
// is sensible; < 1 means 1).
func OpenDebugLog(path string, maxSize int64, keep int) (*DebugLog, error) {
	if maxSize <= 0 {
		maxSize = DefaultDebugLogSize
	}
	if keep < 1 {
		keep = 1
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ews: open debug log: %w", err)
	}
	l := &DebugLog{path: path, maxSize: maxSize, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *DebugLog) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("ews: open debug log: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("ews: open debug log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("ews: open debug log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Close closes the file.
func (l *DebugLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Write redacts p and appends it, rotating first when the file would grow
// past the cap. It makes DebugLog an io.Writer for other protocol code.
func (l *DebugLog) Write(p []byte) (int, error) {
	if l == nil {
		return len(p), nil
	}
	red := Redact(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, fmt.Errorf("ews: debug log closed")
	}
	if l.size > 0 && l.size+int64(len(red)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	if int64(len(red)) > l.maxSize && l.maxSize > 128 {
		red = append(red[:l.maxSize-64:l.maxSize-64], "\n[… truncated by the debug log size cap]\n"...)
	}
	n, err := l.f.Write(red)
	l.size += int64(n)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (l *DebugLog) rotate() error {
	l.f.Close()
	l.f = nil
	for i := l.keep; i >= 1; i-- {
		src := l.path
		if i > 1 {
			src = fmt.Sprintf("%s.%d", l.path, i-1)
		}
		dst := fmt.Sprintf("%s.%d", l.path, i)
		if err := os.Rename(src, dst); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("ews: rotate debug log: %w", err)
		}
	}
	return l.open()
}

func (l *DebugLog) logRequest(op string, req *http.Request, body []byte) {
	if l == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s %s request\n%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), op, req.Method, req.URL)
	debughdr.Write(&b, req.Header)
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	l.Write(b.Bytes())
}

func (l *DebugLog) logResponse(op string, resp *http.Response, body []byte) {
	if l == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s %s response\n%s\n", time.Now().UTC().Format(time.RFC3339Nano), op, resp.Status)
	debughdr.Write(&b, resp.Header)
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	l.Write(b.Bytes())
}

// streamBody tees a streaming reply into the log, one flush per SOAP
// envelope (or per 256 KiB), so redaction always sees whole envelopes.
func (l *DebugLog) streamBody(op string, resp *http.Response) io.ReadCloser {
	if l == nil {
		return resp.Body
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s %s response (streaming)\n%s\n", time.Now().UTC().Format(time.RFC3339Nano), op, resp.Status)
	debughdr.Write(&b, resp.Header)
	l.Write(b.Bytes())
	return &debugTee{rc: resp.Body, log: l}
}

type debugTee struct {
	rc  io.ReadCloser
	log *DebugLog
	buf []byte
}

var envelopeEnd = regexp.MustCompile(`</(?:[A-Za-z0-9_.-]+:)?Envelope\s*>`)

func (t *debugTee) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	t.buf = append(t.buf, p[:n]...)
	for {
		loc := envelopeEnd.FindIndex(t.buf)
		if loc == nil {
			break
		}
		t.log.Write(append(append([]byte{}, t.buf[:loc[1]]...), '\n'))
		t.buf = t.buf[loc[1]:]
	}
	if len(t.buf) > 256<<10 || (err != nil && len(t.buf) > 0) {
		t.log.Write(append(append([]byte{}, t.buf...), '\n'))
		t.buf = t.buf[:0]
	}
	return n, err
}

func (t *debugTee) Close() error {
	if len(t.buf) > 0 {
		t.log.Write(append(append([]byte{}, t.buf...), '\n'))
		t.buf = nil
	}
	return t.rc.Close()
}

const redacted = debughdr.Redacted

var secretPatterns = []*regexp.Regexp{
	// a JWT (access tokens, client assertions): three base64url parts, the
	// first starting with {" encoded as eyJ.
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`),
	// "Bearer <anything>" anywhere (e.g. echoed in a fault).
	regexp.MustCompile(`(?i)(bearer\s+)[^\s"'<&]+`),
	// form and query values.
	regexp.MustCompile(`(?i)((?:client_secret|client_assertion|access_token|refresh_token|password)=)[^&\s"'<]+`),
	// JSON values.
	regexp.MustCompile(`(?i)("(?:client_secret|access_token|refresh_token|password)"\s*:\s*")[^"]*`),
	// the affinity cookie, wherever it appears.
	regexp.MustCompile(`(?i)(X-BackEndOverrideCookie[=:]\s*)[^;\s<"]+`),
}

// Redact returns p with bearer tokens, JWTs, client secrets and the
// X-BackEndOverrideCookie value replaced by [REDACTED].
func Redact(p []byte) []byte {
	out := p
	for i, re := range secretPatterns {
		if i == 0 {
			out = re.ReplaceAll(out, []byte(redacted))
			continue
		}
		out = re.ReplaceAll(out, []byte("${1}"+redacted))
	}
	return out
}
