package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

const (
	cliTenantID = "6e5d4c3b-2a19-4087-8f6e-5d4c3b2a1908"
	cliClientID = "1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d"
	cliSecret   = "Cl1~check-cli-secret-value.0123456789abcdef"
)

var cliJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)

// cliEnv starts an emulator, writes config.json under a temp
// XDG_CONFIG_HOME pointing at it, and sets EXOCAL_* (so no keyring is
// touched). t.Setenv rules out t.Parallel for these tests.
func cliEnv(t *testing.T, secret string, extraMailboxes ...string) *emulator.Server {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 9, Mailboxes: 2, Events: 3, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: cliTenantID, ClientID: cliClientID, ClientSecret: cliSecret, Seed: 9})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv(secrets.EnvTenantID, cliTenantID)
	t.Setenv(secrets.EnvClientID, cliClientID)
	t.Setenv(secrets.EnvClientSecret, secret)
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, "")
	}
	s := config.Defaults()
	s.User = tn.Mailboxes()[0]
	s.Mailboxes = append(tn.Mailboxes(), extraMailboxes...)
	s.AutodiscoverURL = srv.URL()
	s.AuthorityHost = srv.URL()
	path, err := config.Path()
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Save(path, s); err != nil {
		t.Fatal(err)
	}
	return srv
}

func assertCLIClean(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, cliSecret) {
		t.Errorf("output contains the client secret:\n%s", out)
	}
	if m := cliJWT.FindString(out); m != "" {
		t.Errorf("output contains a JWT-shaped string %q", m)
	}
}

func TestCheckCLI(t *testing.T) {
	tests := []struct {
		name      string
		secret    string
		mailboxes []string
		args      []string
		exit      int
		want      []string // substrings of stdout
		wantErr   string   // substring of stderr
	}{
		{"correct setup", cliSecret, nil, nil, 0,
			[]string{"✔ OK      Settings are valid", "✔ OK      Token from Microsoft Entra ID", "✔ OK      Streaming notifications", "All required steps passed."}, ""},
		{"wrong secret", "Wrong~secret-value-for-the-cli-test-000000", nil, nil, 2,
			[]string{"✘ FAILED  Token from Microsoft Entra ID: Entra rejected the client secret (AADSTS7000215)",
				"\n      1. Open Microsoft Entra admin center", "– SKIPPED Token permissions", `Failed at "Token from Microsoft Entra ID".`}, ""},
		{"unknown mailbox", cliSecret, []string{"nobody@contoso.onmicrosoft.com"}, nil, 1,
			[]string{"✘ FAILED  Calendar of nobody@contoso.onmicrosoft.com: Exchange has no mailbox", "      Check the address"}, ""},
		{"secret expiring", cliSecret, nil, []string{"--secret-expires", time.Now().AddDate(0, 0, 3).Format(time.DateOnly)}, 0,
			[]string{"! WARNING App registration in the keyring: The client secret expires on", "New client secret", "All required steps passed."}, ""},
		{"bad expiry date", cliSecret, nil, []string{"--secret-expires", "31.03.2027"}, 2, nil, "write it as YYYY-MM-DD"},
		{"help", cliSecret, nil, []string{"--help"}, 0, nil, "Usage: exocal check"},
		{"json", cliSecret, nil, []string{"--json"}, 0, []string{`"ok": true`, `"exit_code": 0`, `"id": "subscription"`}, ""},
		{"json, wrong secret", "Wrong~secret-value-for-the-cli-test-000000", nil, []string{"--json"}, 2,
			[]string{`"ok": false`, `"exit_code": 2`, `"cause": "invalid-secret"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cliEnv(t, tt.secret, tt.mailboxes...)
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := checkMain(context.Background(), tt.args, &stdout, &stderr, secrets.Default(), nil)
			t.Logf("exocal check %v: exit %d in %s", tt.args, code, time.Since(start).Round(time.Millisecond))
			out := stdout.String()
			if code != tt.exit {
				t.Errorf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, out, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr: want %q in\n%s", tt.wantErr, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout: want %q in\n%s", w, out)
				}
			}
			if strings.Contains(strings.Join(tt.args, " "), "--json") {
				var doc struct {
					OK    bool `json:"ok"`
					Steps []struct {
						ID, State string
					} `json:"steps"`
				}
				if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
					t.Fatalf("--json output is not one JSON document: %v\n%s", err, out)
				}
				if len(doc.Steps) < 9 || doc.OK != (tt.exit == 0) {
					t.Errorf("JSON: got ok %v with %d steps, want ok %v with at least 9", doc.OK, len(doc.Steps), tt.exit == 0)
				}
			} else if len(tt.want) > 0 {
				// One line per step, in chain order, each printed as it completed.
				lines := strings.Split(out, "\n")
				if !strings.HasPrefix(lines[0], "Checking") || !strings.Contains(lines[1], "Settings are valid") || !strings.Contains(lines[2], "App registration") {
					t.Errorf("want the steps in chain order, got:\n%s", out)
				}
			}
			assertCLIClean(t, out+stderr.String())
		})
	}
}

// TestCheckDispatch runs `exocal check --json` through the command
// registry, as the binary does, and checks the exit code.
func TestCheckDispatch(t *testing.T) {
	cliEnv(t, cliSecret)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	code := dispatch([]string{"check", "--json"})
	os.Stdout = saved
	w.Close()
	out := <-done
	if code != 0 {
		t.Fatalf("exit code: got %d, want 0\n%s", code, out)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil || doc["ok"] != true {
		t.Fatalf("got %v (%v), want a JSON document with ok true:\n%s", doc["ok"], err, out)
	}
	assertCLIClean(t, string(out))
}
