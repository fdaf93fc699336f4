package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exocal/exocal/app/config"
)

// settingsStep runs only the settings step on s.
func settingsStep(t *testing.T, in Input) Step {
	t.Helper()
	in.defaults()
	r := newRunner(context.Background(), in, nil)
	st := Step{ID: StepSettings, Required: true}
	r.checkSettings(&st)
	return st
}

func TestSettingsStepSaysWhatWillBeUsed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mod    func(*config.Settings)
		state  State
		want   []string // in Finding (OK) or Fix (failed)
		unwant string
	}{
		{"worldwide default", func(s *config.Settings) {}, StateOK,
			[]string{"SOAP autodiscover at the cloud's default https://autodiscover-s.outlook.com"}, ""},
		{"GCC High default", func(s *config.Settings) { s.AuthorityHost = "https://login.microsoftonline.us" }, StateOK,
			[]string{"https://autodiscover-s.office365.us"}, "autodiscover-s.outlook.com"},
		{"configured server", func(s *config.Settings) { s.AutodiscoverURL = "https://autodiscover.contoso.com" }, StateOK,
			[]string{"SOAP autodiscover at https://autodiscover.contoso.com (autodiscover_url)"}, ""},
		{"configured POX server", func(s *config.Settings) {
			s.AutodiscoverURL = "https://outlook.office365.com/autodiscover/autodiscover.xml"
		}, StateOK, []string{"POX autodiscover at https://outlook.office365.com/autodiscover/autodiscover.xml"}, ""},
		{"EWS URL", func(s *config.Settings) {
			s.AuthorityHost, s.EWSURL = "http://127.0.0.1:9", "http://127.0.0.1:9/EWS/Exchange.asmx"
		}, StateOK, []string{"EWS URL http://127.0.0.1:9/EWS/Exchange.asmx (ews_url; no autodiscover)"}, "autodiscover-s"},
		{"emulator without autodiscover URL", func(s *config.Settings) { s.AuthorityHost = "http://127.0.0.1:9" }, StateFailed,
			[]string{"Autodiscover URL: is empty, and the authority host http://127.0.0.1:9 is not Microsoft's", "exocal config set KEY VALUE"}, "autodiscover-s.outlook.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := config.Defaults()
			s.User, s.ExportDir = "alice@contoso.com", t.TempDir()
			tt.mod(&s)
			st := settingsStep(t, Input{Settings: s})
			if st.State != tt.state {
				t.Fatalf("got %s (%s %s), want %s", st.State, st.Finding, st.Fix, tt.state)
			}
			text := st.Finding + "\n" + st.Fix
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("got %q, want %q in it", text, w)
				}
			}
			if tt.unwant != "" && strings.Contains(text, tt.unwant) {
				t.Errorf("got %q, want no %q in it", text, tt.unwant)
			}
		})
	}
}

func TestSettingsStepWritesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := config.Defaults()
	s.User, s.ExportDir = "alice@contoso.com", filepath.Join(root, "data", "exocal", "calendars")
	st := settingsStep(t, Input{Settings: s})
	if st.State != StateOK {
		t.Fatalf("got %s (%s), want ok", st.State, st.Fix)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 0 {
		t.Errorf("the check wrote into %s: got %v, %v; want nothing", root, entries, err)
	}
}

func TestSettingsStepWarnsAboutUnknownKeys(t *testing.T) {
	t.Parallel()
	s := config.Defaults()
	s.User, s.ExportDir = "alice@contoso.com", t.TempDir()
	w := `/home/a/.config/exocal/config.json: the key "usr" is not a setting and is ignored; did you mean "user"?`
	st := settingsStep(t, Input{Settings: s, SettingsWarnings: []string{w}})
	if st.State != StateWarning || st.Cause != CauseSettingsUnknownKey || !strings.Contains(st.Fix, w) || !strings.Contains(st.Finding, "1 key(s)") {
		t.Errorf("got %s/%q %q / %q, want a warning carrying the message", st.State, st.Cause, st.Finding, st.Fix)
	}
	if st.Cause.Setup() {
		t.Errorf("an ignored key must not make the check exit 2")
	}
}

func TestNoUserTitleHasNoDanglingColon(t *testing.T) {
	t.Parallel()
	s := config.Defaults()
	s.ExportDir = t.TempDir() // User empty: the settings step fails, the rest is skipped
	rep := Run(context.Background(), Input{Settings: s}, nil)
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	if !strings.Contains(out, "Calendar of the User: Skipped") {
		t.Errorf("got\n%s\nwant the User's calendar step titled without a trailing space", out)
	}
	for _, bad := range []string{" :", ".;", "..", ". ;"} {
		if strings.Contains(out, bad) {
			t.Errorf("got %q in\n%s", bad, out)
		}
	}
}
