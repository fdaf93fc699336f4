package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/internal/testenv"
)

// The CLI tests run the real command line: the test binary re-executes
// itself with EXOCAL_TEST_MAIN=1, which makes TestMain call dispatch with
// the remaining arguments, in a process whose XDG_* dirs are temporary.
func TestMain(m *testing.M) {
	if os.Getenv("EXOCAL_TEST_MAIN") == "1" {
		os.Exit(dispatch(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type cli struct {
	t        *testing.T
	env      []string
	base     string // the temporary folder that holds everything of this run
	cfgHome  string
	realRing bool
}

// newCLI isolates a run: temporary XDG dirs, and no session bus unless
// realKeyring (then the caller's bus, i.e. keyring-session.sh's).
func newCLI(t *testing.T, realKeyring bool) *cli {
	t.Helper()
	dir := t.TempDir()
	// The settings live where they do by default under this HOME, so the
	// instance socket keeps its default name (app.SocketPath).
	c := &cli{t: t, base: dir, cfgHome: filepath.Join(dir, "home", ".config"), realRing: realKeyring}
	c.env = []string{
		"EXOCAL_TEST_MAIN=1",
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME=" + c.cfgHome,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"PATH=" + os.Getenv("PATH"),
		"LANG=en_US.UTF-8",
	}
	if realKeyring {
		c.env = append(c.env, "DBUS_SESSION_BUS_ADDRESS="+os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
			"XDG_RUNTIME_DIR="+os.Getenv("XDG_RUNTIME_DIR"))
	} else {
		c.env = append(c.env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent", "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"))
	}
	return c
}

func (c *cli) configFile() string { return filepath.Join(c.cfgHome, "exocal", "config.json") }

// run runs `exocal args...` with stdin and extra environment.
func (c *cli) run(stdin string, extraEnv []string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("exocal %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, code := newCLI(t, false).run("", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "exocal dev (go1.") {
		t.Errorf("got %q exit %d, want \"exocal dev (go1.…\" exit 0", out, code)
	}
}

func TestHelpOnEachCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	for _, args := range [][]string{
		{"--help"}, {"version", "--help"}, {"config", "--help"}, {"config", "show", "--help"},
		{"config", "set", "--help"}, {"config", "path", "--help"}, {"secret", "--help"}, {"secret", "set", "--help"},
		{"sync", "--help"}, {"run", "--help"}, {"demo", "--help"}, {"emulator", "--help"}, {"check", "--help"}, {"desktop", "--help"}, {"gui", "--help"},
	} {
		out, _, code := c.run("", nil, args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("exocal %v: got exit %d, output %q; want exit 0 with usage", args, code, out)
		}
	}
	if _, errOut, code := c.run("", nil, "config"); code != 2 || !strings.Contains(errOut, "Usage") {
		t.Errorf("exocal config: got exit %d %q, want 2 with usage", code, errOut)
	}
}

// Flags without a command go to the tray app (here without a display, so
// it stops there), except --help.
func TestLeadingFlagsRunTheGUI(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	for _, tt := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"-v"}, 2, "", "DISPLAY is not set"},
		{[]string{"--settings", "-v"}, 2, "", "DISPLAY is not set"},
		{[]string{"--no-such-flag"}, 2, "", "flag provided but not defined"},
		{[]string{"-h"}, 0, "Usage: exocal", ""},
		{[]string{"--help"}, 0, "Usage: exocal", ""},
	} {
		out, errOut, code := c.run("", []string{"XDG_RUNTIME_DIR=" + t.TempDir()}, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) || strings.Contains(errOut, "unknown command") {
			t.Errorf("exocal %v: got exit %d, stdout %q, stderr %q; want exit %d with %q / %q", tt.args, code, out, errOut, tt.code, tt.out, tt.err)
		}
	}
}

func TestConfigPath(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	out, _, code := c.run("", nil, "config", "path")
	if code != 0 || strings.TrimSpace(out) != c.configFile() {
		t.Errorf("got %q exit %d, want %q", out, code, c.configFile())
	}
}

func TestConfigShowDefaultsAndEnv(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	const secret = "Q8Q~cli.secret_never-shown"
	env := []string{"EXOCAL_TENANT_ID=contoso.onmicrosoft.com",
		"EXOCAL_CLIENT_ID=6e0a3c2b-5b4d-4c1e-8f7a-9d8c7b6a5f4e", "EXOCAL_CLIENT_SECRET=" + secret}
	out, errOut, code := c.run("", env, "config", "show")
	if code != 0 {
		t.Fatalf("got exit %d (%s), want 0", code, errOut)
	}
	if strings.Contains(out+errOut, secret) {
		t.Fatalf("config show printed the secret:\n%s", out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("got %q, want JSON: %v", out, err)
	}
	for k, want := range map[string]any{
		"max_subscriptions_per_connection": 200.0, "poll_interval": "5m0s", "sync_type": "ews",
		"tenant_id": "contoso.onmicrosoft.com", "client_secret": "from EXOCAL_CLIENT_SECRET",
	} {
		if m[k] != want {
			t.Errorf("%s: got %v, want %v", k, m[k], want)
		}
	}
	// Without the environment and without a keyring: still shows the
	// settings, and says why the registration is unknown.
	out, errOut, code = c.run("", nil, "config", "show")
	if code != 0 || !strings.Contains(out, `"client_secret": "unknown`) || !strings.Contains(errOut, "EXOCAL_CLIENT_SECRET") {
		t.Errorf("got exit %d, %q, %q; want the settings and the keyring's fix", code, out, errOut)
	}
}

func TestConfigSetGood(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	sets := [][2]string{
		{"user", "alice@contoso.com"},
		{"mailboxes", "alice@contoso.com, room1@contoso.com"},
		{"max_subscriptions_per_connection", "50"},
		{"poll_interval", "90s"},
		{"ews_debug", "true"},
		// A loopback authority has no default autodiscover server: set it first.
		{"autodiscover_url", "http://127.0.0.1:8400"},
		{"authority_host", "http://127.0.0.1:8400"},
	}
	for _, kv := range sets {
		if _, errOut, code := c.run("", nil, "config", "set", kv[0], kv[1]); code != 0 {
			t.Fatalf("config set %s %s: got exit %d %q, want 0", kv[0], kv[1], code, errOut)
		}
	}
	b, err := os.ReadFile(c.configFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"user": "alice@contoso.com"`, `"room1@contoso.com"`, `"max_subscriptions_per_connection": 50`,
		`"poll_interval": "1m30s"`, `"ews_debug": true`, `"authority_host": "http://127.0.0.1:8400"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("config.json lacks %s:\n%s", want, b)
		}
	}
	if fi, _ := os.Stat(c.configFile()); fi.Mode().Perm() != 0o600 {
		t.Errorf("got mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestConfigSetBadExits2AndChangesNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	if _, errOut, code := c.run("", nil, "config", "set", "user", "alice@contoso.com"); code != 0 {
		t.Fatalf("setup: exit %d %s", code, errOut)
	}
	before, _ := os.ReadFile(c.configFile())
	tests := []struct{ key, value, want string }{
		{"max_subscriptions_per_connection", "500", "Max subscriptions per connection: 500 is out of range"},
		{"max_subscriptions_per_connection", "0", "from 1 to 200"},
		{"user", "alice", "User:"},
		{"mailboxes", "a@contoso.com,not an address", "Mailboxes to sync:"},
		{"autodiscover_url", "http://autodiscover.contoso.com", "use https://"},
		{"poll_interval", "5s", "Poll interval:"},
		{"exchange_server", "cloud", "Exchange server to be used:"},
		{"supported_account", "everyone", "Supported account:"},
		{"privacy", "none", "Privacy:"},
		{"sync_type", "graph", "Sync-Type:"},
		{"export_dir", "relative/dir", "Export folder:"},
		{"tenant_id", "common", "app-only"},
		{"client_id", "my-app", "Application (client) ID"},
		{"client_secret", "hunter2", "never given as an argument"},
		{"no_such_key", "1", "unknown key"},
	}
	for _, tt := range tests {
		_, errOut, code := c.run("", nil, "config", "set", tt.key, tt.value)
		if code != 2 {
			t.Errorf("config set %s %q: got exit %d, want 2", tt.key, tt.value, code)
		}
		if !strings.Contains(errOut, tt.want) {
			t.Errorf("config set %s %q: got %q, want it to contain %q", tt.key, tt.value, errOut, tt.want)
		}
		if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
			t.Errorf("config set %s: got a stack trace:\n%s", tt.key, errOut)
		}
		after, _ := os.ReadFile(c.configFile())
		if !bytes.Equal(before, after) {
			t.Fatalf("config set %s %q changed config.json:\n%s", tt.key, tt.value, after)
		}
	}
}

func TestConfigSetTenantWithoutKeyring(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	_, errOut, code := c.run("", nil, "config", "set", "tenant_id", "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
	if code != 2 || !strings.Contains(errOut, "no D-Bus session bus") || !strings.Contains(errOut, "EXOCAL_TENANT_ID") {
		t.Errorf("got exit %d %q, want 2 with the keyring's fix", code, errOut)
	}
	if _, err := os.Stat(c.configFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want no config.json (the tenant never goes there)", err)
	}
}

func TestSecretSet(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	tests := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"secret", "set", "hunter2"}, "never from arguments"},
		{"\n  \n", []string{"secret", "set"}, "no secret on stdin"},
		{"3f2504e0-4f89-11d3-9a0c-0305e82c3301\n", []string{"secret", "set"}, "looks like the secret's ID"},
		{"Q8Q~abc\n", []string{"secret", "set"}, "no D-Bus session bus"},
		{"", []string{"secret"}, "Usage"},
	}
	for _, tt := range tests {
		_, errOut, code := c.run(tt.stdin, nil, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("exocal %v <<< %q: got exit %d %q, want 2 and %q", tt.args, tt.stdin, code, errOut, tt.want)
		}
		if strings.Contains(errOut, "Q8Q~abc") || strings.Contains(errOut, "hunter2") {
			t.Errorf("exocal %v printed the secret: %q", tt.args, errOut)
		}
	}
}

