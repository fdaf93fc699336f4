package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/emulator"
	emutenant "github.com/exocal/exocal/sync/emulator/tenant"
)

// failingSecrets is a secrets.Store whose Get fails.
type failingSecrets struct{ err error }

func (s failingSecrets) Get(context.Context, string) (secrets.Registration, error) {
	return secrets.Registration{}, s.err
}
func (s failingSecrets) Set(context.Context, string, secrets.Registration) error { return s.err }
func (s failingSecrets) Delete(context.Context, string) error                    { return s.err }

// App.Check checks the values given, not the saved ones: secret "" means
// the stored secret, a typed one wins, and a keyring that cannot be read

// glueTenant starts an emulated tenant that accepts secret for the glue
// tests' tenant and client IDs, and returns it with settings (as typed
// into the form) that point at it.
func glueTenant(t *testing.T, secret string, heartbeat time.Duration) (*emulator.Server, config.Settings) {
	t.Helper()
	tn := emutenant.Generate(emutenant.Config{Seed: 5, Mailboxes: 1, Events: 1, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: glueTenantID, ClientID: glueClientID, ClientSecret: secret, Seed: 5, Heartbeat: heartbeat})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	form := config.Defaults()
	form.User = tn.Mailboxes()[0]
	form.AutodiscoverURL = srv.URL()
	form.AuthorityHost = srv.URL()
	form.ExportDir = t.TempDir()
	return srv, form
}

const (
	glueTenantID = "5d1c0a2b-3e4f-4a5b-8c6d-7e8f90a1b2c3"
	glueClientID = "9b8a7c6d-5e4f-4321-8fed-cba987654321"
)

// is the registration step's finding. Nothing is saved.
func TestCheckUsesFormValues(t *testing.T) {
	const (
		tenantID, clientID = glueTenantID, glueClientID
		stored             = "Qz7~glue-test-stored-secret.AbCdEf0123"
	)
	_, form := glueTenant(t, stored, 200*time.Millisecond)
	for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret} {
		t.Setenv(env, "")
	}

	tests := []struct {
		name   string
		store  secrets.Store
		secret string
		step   string
		state  check.State
		cause  check.Cause
	}{
		{"stored secret", nil, "", check.StepSubscription, check.StateOK, ""},
		{"typed secret wins", nil, "Wrong~typed-secret-000000000000", check.StepToken, check.StateFailed, check.CauseInvalidSecret},
		{"nothing stored", secrets.NewMemory(), "", check.StepRegistration, check.StateFailed, check.CauseRegistrationMissing},
		{"keyring locked", failingSecrets{&secrets.KeyringError{Reason: secrets.ReasonLocked, Op: "read"}}, "",
			check.StepRegistration, check.StateFailed, check.CauseKeyringUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			if store == nil {
				mem := secrets.NewMemory()
				if err := mem.Set(context.Background(), secrets.DefaultProfile,
					secrets.Registration{TenantID: tenantID, ClientID: clientID, ClientSecret: stored}); err != nil {
					t.Fatal(err)
				}
				store = mem
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.json")
			a, err := New(Options{ConfigPath: cfg, Secrets: store, SocketPath: filepath.Join(dir, "s.sock")})
			if err != nil {
				t.Fatal(err)
			}
			var seen int
			rep := a.Check(context.Background(), form, " "+tenantID+" ", clientID, tt.secret, func(check.Step) { seen++ })
			st, ok := rep.Step(tt.step)
			if !ok || st.State != tt.state || st.Cause != tt.cause {
				t.Fatalf("step %s: got %v %s/%q (%s), want %s/%q", tt.step, ok, st.State, st.Cause, st.Finding, tt.state, tt.cause)
			}
			if seen != len(rep.Steps) {
				t.Errorf("progress: got %d calls, want %d", seen, len(rep.Steps))
			}
			for _, out := range []string{rep.Details(), rep.Summary()} {
				if strings.Contains(out, stored) || tt.secret != "" && strings.Contains(out, tt.secret) {
					t.Errorf("report shows a secret:\n%s", out)
				}
			}
			if _, err := config.Load(cfg); err != nil {
				t.Fatal(err)
			}
			if s := a.Settings(); s.User == form.User {
				t.Errorf("settings: got the checked values saved, want nothing saved")
			}
			if tt.store == nil {
				r, err := store.Get(context.Background(), secrets.DefaultProfile)
				if err != nil || r.ClientSecret != stored || r.TenantID != tenantID {
					t.Errorf("keyring: got %v, %v; want the stored registration unchanged", r, err)
				}
			}
		})
	}
}

