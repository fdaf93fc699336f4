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
	return cliEnvModes(t, nil, secret, extraMailboxes...)
}

// cliEnvModes is cliEnv with the emulator in modes.
func cliEnvModes(t *testing.T, modes []emulator.Mode, secret string, extraMailboxes ...string) *emulator.Server {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 9, Mailboxes: 2, Events: 3, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: cliTenantID, ClientID: cliClientID, ClientSecret: cliSecret, Seed: 9, Modes: modes})
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
			[]string{"! WARNING App registration from EXOCAL_* variables: The client secret expires on", "New client secret", "All required steps passed."}, ""},
		{"bad expiry date", cliSecret, nil, []string{"--secret-expires", "31.03.2027"}, 2, nil, "write it as YYYY-MM-DD"},
		{"help", cliSecret, nil, []string{"--help"}, 0, []string{"Usage: exocal check"}, ""},
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
			} else if len(tt.want) > 0 && tt.name != "help" {
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

// editSettings loads config.json, lets mod change it and saves it.
func editSettings(t *testing.T, mod func(*config.Settings)) {
	t.Helper()
	path, s, err := loadSettings()
	if err != nil {
		t.Fatal(err)
	}
	mod(&s)
	if err := config.Save(path, s); err != nil {
		t.Fatal(err)
	}
}

// runCheck runs `exocal check args...` and returns stdout, stderr and the exit code.
func runCheckCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := checkMain(context.Background(), args, &stdout, &stderr, secrets.Default(), nil)
	assertCLIClean(t, stdout.String()+stderr.String())
	return stdout.String(), stderr.String(), code
}

// TestCheckUsesSecretExpiresSetting: without --secret-expires, the
// secret_expires setting warns (as the settings window's test does); the
// flag wins over it.
func TestCheckUsesSecretExpiresSetting(t *testing.T) {
	tests := []struct {
		name    string
		setting string
		args    []string
		want    string // in stdout
		unwant  string
	}{
		{"expires in 5 days", time.Now().AddDate(0, 0, 5).Format(time.DateOnly), nil,
			"! WARNING App registration from EXOCAL_* variables: The client secret expires on " + time.Now().AddDate(0, 0, 5).Format(time.DateOnly), ""},
		{"passed", "2026-11-01", nil, "! WARNING App registration from EXOCAL_* variables: The client secret's expiry date you noted, 2026-11-01, has passed.", "✔ OK      App registration"},
		{"the flag wins", "2026-11-01", []string{"--secret-expires", "2099-01-01"}, "The secret expires on 2099-01-01.", "has passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cliEnv(t, cliSecret)
			editSettings(t, func(s *config.Settings) { s.SecretExpires = tt.setting })
			out, _, code := runCheckCLI(t, tt.args...)
			if code != 0 || !strings.Contains(out, tt.want) || tt.unwant != "" && strings.Contains(out, tt.unwant) {
				t.Errorf("got exit %d and\n%s\nwant exit 0 with %q (and no %q)", code, out, tt.want, tt.unwant)
			}
		})
	}
	var stdout bytes.Buffer
	checkMain(context.Background(), []string{"--help"}, &stdout, io.Discard, secrets.Default(), nil)
	if help := strings.Join(strings.Fields(stdout.String()), " "); !strings.Contains(help, "the secret_expires setting is used") || !strings.Contains(help, "the flag wins") {
		t.Errorf("check --help: got\n%s\nwant it to say the setting is used without the flag", stdout.String())
	}
}

// TestCheckAutodiscoverAdviceFollowed: in a tenant that refuses SOAP
// autodiscover, the check advises the alternative (POX) server; after
// `config set autodiscover_url` with exactly that URL the step passes.
func TestCheckAutodiscoverAdviceFollowed(t *testing.T) {
	cliEnvModes(t, []emulator.Mode{emulator.ModeAutodiscover401}, cliSecret)
	out, _, code := runCheckCLI(t)
	m := regexp.MustCompile(`exocal config set autodiscover_url (\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("got exit %d and\n%s\nwant exit 0 with the autodiscover_url advice", code, out)
	}
	editSettings(t, func(s *config.Settings) {
		if err := config.Set(s, "autodiscover_url", m[1]); err != nil {
			t.Fatal(err)
		}
	})
	out, _, code = runCheckCLI(t)
	if code != 0 || !strings.Contains(out, "✔ OK      Autodiscover finds the EWS URL: POX autodiscover at "+m[1]) || strings.Contains(out, "config set autodiscover_url") {
		t.Errorf("after the advice: got exit %d and\n%s\nwant the autodiscover step to pass by POX at %s", code, out, m[1])
	}
}

// TestCheckWithoutAutodiscoverServer: an authority that is not Microsoft's
// has no default autodiscover server; the settings step says so and names
// the fix instead of claiming Microsoft's default.
func TestCheckWithoutAutodiscoverServer(t *testing.T) {
	cliEnv(t, cliSecret)
	editSettings(t, func(s *config.Settings) { s.AutodiscoverURL = "" })
	out, _, code := runCheckCLI(t)
	if code != exitSetup || !strings.Contains(out, "✘ FAILED  Settings are valid: 1 setting(s) are not valid: Autodiscover URL.") ||
		!strings.Contains(out, "no default autodiscover server") || strings.Contains(out, "autodiscover-s.outlook.com") {
		t.Errorf("got exit %d and\n%s\nwant the settings step to fail on Autodiscover URL", code, out)
	}
}

// TestCheckFixNamesTheVariable: a value from EXOCAL_TENANT_ID cannot be
// corrected with `exocal config set`; the fix says to correct or unset it.
func TestCheckFixNamesTheVariable(t *testing.T) {
	cliEnv(t, cliSecret)
	t.Setenv(secrets.EnvTenantID, "common")
	out, _, code := runCheckCLI(t)
	if code != exitSetup || !strings.Contains(out, "EXOCAL_TENANT_ID is set and overrides the keyring") || !strings.Contains(out, "unset EXOCAL_TENANT_ID") {
		t.Errorf("got exit %d and\n%s\nwant the fix to name EXOCAL_TENANT_ID", code, out)
	}
}

// TestCheckWritesNothing: the check ("Nothing is written anywhere") leaves
// the export folder uncreated and XDG_DATA_HOME empty.
func TestCheckWritesNothing(t *testing.T) {
	cliEnv(t, cliSecret)
	data := os.Getenv("XDG_DATA_HOME")
	if _, code := runCheckCLIOut(t); code != 0 {
		t.Fatalf("got exit %d, want 0", code)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		var found []string
		filepath.WalkDir(data, func(p string, _ os.DirEntry, _ error) error { found = append(found, p); return nil })
		t.Errorf("check wrote under XDG_DATA_HOME: got %v, want nothing", found)
	}
}

func runCheckCLIOut(t *testing.T) (string, int) {
	t.Helper()
	out, _, code := runCheckCLI(t)
	return out, code
}

// TestCheckWarnsAboutUnknownKeys: a typo in config.json is named.
func TestCheckWarnsAboutUnknownKeys(t *testing.T) {
	cliEnv(t, cliSecret)
	path, err := config.Path()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = append([]byte(`{"poll_intervall": "1m",`), b[1:]...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCheckCLI(t)
	if code != 0 || !strings.Contains(out, "! WARNING Settings are valid:") || !strings.Contains(out, `the key "poll_intervall" is not a setting and is ignored; did you mean "poll_interval"?`) || !strings.Contains(out, path) {
		t.Errorf("got exit %d and\n%s\nwant a warning naming the key and the file", code, out)
	}
}
