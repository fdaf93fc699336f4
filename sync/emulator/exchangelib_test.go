package emulator

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// TestExchangelibAgrees runs Debian's python3-exchangelib (a real EWS
// client, configured as its docs describe for app-only OAuth with
// impersonation) against the emulator and checks that what it reads equals
// the ground truth: test/exchangelib/check.py.
func TestExchangelibAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("exchangelib end-to-end check skipped in -short mode")
	}
	t.Parallel()
	py := testenv.DebianPython(t, map[string]string{"exchangelib": "python3-exchangelib"})
	ten := tenant.Generate(tenant.Config{Seed: 11, Mailboxes: 4, Events: 40, Now: time.Now()})
	srv := New(Options{Tenant: ten, TenantID: testTenantID, ClientID: testClientID, ClientSecret: testSecret, Seed: 11,
		Heartbeat: 500 * time.Millisecond, StreamMinute: 4 * time.Second})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	info, _ := json.Marshal(map[string]any{"url": srv.URL(), "tenant_id": testTenantID, "client_id": testClientID,
		"client_secret": testSecret, "mailboxes": ten.Mailboxes()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	script := filepath.Join(testenv.RepoRoot(), "test", "exchangelib", "check.py")
	cmd := exec.CommandContext(ctx, py, script, string(info), "3")
	out, err := cmd.CombinedOutput()
	t.Logf("check.py:\n%s", out)
	if err != nil {
		t.Fatalf("exchangelib disagrees with the emulator: %v", err)
	}
	st := srv.Stats()
	if st.EWSExternal == 0 || st.TokenRequests == 0 || st.StreamsTotal == 0 {
		t.Errorf("stats: got %+v, want EWS, token and streaming traffic", st)
	}
}
