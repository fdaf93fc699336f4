package secrets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
)

// The no-bus tests come first in this file: godbus caches a working session
// bus connection for the whole process.

// TestKeyringNoBusNeverAutolaunches: without DBUS_SESSION_BUS_ADDRESS and
// without a $XDG_RUNTIME_DIR/bus socket, every call fails at once with "no
// session bus" and go-keyring is never called, so godbus never runs
// dbus-launch (which would leave a dbus-daemon behind). A fake dbus-launch
// first in PATH records any attempt.
func TestKeyringNoBusNeverAutolaunches(t *testing.T) {
	bin := t.TempDir()
	marker := filepath.Join(t.TempDir(), "launched")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	runtimeDir := t.TempDir()
	// A plain file named bus is not a bus.
	if err := os.WriteFile(filepath.Join(runtimeDir, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	k := &Keyring{Service: "exocal-test", Timeout: 5 * time.Second}
	ops := map[string]func() error{
		"get": func() error { _, err := k.Get(context.Background(), "p"); return err },
		"set": func() error {
			return k.Set(context.Background(), "p", Registration{TenantID: "t", ClientID: "c", ClientSecret: "hunter2"})
		},
		"delete": func() error { return k.Delete(context.Background(), "p") },
	}
	for op, call := range ops {
		err := call()
		var ke *KeyringError
		if !errors.As(err, &ke) || ke.Reason != ReasonNoSessionBus || !errors.Is(err, ErrNoSecretService) {
			t.Errorf("%s: got %v, want a *KeyringError with ReasonNoSessionBus", op, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: message leaks the secret: %q", op, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("got dbus-launch run, want no autolaunch")
	}
}

// TestSessionBusDetection: which environments count as having a session
// bus; only then is go-keyring called.
func TestSessionBusDetection(t *testing.T) {
	t.Parallel()
	withSocket := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(withSocket, "bus"))
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer l.Close()
	withFile := t.TempDir()
	if err := os.WriteFile(filepath.Join(withFile, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing", nil, false},
		{"address set", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}, true},
		{"runtime dir with bus socket", map[string]string{"XDG_RUNTIME_DIR": withSocket}, true},
		{"runtime dir with a plain file", map[string]string{"XDG_RUNTIME_DIR": withFile}, false},
		{"empty runtime dir", map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}, false},
	}
	for _, tt := range tests {
		called := false
		k := &Keyring{Getenv: func(k string) string { return tt.env[k] }}
		err := k.do(context.Background(), "read", func() error { called = true; return nil })
		if called != tt.want {
			t.Errorf("%s: go-keyring called: got %v, want %v", tt.name, called, tt.want)
		}
		if gotNoBus := errors.Is(err, ErrNoSecretService); gotNoBus == tt.want {
			t.Errorf("%s: got error %v, want no-session-bus error %v", tt.name, err, !tt.want)
		}
	}
}

func TestKeyringNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	k := &Keyring{Service: "exocal-test", Timeout: 5 * time.Second}
	for _, op := range []string{"get", "set", "delete"} {
		var err error
		switch op {
		case "get":
			_, err = k.Get(context.Background(), "p")
		case "set":
			err = k.Set(context.Background(), "p", Registration{TenantID: "t", ClientID: "c", ClientSecret: "hunter2"})
		case "delete":
			err = k.Delete(context.Background(), "p")
		}
		if !errors.Is(err, ErrNoSecretService) || errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: got %v, want ErrNoSecretService (not a timeout)", op, err)
		}
		var ke *KeyringError
		if !errors.As(err, &ke) || ke.Reason != ReasonNoSessionBus {
			t.Fatalf("%s: got %#v, want *KeyringError with ReasonNoSessionBus", op, err)
		}
		msg := err.Error()
		for _, want := range []string{"GNOME Keyring", "KWallet", "KeePassXC", "EXOCAL_CLIENT_SECRET"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: got message %q, want it to contain %q", op, msg, want)
			}
		}
		if strings.Count(strings.TrimSuffix(msg, "."), ". ") > 0 {
			t.Errorf("%s: got %q, want one sentence", op, msg)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("%s: message leaks the secret: %q", op, msg)
		}
	}
}

