package check

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/exocal/exocal/sync/emulator"
)

// cookieSetter adds a Set-Cookie to every answer, so that the debug log's
// cookie redaction has a value to hide (the check's EWS calls carry no
// affinity cookie of their own).
type cookieSetter struct {
	next  http.RoundTripper
	value string
}

func (c cookieSetter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		resp.Header.Add("Set-Cookie", "exchangecookie="+c.value+"; path=/")
	}
	return resp, err
}

// TestDebugLog: with ews_debug on, the check writes its autodiscover and
// EWS exchanges — the V2 lookup of the alternative server behind the
// security-defaults advice too — to the sync's protocol debug log,
// $XDG_CACHE_HOME/exocal/ews-debug.log, and neither the client secret, an
// access token, nor a cookie value. With ews_debug off it writes nothing.
func TestDebugLog(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // not parallel: the default path is read from the environment
	path := filepath.Join(cache, "exocal", "ews-debug.log")
	const cookie = "c00k1e-value-4f9a2b7e1d3c"
	tests := []struct {
		name  string
		debug bool
		modes []emulator.Mode
		// logPath is Input.DebugLogPath ("" the default path)
		logPath string
		want    []string
	}{
		{"off", false, nil, "", nil},
		{"SOAP autodiscover", true, nil, "", []string{
			"autodiscover soap request\nPOST ", "GetUserSettingsRequestMessage", "autodiscover soap response\n200 OK",
			"GetFolder request\nPOST ", "GetFolder response\n200 OK", "Subscribe request", "Unsubscribe response",
		}},
		{"security defaults: V2 and the alternative server", true, []emulator.Mode{emulator.ModeAutodiscover401}, "", []string{
			"autodiscover soap response\n401", "autodiscover v2 request\nGET ", "Protocol=EWS", "Protocol=AutodiscoverV1",
			"GetFolder request\nPOST ", "GetFolder response\n200 OK",
		}},
		{"a path of the caller's", true, nil, filepath.Join(t.TempDir(), "other.log"), []string{"GetFolder request\nPOST "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := path
			if tt.logPath != "" {
				path = tt.logPath
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			f := newFixture(t, func(o *emulator.Options) { o.Modes = tt.modes })
			f.in.HTTPClient.Transport = cookieSetter{next: f.rec, value: cookie}
			f.in.Settings.EWSDebug = tt.debug
			f.in.DebugLogPath = tt.logPath
			rep := Run(context.Background(), f.in, nil)
			if !rep.OK() {
				t.Fatalf("got a failed check, want OK:\n%s", stepsSummary(rep))
			}
			raw, err := os.ReadFile(path)
			if !tt.debug {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("got %v reading %s, want no debug log with ews_debug off", err, path)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want the debug log at %s", err, path)
			}
			log := string(raw)
			for _, w := range tt.want {
				if !strings.Contains(log, w) {
					t.Errorf("got a debug log without %q", w)
				}
			}
			if st, _ := rep.Step(StepSettings); !strings.Contains(st.Finding, path) {
				t.Errorf("settings finding: got %q, want the debug log's path in it", st.Finding)
			}
			tokens := f.rec.All()
			if len(tokens) == 0 {
				t.Fatal("no token was recorded; the no-token assertion would be empty")
			}
			for _, leak := range append([]string{emuSecret, cookie, "eyJ"}, tokens...) {
				if strings.Contains(log, leak) {
					t.Errorf("got %.24q… in the debug log, want it absent", leak)
				}
			}
			if !strings.Contains(log, "exchangecookie=") {
				t.Errorf("got a debug log without the (redacted) cookie; the check below saw no cookie at all")
			}
			if m := regexp.MustCompile(`(?mi)^(?:Set-)?Cookie: [^=]+=[^\[].*$`).FindString(log); m != "" {
				t.Errorf("got cookie line %q in the debug log, want its value redacted", m)
			}
		})
	}
}

// TestDebugLogUnavailable: a debug log that cannot be opened is noted in
// the settings step, and the check runs without it.
func TestDebugLogUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.in.Settings.EWSDebug = true
	f.in.DebugLogPath = filepath.Join(notDir, "ews-debug.log")
	rep := Run(context.Background(), f.in, nil)
	if !rep.OK() {
		t.Fatalf("got a failed check, want OK:\n%s", stepsSummary(rep))
	}
	st, _ := rep.Step(StepSettings)
	if st.State != StateOK || !strings.Contains(st.Finding, "cannot be opened") || !strings.Contains(st.Detail, "debug log") {
		t.Errorf("settings step: got %s %q (detail %q), want ok, noting that the debug log cannot be opened", st.State, st.Finding, st.Detail)
	}
}