// TestRealKeyringCLI drives the registration commands against a real,
// throw-away gnome-keyring. It writes the "default" profile, so it runs only
// inside a keyring-session.sh (.ci/ sets EXOCAL_KEYRING_SESSION=1, the shared
// one KEYRING_SESSION_ACTIVE=1):
//
//	.ci/keyring-session.sh env EXOCAL_REAL_KEYRING=1 go test -tags migrated_fynedo -count=1 -run RealKeyring -v .
func TestRealKeyringCLI(t *testing.T) {
	inSession := os.Getenv("EXOCAL_KEYRING_SESSION") == "1" || os.Getenv("KEYRING_SESSION_ACTIVE") == "1"
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" || !inSession {
		t.Skip("run under .ci/keyring-session.sh with EXOCAL_REAL_KEYRING=1 (it writes the default profile)")
	}
	secretTool := testenv.LookPath(t, "secret-tool", "libsecret-tools")
	c := newCLI(t, true)
	const (
		tenant = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
		client = "6e0a3c2b-5b4d-4c1e-8f7a-9d8c7b6a5f4e"
		secret = "Q8Q~cli.real_keyring-secret"
	)
	for _, args := range [][]string{{"config", "set", "tenant_id", tenant}, {"config", "set", "client_id", client}, {"config", "set", "user", "alice@contoso.com"}} {
		if _, errOut, code := c.run("", nil, args...); code != 0 {
			t.Fatalf("exocal %v: exit %d %s", args, code, errOut)
		}
	}
	if out, errOut, code := c.run("  "+secret+"  \n", nil, "secret", "set"); code != 0 || strings.Contains(out+errOut, secret) {
		t.Fatalf("secret set: exit %d %q %q", code, out, errOut)
	}
	out, errOut, code := c.run("", nil, "config", "show")
	if code != 0 || strings.Contains(out, secret) {
		t.Fatalf("config show: exit %d %s %s", code, out, errOut)
	}
	for _, want := range []string{`"tenant_id": "` + tenant, `"client_id": "` + client, `"client_secret": "stored in keyring"`} {
		if !strings.Contains(out, want) {
			t.Errorf("config show lacks %s:\n%s", want, out)
		}
	}
	got, err := exec.Command(secretTool, "lookup", "service", "exocal", "username", "default").Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	var r struct {
		TenantID     string `json:"tenant_id"`
		ClientSecret string `json:"client_secret"`
	}
	json.Unmarshal(got, &r)
	if r.ClientSecret != secret || r.TenantID != tenant {
		t.Errorf("keyring entry: got tenant %q and a secret of %d chars, want %q and the trimmed secret", r.TenantID, len(r.ClientSecret), tenant)
	}
	b, _ := os.ReadFile(c.configFile())
	if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(tenant)) {
		t.Errorf("config.json holds the registration:\n%s", b)
	}
	exec.Command(secretTool, "clear", "service", "exocal", "username", "default").Run()
}

