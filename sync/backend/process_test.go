package backend_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/emulator"
)

// exocalBin returns the built binary (EXOCAL_BIN, or bin/exocal from
// `make build`).
func exocalBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("EXOCAL_BIN")
	if bin == "" {
		bin = filepath.Join(testenv.RepoRoot(), "bin", "exocal")
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, "no exocal binary at "+bin, "run `make build` or set EXOCAL_BIN")
	}
	return bin
}

// processEnv writes a config for f's emulator into private XDG dirs and
// returns the environment for an exocal child process.
func processEnv(t *testing.T, f *fixture) []string {
	t.Helper()
	home := t.TempDir()
	cfgDir := filepath.Join(home, "config", "exocal")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"version": 1, "sync_type": "ews", "user": f.settings.User, "mailboxes": f.tn.Mailboxes(),
		"authority_host": f.srv.URL(), "autodiscover_url": f.srv.URL(), "export_dir": f.dir,
		"window_past_days": 30, "window_future_days": 365, "poll_interval": "1h",
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	return append(env, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "EXOCAL_TENANT_ID="+f.settings.TenantID,
		"EXOCAL_CLIENT_ID="+f.settings.ClientID, "EXOCAL_CLIENT_SECRET="+f.settings.ClientSecret)
}

// checkWhole fails when an .ics file in dir is not a whole calendar.
func checkWhole(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.ics"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("BEGIN:VCALENDAR\r\n")) || !bytes.HasSuffix(b, []byte("END:VCALENDAR\r\n")) {
			t.Fatalf("%s is not a whole calendar (%d bytes, ends %q)", p, len(b), b[max(0, len(b)-40):])
		}
	}
	return len(files)
}

// TestKilledSyncNeverTruncates kills `exocal sync --once` at random points
// and checks that no ICS file is ever partial, that the next run completes
// and equals the ground truth, and that a run after that is incremental
// (one SyncFolderItems per mailbox, nothing rewritten).
func TestKilledSyncNeverTruncates(t *testing.T) {
	t.Parallel()
	bin := exocalBin(t)
	py := pythonICS(t)
	f := newFixture(t, 12, 120, func(o *emulator.Options) { o.Latency = 3 * time.Millisecond })
	env := processEnv(t, f)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; i < 8; i++ {
		cmd := exec.Command(bin, "sync", "--once")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rng.IntN(900)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		checkWhole(t, f.dir)
		if i == 3 {
			// Change the tenant between kills.
			mb := f.tn.Mailboxes()[2]
			f.tn.Delete(mb, f.tn.Items(mb)[0].ID)
		}
	}
	cmd := exec.Command(bin, "sync", "--once")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sync after kills: %v\n%s", err, out)
	}
	if n := checkWhole(t, f.dir); n != len(f.tn.Mailboxes()) {
		t.Fatalf("got %d ICS files, want %d", n, len(f.tn.Mailboxes()))
	}
	f.requireTruth(t, py)

	before, s0 := mtimes(t, f.dir), f.srv.Stats()
	cmd = exec.Command(bin, "sync", "--once")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("incremental sync: %v\n%s", err, out)
	}
	// One token request + autodiscover + one SyncFolderItems per mailbox.
	if got, want := f.srv.Stats().EWSExternal-s0.EWSExternal, int64(len(f.tn.Mailboxes())); got != want {
		t.Errorf("incremental run: got %d EWS requests, want %d (one SyncFolderItems per mailbox)", got, want)
	}
	if got := mtimes(t, f.dir); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("incremental run rewrote files")
	}
	// Nothing changed since the complete run, so every line says so.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(f.tn.Mailboxes()) {
		t.Errorf("output: got %d lines, want one per mailbox (%d):\n%s", len(lines), len(f.tn.Mailboxes()), out)
	}
	for _, l := range lines {
		if !strings.Contains(l, "  ok  ") || !strings.Contains(l, "unchanged  "+f.dir) {
			t.Errorf("output line: got %q, want 'ok … unchanged path'", l)
		}
	}
}

// TestRunStopsCleanlyOnSIGTERM: `exocal run` syncs, and exits 0 on SIGTERM
// with whole files.
func TestRunStopsCleanlyOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := exocalBin(t)
	f := newFixture(t, 4, 40, nil)
	cmd := exec.Command(bin, "run")
	cmd.Env = processEnv(t, f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(f.dir, "*.ics"))
		if len(files) == len(f.tn.Mailboxes()) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("exocal run wrote %d of %d files\n%s", len(files), len(f.tn.Mailboxes()), stderr.Bytes())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exocal run after SIGTERM: got %v, want exit 0\n%s", err, stderr.Bytes())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("exocal run did not stop after SIGTERM\n%s", stderr.Bytes())
	}
	checkWhole(t, f.dir)
	if !strings.Contains(stderr.String(), "exocal stopped") {
		t.Errorf("log: got %q, want a clean 'exocal stopped'", stderr.String())
	}
}
