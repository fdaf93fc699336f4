package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// treeOf lists every path under root ("" entries when root is missing).
func treeOf(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestConfigShowNamesUnknownKeysAndWritesNothing: `config show` names a
// key of config.json that is no setting (on stderr, the JSON stays clean)
// and creates nothing — no export folder, no probe file.
func TestConfigShowNamesUnknownKeysAndWritesNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	if err := os.MkdirAll(filepath.Dir(c.configFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.configFile(), []byte(`{"version":1,"usr":"alice@contoso.com","client_secret":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(c.cfgHome) // HOME; XDG_DATA_HOME is beside it
	before := treeOf(t, filepath.Dir(root))
	out, errOut, code := c.run("", []string{"EXOCAL_TENANT_ID=contoso.onmicrosoft.com"}, "config", "show")
	if code != 0 || !strings.HasPrefix(out, "{") {
		t.Fatalf("got exit %d, %q, %q; want the settings as JSON", code, out, errOut)
	}
	for _, want := range []string{
		`exocal: warning: ` + c.configFile() + `: the key "usr" is not a setting and is ignored; did you mean "user"? Known keys: `,
		`the key "client_secret" is ignored: the client secret must never be kept in a file`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr: got %q, want %q in it", errOut, want)
		}
	}
	if after := treeOf(t, filepath.Dir(root)); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("config show wrote: got %v, want %v", after, before)
	}

	// config set warns too, and says the ignored keys do not survive the save.
	_, errOut, code = c.run("", nil, "config", "set", "user", "alice@contoso.com")
	if code != 0 || !strings.Contains(errOut, `the key "usr" is not a setting`) || !strings.Contains(errOut, "saving rewrites the file without the ignored key(s)") {
		t.Errorf("config set: got exit %d, %q; want the warning and the note", code, errOut)
	}
	if _, errOut, _ = c.run("", nil, "config", "show"); strings.Contains(errOut, "warning") {
		t.Errorf("after the save: got %q, want no warning", errOut)
	}
}