func TestFindAutodiscoverServer(t *testing.T) {
	tn := emutenant.Generate(emutenant.Config{Seed: 5, Mailboxes: 1, Events: 1, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: "t", ClientID: "c", ClientSecret: "s", Seed: 5})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	a, err := New(Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: secrets.NewMemory(), SocketPath: filepath.Join(dir, "s.sock")})
	if err != nil {
		t.Fatal(err)
	}
	s := config.Defaults()
	s.User = tn.Mailboxes()[0]
	s.AutodiscoverURL = srv.URL()
	s.AuthorityHost = srv.URL()
	got, err := a.FindAutodiscoverServer(context.Background(), s)
	if err != nil || !strings.HasPrefix(got, srv.URL()) {
		t.Errorf("got %q, %v; want a server at %s", got, err, srv.URL())
	}
}

// With the Tenant ID or the secret supplied by an EXOCAL_* variable (the
// App's store is a secrets.Env), Test connection's fixes say to correct or
// unset the variable, as `exocal check` does; `exocal config set` or the
// settings window alone cannot change a value the variable overrides.
func TestCheckNamesEnvVariables(t *testing.T) {
	const (
		tenantID, clientID = glueTenantID, glueClientID
		stored             = "Qz7~glue-test-stored-secret.AbCdEf0123"
		wrong              = "Wrong~env-secret-00000000000000000"
	)
	_, form := glueTenant(t, stored, 0)

	tests := []struct {
		name          string
		env           map[string]string
		tenant        string // the form's Tenant ID (the settings window shows the variable's)
		step          string
		cause         check.Cause
		want, notWant string
	}{
		{"secret from EXOCAL_CLIENT_SECRET", map[string]string{secrets.EnvClientSecret: wrong}, tenantID,
			check.StepToken, check.CauseInvalidSecret,
			"EXOCAL_CLIENT_SECRET is set and overrides the keyring", "the settings window's Client Secret field"},
		{"secret from the keyring", nil, tenantID,
			check.StepToken, check.CauseNone, "", ""},
		{"tenant from EXOCAL_TENANT_ID", map[string]string{secrets.EnvTenantID: "organizations"}, "organizations",
			check.StepRegistration, check.CauseTenantAlias,
			"unset EXOCAL_TENANT_ID", "\n  exocal config set tenant_id"},
		{"tenant from the keyring", nil, "organizations",
			check.StepRegistration, check.CauseTenantAlias,
			"\n  exocal config set tenant_id", "EXOCAL_TENANT_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, env := range []string{secrets.EnvTenantID, secrets.EnvClientID, secrets.EnvClientSecret, secrets.EnvClientCertificate} {
				t.Setenv(env, tt.env[env])
			}
			mem := secrets.NewMemory()
			if err := mem.Set(context.Background(), secrets.DefaultProfile,
				secrets.Registration{TenantID: tenantID, ClientID: clientID, ClientSecret: stored}); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			a, err := New(Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: secrets.Env{Base: mem}, SocketPath: filepath.Join(dir, "s.sock")})
			if err != nil {
				t.Fatal(err)
			}
			rep := a.Check(context.Background(), form, tt.tenant, clientID, "", nil)
			st, ok := rep.Step(tt.step)
			if !ok || st.Cause != tt.cause {
				t.Fatalf("step %s: got %v %s/%q (%s), want %q", tt.step, ok, st.State, st.Cause, st.Finding, tt.cause)
			}
			if !strings.Contains(st.Fix, tt.want) {
				t.Errorf("fix: got\n%s\nwant %q in it", st.Fix, tt.want)
			}
			if tt.notWant != "" && strings.Contains(st.Fix, tt.notWant) {
				t.Errorf("fix: got\n%s\nwant no %q in it", st.Fix, tt.notWant)
			}
			if strings.Contains(rep.Details(), wrong) || strings.Contains(rep.Details(), stored) {
				t.Errorf("report shows a secret:\n%s", rep.Details())
			}
		})
	}
}

// With ews_debug on in the form, Test connection writes its exchanges to
// the sync's protocol debug log ($XDG_CACHE_HOME/exocal/ews-debug.log).
func TestCheckWritesDebugLog(t *testing.T) {
	const (
		tenantID, clientID = glueTenantID, glueClientID
		secret             = "Qz7~glue-test-typed-secret.AbCdEf0123"
	)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	_, form := glueTenant(t, secret, 0)
	dir := t.TempDir()
	a, err := New(Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: secrets.NewMemory(), SocketPath: filepath.Join(dir, "s.sock")})
	if err != nil {
		t.Fatal(err)
	}
	form.EWSDebug = true
	if rep := a.Check(context.Background(), form, tenantID, clientID, secret, nil); !rep.OK() {
		t.Fatalf("got a failed check, want OK:\n%s", rep.Details())
	}
	raw, err := os.ReadFile(filepath.Join(cache, "exocal", "ews-debug.log"))
	if err != nil {
		t.Fatalf("got %v, want the protocol debug log", err)
	}
	for _, want := range []string{"autodiscover soap request", "GetFolder request"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("got a debug log without %q", want)
		}
	}
	if strings.Contains(string(raw), secret) {
		t.Errorf("got the client secret in the debug log")
	}
}