// TestKeyringNoSecretService runs a private dbus-daemon that offers no
// services (no service directories, so nothing is D-Bus-activated).
func TestKeyringNoSecretService(t *testing.T) {
	daemon := testenv.LookPath(t, "dbus-daemon", "dbus")
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	sock := filepath.Join(dir, "bus")
	os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	k := &Keyring{Service: "exocal-test"}
	_, err := k.Get(context.Background(), "p")
	var ke *KeyringError
	if !errors.As(err, &ke) || ke.Reason != ReasonNoService || !errors.Is(err, ErrNoSecretService) {
		t.Fatalf("got %v, want *KeyringError with ReasonNoService", err)
	}
	if !strings.Contains(err.Error(), "no Secret Service is running") || !strings.Contains(err.Error(), "EXOCAL_TENANT_ID") {
		t.Errorf("got %q, want the reason and the fix", err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	t.Parallel()
	k := &Keyring{Timeout: 10 * time.Millisecond, Getenv: func(string) string { return "unix:path=/nonexistent" }}
	block := make(chan struct{})
	defer close(block)
	err := k.do(context.Background(), "read", func() error { <-block; return nil })
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "unlock") || !strings.Contains(err.Error(), "EXOCAL_CLIENT_ID") {
		t.Errorf("got %q, want the fix", err)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want Reason
	}{
		{errors.New(`exec: "dbus-launch": executable file not found in $PATH`), ReasonNoSessionBus},
		{errors.New("dbus: couldn't determine address of session bus"), ReasonNoSessionBus},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), ReasonNoService},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ReasonLocked},
		{errors.New("something else"), ReasonOther},
	}
	for _, tt := range tests {
		var ke *KeyringError
		err := classify("read", tt.err)
		if !errors.As(err, &ke) || ke.Reason != tt.want {
			t.Errorf("classify(%q): got %v, want reason %d", tt.err, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "secrets: ") {
			t.Errorf("got %q, want the package prefix", err)
		}
	}
}

func TestEnvOverride(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stored := Registration{TenantID: "stored-tenant", ClientID: "stored-client", ClientSecret: "stored-secret"}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		base    Store
		vars    map[string]string
		want    Registration
		wantErr error
	}{
		{"nothing anywhere", NewMemory(), nil, Registration{}, ErrNotFound},
		{"keyring only", memWith(stored), nil, stored, nil},
		{"all from env, keyring unusable", failing{}, map[string]string{EnvTenantID: "et", EnvClientID: "ec", EnvClientSecret: " es\n"},
			Registration{TenantID: "et", ClientID: "ec", ClientSecret: "es"}, nil},
		{"env secret over keyring", memWith(stored), map[string]string{EnvClientSecret: "es"},
			Registration{TenantID: "stored-tenant", ClientID: "stored-client", ClientSecret: "es"}, nil},
		{"partial env, empty keyring", NewMemory(), map[string]string{EnvTenantID: "et"}, Registration{TenantID: "et"}, nil},
		{"partial env, keyring unusable", failing{}, map[string]string{EnvTenantID: "et"}, Registration{}, ErrNoSecretService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := Env{Base: tt.base, Getenv: env(tt.vars)}
			got, err := e.Get(ctx, DefaultProfile)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	// The environment is never written: Set goes to the base only, and the
	// values set there do not include the environment's.
	base := NewMemory()
	e := Env{Base: base, Getenv: env(map[string]string{EnvClientSecret: "from-env"})}
	if err := e.Set(ctx, "p", Registration{TenantID: "t", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	r, _ := base.Get(ctx, "p")
	if r.ClientSecret != "" {
		t.Errorf("got base secret %q, want none (env is read-only)", r.ClientSecret)
	}
}

func memWith(r Registration) *Memory {
	m := NewMemory()
	m.Set(context.Background(), DefaultProfile, r)
	return m
}

type failing struct{}

func (failing) Get(context.Context, string) (Registration, error) {
	return Registration{}, &KeyringError{Reason: ReasonNoService, Err: errors.New("ServiceUnknown")}
}
func (failing) Set(context.Context, string, Registration) error { return errors.New("failing") }
func (failing) Delete(context.Context, string) error            { return errors.New("failing") }

func TestNormalizeSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		warn     bool
	}{
		{"  abc~DEF.123_xyz  \n", "abc~DEF.123_xyz", false},
		{"\tQ8Q~s3cr3t", "Q8Q~s3cr3t", false},
		{" 3f2504e0-4f89-11d3-9a0c-0305e82c3301\n", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", true},
		{"3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3F2504E0-4F89-11D3-9A0C-0305E82C3301", true},
	}
	for _, tt := range tests {
		got, warn := NormalizeSecret(tt.in)
		if got != tt.want {
			t.Errorf("NormalizeSecret(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if (warn != "") != tt.warn {
			t.Errorf("NormalizeSecret(%q): got warning %q, want warning=%v", tt.in, warn, tt.warn)
		}
		if tt.warn && !strings.Contains(warn, "Value") {
			t.Errorf("got warning %q, want it to say to copy the Value column", warn)
		}
	}
}

func TestRegistrationNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	r := Registration{TenantID: "t", ClientID: "c", ClientSecret: "hunter2"}
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s", r, r, r, r)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("got %q, want no secret", s)
		}
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemory()
	if _, err := m.Get(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	want := Registration{TenantID: "t", ClientID: "c", ClientSecret: "s"}
	m.Set(ctx, "p", want)
	if got, _ := m.Get(ctx, "p"); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if err := m.Delete(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

// TestRealKeyring talks to a real Secret Service. Run it with
// /work/shared/ci/keyring-session.sh env EXOCAL_REAL_KEYRING=1 go test -count=1 -run TestRealKeyring -v ./app/secrets
func TestRealKeyring(t *testing.T) {
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" {
		t.Skip("set EXOCAL_REAL_KEYRING=1 and run under .ci/keyring-session.sh to test against gnome-keyring")
	}
	secretTool := testenv.LookPath(t, "secret-tool", "libsecret-tools")
	ctx := context.Background()
	k := NewKeyring()
	profile := fmt.Sprintf("test-%d", os.Getpid())
	want := Registration{
		TenantID:     "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
		ClientID:     "6e0a3c2b-5b4d-4c1e-8f7a-9d8c7b6a5f4e",
		ClientSecret: "Q8Q~real.keyring_secret-value",
	}
	t.Cleanup(func() { k.Delete(context.Background(), profile) })
	if _, err := k.Get(ctx, profile); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: got %v, want ErrNotFound", err)
	}
	if err := k.Set(ctx, profile, want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := k.Get(ctx, profile)
	if err != nil || got != want {
		t.Fatalf("Get: got %v, %v; want %v", got, err, want)
	}

	// Other packages' tests share this keyring session and may hold their
	// own entries under the same service, so search for this profile's
	// attributes, and never print the secret line on failure.
	out, err := exec.Command(secretTool, "search", "--all", "service", KeyringService, "username", profile).CombinedOutput()
	if err != nil {
		t.Fatalf("secret-tool search: %v\n%s", err, withoutSecrets(out))
	}
	if strings.Count(string(out), "username = "+profile) != 1 || !strings.Contains(string(out), "service = "+KeyringService) {
		t.Errorf("secret-tool search service %s username %s: got\n%s\nwant one entry with those attributes", KeyringService, profile, withoutSecrets(out))
	}
	if !strings.Contains(string(out), want.ClientSecret) {
		t.Errorf("secret-tool search: the entry does not hold the client secret just stored")
	}

	// Replacing keeps one entry.
	want.ClientSecret = "Q8Q~rotated"
	if err := k.Set(ctx, profile, want); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if got, _ := k.Get(ctx, profile); got != want {
		t.Errorf("Get after rotate: got %v, want %v", got, want)
	}
	if err := k.Delete(ctx, profile); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, profile); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: got %v, want ErrNotFound", err)
	}
}

// withoutSecrets drops secret-tool's "secret = ..." lines so a failing test
// does not print a stored value.
func withoutSecrets(out []byte) string {
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "secret = ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// TestRealKeyringLocked locks the login collection of a private, throw-away
// gnome-keyring (its own dbus-run-session, so other tests sharing a keyring
// session are not disturbed) and checks that reading then fails with the
// typed locked error (no display: the unlock prompt cannot appear) or, where
// a prompt waits, the timeout; never a hang.
func TestRealKeyringLocked(t *testing.T) {
	if os.Getenv("EXOCAL_LOCKED_CHILD") == "1" {
		lockedChild(t)
		return
	}
	if os.Getenv("EXOCAL_REAL_KEYRING") != "1" {
		t.Skip("set EXOCAL_REAL_KEYRING=1 to test against gnome-keyring")
	}
	runSession := testenv.LookPath(t, "dbus-run-session", "dbus")
	testenv.LookPath(t, "gnome-keyring-daemon", "gnome-keyring")
	testenv.LookPath(t, "gdbus", "libglib2.0-bin")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "run"), 0o700)
	script := `eval "$(printf pw | gnome-keyring-daemon --daemonize --unlock --components=secrets)"; exec "$0" -test.run='^TestRealKeyringLocked$' -test.v`
	cmd := exec.Command(runSession, "--", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "EXOCAL_LOCKED_CHILD=1", "DISPLAY=", "WAYLAND_DISPLAY=",
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestRealKeyringLocked") {
		t.Fatalf("locked-keyring child: %v\n%s", err, out)
	}
}

