package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/ews"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	s := config.Defaults()
	s.User = "alice@contoso.com"
	wrap := func(err error) error { return fmt.Errorf("engine: sync alice@contoso.com: %w", err) }
	tests := []struct {
		name  string
		err   error
		cause Cause
		setup bool
		fix   string
	}{
		{"expired secret", wrap(&auth.EntraError{Code: "invalid_client", AADSTS: auth.AADSTSSecretExpired, HTTPStatus: 401}), CauseSecretExpired, true, "New client secret"},
		{"no roles", wrap(&auth.ClaimsError{Err: auth.ErrNoRoles, Want: auth.RoleFullAccessAsApp}), CauseConsentMissing, true, "Grant admin consent"},
		{"missing role", &auth.ClaimsError{Err: auth.ErrMissingRole, Want: auth.RoleFullAccessAsApp, Roles: []string{"Mail.Read"}}, CauseMissingRole, true, "dc890d15-9560-4a4c-9b7f-a736ec74ec40"},
		{"EWS blocked", wrap(&ews.Error{Op: "SyncFolderItems", HTTPStatus: 403, PolicyReason: "app not in the allow list"}), CauseEWSNotAllowlisted, true, "EwsAllowedAppIDs"},
		{"mailbox gone", wrap(&ews.Error{Op: "SyncFolderItems", Mailbox: "bob@contoso.com", HTTPStatus: 200, ResponseCode: "ErrorNonExistentMailbox"}), CauseMailboxNotFound, false, "Get-Mailbox -Identity bob@contoso.com"},
		{"autodiscover 401", &autodiscover.Error{Op: autodiscover.MethodSOAP, HTTPStatus: 401}, CauseAutodiscoverSecurityDefaults, true, "ews_url"},
		{"network", &auth.NetworkError{Op: "token request", Host: "login.microsoftonline.com", Kind: auth.NetworkDNS, Err: errors.New("no such host")}, CauseNetworkDNS, false, "HTTPS_PROXY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Explain(tt.err, s, emuTenantID, emuClientID, "")
			if got.Cause != tt.cause || got.Setup != tt.setup || !strings.Contains(got.Fix, tt.fix) || got.Finding == "" {
				t.Errorf("got %q setup=%v fix:\n%s\nwant %q setup=%v with %q", got.Cause, got.Setup, got.Fix, tt.cause, tt.setup, tt.fix)
			}
		})
	}
	// A secret from EXOCAL_CLIENT_SECRET (headless `exocal run`): the fix
	// names the variable, which `exocal secret set` cannot override.
	expired := wrap(&auth.EntraError{Code: "invalid_client", AADSTS: auth.AADSTSSecretExpired, HTTPStatus: 401})
	if got := explain(expired, s, emuTenantID, emuClientID, "", envOf(secrets.EnvClientSecret, "x")); !strings.Contains(got.Fix, "EXOCAL_CLIENT_SECRET is set and overrides the keyring") {
		t.Errorf("secret from the environment: got fix\n%s\nwant it to name EXOCAL_CLIENT_SECRET", got.Fix)
	}
	if got := explain(expired, s, emuTenantID, emuClientID, "", envOf("OTHER", "x")); strings.Contains(got.Fix, "is set and overrides") {
		t.Errorf("no variable: got fix\n%s\nwant no variable named", got.Fix)
	}
	if got := Explain(errors.New("something else"), s, "", "", ""); got.Cause != CauseNone || got.Finding != "" {
		t.Errorf("unknown error: got %+v, want nothing", got)
	}
}

func TestExpiryNotice(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		expires time.Time
		warn    bool
		say     string
	}{
		{time.Time{}, false, ""},
		{now.AddDate(0, 0, 30), false, ""},
		{now.AddDate(0, 0, 14), true, "in 14 day(s)"},
		{now.AddDate(0, 0, 3), true, "2026-11-30 (in 3 day(s))"},
		{now.AddDate(0, 0, -1), true, "expired on 2026-11-26"},
	}
	for _, tt := range tests {
		warn, msg := ExpiryNotice(now, tt.expires)
		if warn != tt.warn || !strings.Contains(msg, tt.say) {
			t.Errorf("ExpiryNotice(%s): got %v %q, want %v containing %q", tt.expires.Format(time.DateOnly), warn, msg, tt.warn, tt.say)
		}
	}
}

