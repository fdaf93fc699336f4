package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/auth"
)

// startEmulatorCommand runs `exocal emulator ARGS` (this test binary
// re-executed, see TestMain) and returns its first stdout line, decoded.
func startEmulatorCommand(t *testing.T, args ...string) (emulatorInfo, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"emulator"}, args...)...)
	cmd.Env = []string{"EXOCAL_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=en_US.UTF-8"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("exocal emulator: no first line: %v", err)
	}
	var info emulatorInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not the JSON object: %v: %q", err, line)
	}
	return info, cmd
}

func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	info, cmd := startEmulatorCommand(t, "--mailboxes", "3", "--events", "5", "--seed", "9")
	if !strings.HasPrefix(info.URL, "http://127.0.0.1:") || info.TenantID == "" || info.ClientID == "" || info.ClientSecret == "" || len(info.Mailboxes) != 3 {
		t.Fatalf("first line: got %+v", info)
	}
	resp, err := http.PostForm(info.URL+"/"+info.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret},
		"scope": {"https://outlook.office365.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token with the printed credentials: got %d, want 200", resp.StatusCode)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: got %v, want 0", err)
	}
}

func TestEmulatorCommandRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", "[::]:0"} {
		cmd := exec.Command(os.Args[0], "emulator", "--addr", addr)
		cmd.Env = []string{"EXOCAL_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitSetup || !strings.Contains(string(out), "not a loopback address") {
			t.Errorf("--addr %s: got %v %q, want exit %d and a loopback message", addr, err, out, exitSetup)
		}
	}
}

// TestExchangelibAgainstEmulatorCommand runs Debian's exchangelib against
// the standalone `exocal emulator`, as a person or a script would.
func TestExchangelibAgainstEmulatorCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("exchangelib end-to-end check skipped in -short mode")
	}
	t.Parallel()
	py := testenv.DebianPython(t, map[string]string{"exchangelib": "python3-exchangelib"})
	info, _ := startEmulatorCommand(t, "--mailboxes", "3", "--events", "30", "--seed", "5", "--stream-minute", "4s", "--heartbeat", "500ms")
	line, _ := json.Marshal(info)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, filepath.Join(testenv.RepoRoot(), "test", "exchangelib", "check.py"), string(line), "2").CombinedOutput()
	t.Logf("check.py:\n%s", out)
	if err != nil {
		t.Fatalf("exchangelib disagrees with exocal emulator: %v", err)
	}
}

// TestEmulatorCommandSetupModes: --mode, --unlicensed, --out-of-scope and
// --date-skew reach the running emulator.
func TestEmulatorCommandSetupModes(t *testing.T) {
	t.Parallel()
	info, _ := startEmulatorCommand(t, "--mailboxes", "3", "--events", "2", "--seed", "4",
		"--mode", "conditional-access,skewed-date", "--unlicensed", "2", "--out-of-scope", "", "--date-skew", "-5m")
	resp, err := http.Get(info.URL + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Modes      []string `json:"modes"`
		Unlicensed []string `json:"unlicensed_mailboxes"`
		OutOfScope []string `json:"out_of_scope_mailboxes"`
		DateSkew   string   `json:"date_skew"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Modes, ",") != "conditional-access,skewed-date" || len(st.Unlicensed) != 1 || st.Unlicensed[0] != strings.ToLower(info.Mailboxes[1]) ||
		len(st.OutOfScope) != 0 || st.DateSkew != "-5m0s" {
		t.Errorf("state: got %+v, want modes conditional-access,skewed-date, unlicensed [%s], none out of scope, skew -5m0s", st, info.Mailboxes[1])
	}
	resp, err = http.PostForm(info.TokenURL, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret},
		"scope": {"https://outlook.office365.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Codes []int `json:"error_codes"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || len(body.Codes) != 1 || body.Codes[0] != 53003 {
		t.Errorf("token: got %d %v, want 400 [53003]", resp.StatusCode, body.Codes)
	}
}

func TestEmulatorCommandRefusesBadSetupFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "no-such-mode"}, `unknown mode "no-such-mode"`},
		{[]string{"--mailboxes", "2", "--unlicensed", "3"}, "mailbox number 3 is out of range"},
		{[]string{"--out-of-scope", "ceo@fabrikam.com"}, `"ceo@fabrikam.com" is not a mailbox of the tenant`},
	} {
		cmd := exec.Command(os.Args[0], append([]string{"emulator"}, tt.args...)...)
		cmd.Env = []string{"EXOCAL_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitSetup || !strings.Contains(string(out), tt.want) {
			t.Errorf("%v: got %v %q, want exit %d and %q", tt.args, err, out, exitSetup, tt.want)
		}
	}
}

// certFile writes PEM blocks of the given types from bundle to a file.
func certFile(t *testing.T, bundle string, types ...string) string {
	t.Helper()
	var out []byte
	for rest := []byte(bundle); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if slices.Contains(types, b.Type) {
			out = append(out, pem.EncodeToMemory(b)...)
		}
	}
	p := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEmulatorCommandCertificate: `exocal emulator --certificate cert.pem`
// accepts client assertions signed with that certificate's key (through
// sync/auth, as `exocal sync` logs in) and refuses another certificate.
func TestEmulatorCommandCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	good := newTestBundle(t, now.Add(-time.Hour), now.Add(24*time.Hour))
	other := newTestBundle(t, now.Add(-time.Hour), now.Add(24*time.Hour))
	info, cmd := startEmulatorCommand(t, "--mailboxes", "2", "--events", "1", "--certificate", certFile(t, good.pem, "CERTIFICATE"))
	if want := secrets.Describe(good.leaf).Thumbprint; info.CertificateThumbprint != want {
		t.Errorf("first line: got thumbprint %q, want %q", info.CertificateThumbprint, want)
	}
	token := func(bundle string) error {
		cert, _, err := secrets.ParseCertificate(bundle)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tok, err := auth.NewTokenSource(ctx, auth.Config{AuthorityHost: info.URL, TenantID: info.TenantID, ClientID: info.ClientID, Certificate: cert}).Token()
		if err == nil && tok.AccessToken == "" {
			return errors.New("empty access token")
		}
		return err
	}
	if err := token(good.pem); err != nil {
		t.Errorf("token with the registered certificate: got %v, want one", err)
	}
	if err := token(other.pem); !auth.IsInvalidCertificate(err) {
		t.Errorf("token with another certificate: got %v, want AADSTS700027 (certificate not registered)", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: got %v, want 0", err)
	}
}

func TestEmulatorCommandRefusesBadCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	b := newTestBundle(t, now.Add(-time.Hour), now.Add(24*time.Hour))
	for _, tt := range []struct {
		name, path, want string
	}{
		{"with its key", certFile(t, b.pem, "CERTIFICATE", "PRIVATE KEY"), "holds a private key"},
		{"key only", certFile(t, b.pem, "PRIVATE KEY"), "holds a private key"},
		{"no PEM", certFile(t, "not a certificate"), "holds no PEM certificate"},
		{"missing", filepath.Join(t.TempDir(), "nope.pem"), "cannot read the certificate"},
	} {
		cmd := exec.Command(os.Args[0], "emulator", "--certificate", tt.path)
		cmd.Env = []string{"EXOCAL_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitSetup || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s: got %v %q, want exit %d and %q", tt.name, err, out, exitSetup, tt.want)
		}
		b.assertNoKey(t, tt.name+": the output", string(out))
	}
}