// TestRealKeyringIsolatedProfile: a setup with XDG_CONFIG_HOME elsewhere
// keeps its registration in its own keyring entry (default@<its settings
// folder>) and neither reads nor overwrites the user's (default).
func TestRealKeyringIsolatedProfile(t *testing.T) {
	inSession := os.Getenv("EXOCAL_KEYRING_SESSION") == "1" || os.Getenv("KEYRING_SESSION_ACTIVE") == "1"
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" || !inSession {
		t.Skip("run under .ci/keyring-session.sh with EXOCAL_REAL_KEYRING=1 (it writes the default profile)")
	}
	secretTool := testenv.LookPath(t, "secret-tool", "libsecret-tools")
	const mine, isolated = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	c := newCLI(t, true)
	t.Cleanup(func() { exec.Command(secretTool, "clear", "service", "exocal", "username", "default").Run() })
	if _, errOut, code := c.run("", nil, "config", "set", "tenant_id", mine); code != 0 {
		t.Fatalf("config set tenant_id in the default setup: exit %d %s", code, errOut)
	}
	other := filepath.Join(c.base, "elsewhere")
	profile := "default@" + filepath.Join(other, "exocal")
	t.Cleanup(func() { exec.Command(secretTool, "clear", "service", "exocal", "username", profile).Run() })
	env := []string{"XDG_CONFIG_HOME=" + other}
	if out, _, _ := c.run("", env, "config", "show"); strings.Contains(out, mine) {
		t.Errorf("the isolated setup reads the user's registration:\n%s", out)
	}
	if _, errOut, code := c.run("", env, "config", "set", "tenant_id", isolated); code != 0 {
		t.Fatalf("config set tenant_id in the isolated setup: exit %d %s", code, errOut)
	}
	for user, want := range map[string]string{"default": mine, profile: isolated} {
		got, err := exec.Command(secretTool, "lookup", "service", "exocal", "username", user).Output()
		if err != nil || !strings.Contains(string(got), want) {
			t.Errorf("keyring entry %q: got %v, tenant %t; want tenant %s", user, err, strings.Contains(string(got), want), want)
		}
	}
	if out, _, _ := c.run("", nil, "config", "show"); !strings.Contains(out, mine) || strings.Contains(out, isolated) {
		t.Errorf("the default setup after the isolated one's set: want its own tenant only:\n%s", out)
	}
}