// TestExpiryNoticeFor: a secret from EXOCAL_CLIENT_SECRET (headless
// `exocal run`) is renewed in the variable, not in Settings; the finding
// and the fix stay split by the first ": " (the tray's withExpiry).
func TestExpiryNoticeFor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		from    SecretSource
		expires time.Time
		say     string
		not     string
	}{
		{"keyring soon", SecretInKeyring, now.AddDate(0, 0, 3), "(in 3 day(s)): create a new one in Entra and paste its Value in Settings.", secrets.EnvClientSecret},
		{"keyring past", SecretInKeyring, now.AddDate(0, 0, -1), "expired on 2026-11-26: create a new one in Entra and paste its Value in Settings.", secrets.EnvClientSecret},
		{"env soon", SecretInEnv, now.AddDate(0, 0, 3), "(in 3 day(s)): create a new one in Entra and put its Value in EXOCAL_CLIENT_SECRET", "Settings"},
		{"env past", SecretInEnv, now.AddDate(0, 0, -1), "expired on 2026-11-26: create a new one in Entra and put its Value in EXOCAL_CLIENT_SECRET", "Settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			warn, msg := ExpiryNoticeFor(now, tt.expires, tt.from)
			if !warn || !strings.Contains(msg, tt.say) || strings.Contains(msg, tt.not) {
				t.Errorf("got %v %q, want a warning with %q and without %q", warn, msg, tt.say, tt.not)
			}
			if finding, _, _ := strings.Cut(msg, ": "); strings.Contains(finding, "Value") {
				t.Errorf("got finding %q before the first \": \", want the date only", finding)
			}
		})
	}
	if warn, msg := ExpiryNoticeFor(now, now.AddDate(0, 0, 30), SecretInEnv); warn || msg != "" {
		t.Errorf("30 days ahead: got %v %q, want no warning", warn, msg)
	}
	for _, tt := range []struct {
		env  func(string) string
		want SecretSource
	}{
		{envOf(secrets.EnvClientSecret, "s3cr3t"), SecretInEnv},
		{envOf(secrets.EnvClientSecret, "  "), SecretInKeyring},
		{envOf("OTHER", "x"), SecretInKeyring},
	} {
		if got := SecretSourceOf(tt.env); got != tt.want {
			t.Errorf("SecretSourceOf: got %v, want %v", got, tt.want)
		}
	}
}

func TestFindAutodiscoverServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	got, err := FindAutodiscoverServer(context.Background(), f.in.Settings, nil)
	if want := f.srv.URL() + "/autodiscover/autodiscover.xml"; err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// TestDetails: the "Copy details" text names the setup and the technical
// record (Entra's correlation ID) and never the secret.
func TestDetails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.setRegistration(t, func(r *secrets.Registration) { r.ClientSecret = "Not~the-right-secret-but-a-secret-still-0000" })
	rep := Run(context.Background(), f.in, nil)
	d := rep.Details()
	for _, want := range []string{"Client ID: " + emuClientID, "Tenant ID: " + emuTenantID, "[failed] Token from Microsoft Entra ID",
		"cause: invalid-secret", "Correlation ID: ", "AADSTS7000215", "fix:", "[skipped]"} {
		if !strings.Contains(d, want) {
			t.Errorf("details: want %q in\n%s", want, d)
		}
	}
	assertNoSecrets(t, rep, []string{"Not~the-right-secret-but-a-secret-still-0000", emuSecret}, f.rec.All())
}

// TestCanceled: a canceled context ends the chain quickly with a finding,
// not a hang.
func TestCanceled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Run(ctx, f.in, nil)
	if rep.OK() {
		t.Fatalf("got OK with a canceled context:\n%s", stepsSummary(rep))
	}
	if s, _ := rep.Step(StepToken); s.State != StateFailed {
		t.Errorf("token step: got %s (%s), want failed", s.State, s.Finding)
	}
}
