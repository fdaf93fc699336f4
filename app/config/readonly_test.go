package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listTree returns every path under root.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidateReadOnlyWritesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  func(root string) string
	}{
		{"missing folder, deep", func(root string) string { return filepath.Join(root, "data", "exocal", "calendars") }},
		{"existing empty folder", func(root string) string { return root }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			s := good(t)
			s.ExportDir = tt.dir(root)
			before := listTree(t, root)
			if err := s.ValidateReadOnly(); err != nil {
				t.Fatalf("got %v, want valid", err)
			}
			if after := listTree(t, root); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("ValidateReadOnly wrote: got %v, want %v", after, before)
			}
			// Saving still creates and probes the folder.
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate: got %v, want valid", err)
			}
			if fi, err := os.Stat(s.ExportDir); err != nil || !fi.IsDir() {
				t.Errorf("Validate: got %v, want the folder %s created", err, s.ExportDir)
			}
		})
	}
}

func TestErrorsReadInsideASentence(t *testing.T) {
	t.Parallel()
	s := good(t)
	s.User, s.WindowPastDays = "", -1
	err := s.Validate()
	msg := "the settings are not valid: " + err.Error() + "; fix them."
	for _, bad := range []string{".;", ". ;", "\n"} {
		if strings.Contains(msg, bad) {
			t.Errorf("got %q, want no %q in it", msg, bad)
		}
	}
	if !strings.Contains(msg, "User: enter the address") || !strings.Contains(msg, "; Sync window (days back): ") {
		t.Errorf("got %q, want both fields named", msg)
	}
	// Each FieldError keeps its sentence for the settings window.
	if fe := AsErrors(err)[0]; !strings.HasSuffix(fe.Error(), ".") {
		t.Errorf("got %q, want a full sentence", fe.Error())
	}
}

func TestDefaultAutodiscoverFor(t *testing.T) {
	t.Parallel()
	tests := []struct{ authority, want string }{
		{"", DefaultAutodiscoverURL},
		{DefaultAuthorityHost, DefaultAutodiscoverURL},
		{"https://login.microsoftonline.us", "https://autodiscover-s.office365.us"},
		{"http://127.0.0.1:4000", ""},
		{"https://login.contoso.example", ""},
	}
	for _, tt := range tests {
		if got := DefaultAutodiscoverFor(tt.authority); got != tt.want {
			t.Errorf("DefaultAutodiscoverFor(%q): got %q, want %q", tt.authority, got, tt.want)
		}
		s := Settings{AuthorityHost: tt.authority}
		if got := s.EffectiveAutodiscoverURL(); got != tt.want {
			t.Errorf("EffectiveAutodiscoverURL with authority %q: got %q, want %q", tt.authority, got, tt.want)
		}
	}
	if got := (Settings{AuthorityHost: "http://127.0.0.1:4000", AutodiscoverURL: "http://127.0.0.1:4000"}).EffectiveAutodiscoverURL(); got != "http://127.0.0.1:4000" {
		t.Errorf("got %q, want the configured autodiscover_url", got)
	}
}

func TestLoadWarnNamesUnknownKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		keys []string // the keys warned about, in order
		want []string // substrings of the messages, in the same order
	}{
		{"typo", `{"version":1,"usr":"alice@contoso.com","user":"bob@contoso.com"}`, []string{"usr"},
			[]string{`the key "usr" is not a setting and is ignored; did you mean "user"? Known keys: `}},
		{"unrelated", `{"colour":"blue"}`, []string{"colour"}, []string{`"colour" is not a setting and is ignored. Known keys: authority_host, autodiscover_url, `}},
		{"registration in the file", `{"tenant_id":"x","client_secret":"y"}`, []string{"client_secret", "tenant_id"},
			[]string{"must never be kept in a file; delete the key", "kept in the OS keyring, not in this file; set it with 'exocal config set tenant_id VALUE'"}},
		{"case differs (encoding/json applies it)", `{"User":"alice@contoso.com","Poll_Interval":"1m"}`, nil, nil},
		{"all known", `{"version":1,"user":"alice@contoso.com","secret_expires":""}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			s, ws, err := LoadWarn(path)
			if err != nil {
				t.Fatalf("got %v, want the settings loaded", err)
			}
			if plain, err := Load(path); err != nil || !Equal(plain, s) {
				t.Errorf("Load: got %+v, %v; want the same settings as LoadWarn", plain, err)
			}
			if len(ws) != len(tt.keys) {
				t.Fatalf("got %d warnings %v, want %d", len(ws), ws, len(tt.keys))
			}
			for i, w := range ws {
				if w.Key != tt.keys[i] || w.Path != path {
					t.Errorf("warning %d: got key %q path %q, want %q %q", i, w.Key, w.Path, tt.keys[i], path)
				}
				if !strings.Contains(w.Message, path) || !strings.Contains(w.Message, tt.want[i]) {
					t.Errorf("warning %d: got %q, want the file and %q", i, w.Message, tt.want[i])
				}
				if strings.Contains(w.Message, `"y"`) {
					t.Errorf("warning %d repeats a value: %q", i, w.Message)
				}
			}
		})
	}
	// No file: defaults, no warning.
	if _, ws, err := LoadWarn(filepath.Join(t.TempDir(), "none.json")); err != nil || len(ws) != 0 {
		t.Errorf("missing file: got %v, %v; want no warning and no error", ws, err)
	}
}