func TestConfigSetNotifiesRunningInstance(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	run := filepath.Join(c.base, "run")
	os.MkdirAll(run, 0o700)
	in, err := app.Acquire(context.Background(), filepath.Join(run, "exocal.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Release()
	out, errOut, code := c.run("", nil, "config", "set", "window_past_days", "7")
	if code != 0 || !strings.Contains(out, "picked up the change") {
		t.Fatalf("got exit %d %q %q, want the running instance told", code, out, errOut)
	}
	select {
	case <-in.Reloads():
	default:
		t.Error("got no reload request, want one")
	}
}

// TestSecretSetNoEcho types the secret into a real pseudo-terminal and
// checks that the terminal never shows it and gets its echo back afterwards.
func TestSecretSetNoEcho(t *testing.T) {
	t.Parallel()
	py := testenv.DebianPython(t, nil)
	c := newCLI(t, false)
	const secret = "Q8Q~typed.on-a-tty"
	script := `
import os, sys, subprocess, termios, time
master, slave = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
out = b""
import select
def drain(until, idle):
    global out
    end = time.time() + 20
    while until not in out and time.time() < end:
        r, _, _ = select.select([master], [], [], idle)
        if not r:
            if idle < 1: break
            continue
        try: out += os.read(master, 4096)
        except OSError: break
drain(b"input hidden", 5)
os.write(master, os.environ["SECRET"].encode() + b"\n")
p.wait(timeout=30)
drain(b"\x00never", 0.3)
echo = termios.tcgetattr(slave)[3] & termios.ECHO
sys.stdout.write(out.decode(errors="replace"))
sys.stdout.write("\nECHO_RESTORED=%d\n" % (1 if echo else 0))
`
	cmd := exec.Command(py, append([]string{"-c", script, os.Args[0]}, "secret", "set")...)
	cmd.Env = append(append([]string{}, c.env...), "SECRET="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pty driver: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "input hidden") {
		t.Fatalf("got %q, want the prompt", text)
	}
	if strings.Contains(text, secret) {
		t.Errorf("the terminal showed the secret:\n%s", text)
	}
	if !strings.Contains(text, "ECHO_RESTORED=1") {
		t.Errorf("got %q, want echo restored afterwards", text)
	}
	// The keyring is unreachable in this test, so the command ends with that error,
	// which proves the secret was read before the keyring was asked.
	if !strings.Contains(text, "no D-Bus session bus") {
		t.Errorf("got %q, want the keyring error after reading the secret", text)
	}
}

// A relative XDG_* variable is refused before any command runs: ignoring
// it, as the XDG specification says, would reach the user's own settings,
// keyring entry and running instance from a setup meant to be isolated.
func TestRelativeXDGRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t, false)
	for _, env := range []string{"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"} {
		for _, args := range [][]string{{"secret", "set"}, {"config", "set", "tenant_id", "contoso.com"}, {"sync", "--once"}, {"run"}} {
			out, errOut, code := c.run("a-secret\n", []string{env + "=relative/dir"}, args...)
			if code != exitSetup || out != "" || !strings.Contains(errOut, env+"=relative/dir is not an absolute path") {
				t.Errorf("%s=relative/dir exocal %v: got exit %d, stdout %q, stderr %q; want exit 2 naming the variable", env, args, code, out, errOut)
			}
		}
	}
}
