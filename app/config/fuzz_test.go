package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: any file content gives settings or an error, never a panic, and
// whatever loads saves and loads back the same.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"version": 1}`, `{"version": 99}`, `{"poll_interval": "5m"}`, `{"poll_interval": 5}`,
		`{"mailboxes": null}`, `{"mailboxes": ["a@b.c"]}`, `[1,2]`, `null`, ``, `{"version": -1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "config.json")
		os.WriteFile(p, b, 0o600)
		s, err := Load(p)
		if err != nil {
			return
		}
		if err := Save(p, s); err != nil {
			t.Fatalf("Save of loaded settings: %v", err)
		}
		s2, err := Load(p)
		if err != nil || !Equal(s, s2) {
			t.Fatalf("round trip: got %+v, %v; want %+v", s2, err, s)
		}
	})
}

// FuzzSet: Set either changes only the named field to a value that passes
// that field's validation, or changes nothing.
func FuzzSet(f *testing.F) {
	for _, k := range Keys() {
		f.Add(k, "")
		f.Add(k, "1")
	}
	f.Add("mailboxes", "a@contoso.com, b@contoso.com")
	f.Add("poll_interval", "90s")
	f.Fuzz(func(t *testing.T, key, value string) {
		if key == "export_dir" {
			return // would create folders wherever the fuzzer points
		}
		s := Defaults()
		s.User = "alice@contoso.com"
		before := s
		err := Set(&s, key, value)
		if err != nil {
			if !Equal(s, before) {
				t.Fatalf("Set(%q, %q) failed with %v but changed the settings", key, value, err)
			}
			return
		}
		if err := s.ValidateField(key); err != nil {
			t.Fatalf("Set(%q, %q) accepted a value its validation rejects: %v", key, value, err)
		}
	})
}