func lockedChild(t *testing.T) {
	ctx := context.Background()
	k := &Keyring{Timeout: 5 * time.Second}
	var err error
	for i := 0; i < 50; i++ { // until gnome-keyring owns its bus name
		if err = k.Set(ctx, "locked-test", Registration{TenantID: "t", ClientID: "c", ClientSecret: "s"}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Set on the unlocked keyring: %v", err)
	}
	out, err := exec.Command("gdbus", "call", "--session", "--dest", "org.freedesktop.secrets",
		"--object-path", "/org/freedesktop/secrets", "--method", "org.freedesktop.Secret.Service.Lock",
		"['/org/freedesktop/secrets/collection/login']").CombinedOutput()
	if err != nil {
		t.Fatalf("lock the login collection: %v\n%s", err, out)
	}
	_, err = k.Get(ctx, "locked-test")
	if !errors.Is(err, ErrLocked) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrLocked (or ErrTimeout)", err)
	}
	if !strings.Contains(err.Error(), "unlock") || !strings.Contains(err.Error(), "EXOCAL_CLIENT_SECRET") {
		t.Errorf("got %q, want the fix", err)
	}
}

func TestAsEnv(t *testing.T) {
	t.Parallel()
	base := NewMemory()
	for _, tt := range []struct {
		name string
		s    Store
		want bool
	}{
		{"value", Env{Base: base}, true},
		{"pointer", &Env{Base: base}, true},
		{"nil pointer", (*Env)(nil), false},
		{"plain store", base, false},
	} {
		if _, ok := AsEnv(tt.s); ok != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, ok, tt.want)
		}
	}
}
