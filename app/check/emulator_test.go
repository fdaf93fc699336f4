package check

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/emulator"
)

// TestCorrectRegistrationPassesEveryStep: a first-time setup with a
// correct registration passes every step against the emulator.
func TestCorrectRegistrationPassesEveryStep(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var seen []Step
	// Progress is live: each step is reported before the next one talks to
	// the tenant (the emulator's token counter tells).
	tokensAt := map[string]int64{}
	start := time.Now()
	rep := Run(context.Background(), f.in, func(s Step) {
		seen = append(seen, s)
		tokensAt[s.ID] = f.srv.Stats().TokenRequests
	})
	if tokensAt[StepRegistration] != 0 || tokensAt[StepToken] != 1 {
		t.Errorf("token requests seen at progress: got %d after the registration step and %d after the token step, want 0 and 1",
			tokensAt[StepRegistration], tokensAt[StepToken])
	}
	t.Logf("check against the emulator took %s (%d steps)", time.Since(start).Round(time.Millisecond), len(rep.Steps))
	if !rep.OK() || rep.ExitCode() != ExitOK {
		t.Fatalf("got OK %v exit %d, want true 0:\n%s", rep.OK(), rep.ExitCode(), stepsSummary(rep))
	}
	for _, s := range rep.Steps {
		if s.State != StateOK {
			t.Errorf("step %s: got %s (%s), want ok", s.ID, s.State, s.Finding)
		}
	}
	wantIDs := []string{StepSettings, StepRegistration, StepToken, StepClaims, StepAutodiscover, StepEWS, StepUserCalendar}
	for range f.mailboxes[1:] {
		wantIDs = append(wantIDs, StepMailbox)
	}
	wantIDs = append(wantIDs, StepSubscription)
	if len(rep.Steps) != len(wantIDs) {
		t.Fatalf("got %d steps, want %d:\n%s", len(rep.Steps), len(wantIDs), stepsSummary(rep))
	}
	for i, id := range wantIDs {
		if rep.Steps[i].ID != id {
			t.Errorf("step %d: got %s, want %s", i, rep.Steps[i].ID, id)
		}
	}
	if len(seen) != len(rep.Steps) {
		t.Errorf("progress: got %d calls, want %d", len(seen), len(rep.Steps))
	}
	for i := range seen {
		if seen[i].ID != rep.Steps[i].ID || seen[i].Mailbox != rep.Steps[i].Mailbox {
			t.Errorf("progress %d: got %s %s, want %s %s", i, seen[i].ID, seen[i].Mailbox, rep.Steps[i].ID, rep.Steps[i].Mailbox)
		}
	}
	ad, _ := rep.Step(StepAutodiscover)
	if !strings.Contains(ad.Finding, "SOAP autodiscover") || !strings.Contains(ad.Finding, f.srv.EWSURL()) {
		t.Errorf("autodiscover finding: got %q, want the SOAP path and %s", ad.Finding, f.srv.EWSURL())
	}
	if len(f.rec.All()) == 0 {
		t.Fatal("no token was recorded; the no-secret assertion would be empty")
	}
	assertNoSecrets(t, rep, []string{emuSecret}, f.rec.All())
}

// TestFindings runs the chain against the emulator in each failure mode it
// offers and checks where the chain stops and what it says.
func TestFindings(t *testing.T) {
	t.Parallel()
	otherGUID := "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"
	tests := []struct {
		name  string
		emu   func(*emulator.Options)
		setup func(*testing.T, *fixture)
		// the step that decides the outcome
		step  string
		state State
		cause Cause
		// substrings of Finding and of Fix (fill-ins use the fixture)
		finding, fix []string
		exit         int
		// skippedAfter: every step after `step` is skipped
		skippedAfter bool
		secret       string // the secret used, for the no-secret assertion ("-": none)
	}{
		{
			name: "wrong secret",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.ClientSecret = "Wrong~secret-value-0000000000000000000" })
			},
			step: StepToken, state: StateFailed, cause: CauseInvalidSecret,
			finding: []string{"AADSTS7000215"}, fix: []string{"Certificates & secrets", "Value", emuClientID, "exocal secret set"},
			exit: ExitSetup, skippedAfter: true, secret: "Wrong~secret-value-0000000000000000000",
		},
		{
			name: "secret ID pasted instead of value",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.ClientSecret = "7c1e2d3f-4a5b-4c6d-8e7f-901a2b3c4d5e" })
			},
			step: StepToken, state: StateFailed, cause: CauseSecretIDNotValue,
			finding: []string{"AADSTS7000215", "GUID", "ID, not its Value"}, fix: []string{"Value column", "Secret ID"},
			exit: ExitSetup, skippedAfter: true, secret: "7c1e2d3f-4a5b-4c6d-8e7f-901a2b3c4d5e",
		},
		{
			name: "Client ID pasted as the secret",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.ClientSecret = emuClientID })
			},
			step: StepRegistration, state: StateFailed, cause: CauseSecretIDNotValue,
			finding: []string{"holds the Client ID"}, fix: []string{"Value column", emuClientID},
			exit: ExitSetup, skippedAfter: true, secret: "-",
		},
		{
			name: "expired secret", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeExpiredSecret} },
			step: StepToken, state: StateFailed, cause: CauseSecretExpired,
			finding: []string{"expired", "AADSTS7000222"}, fix: []string{"Certificates & secrets", "New client secret", "Value", "certificate"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "unknown app, single tenant",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.ClientID = otherGUID })
			},
			step: StepToken, state: StateFailed, cause: CauseAppNotFound,
			finding: []string{"AADSTS700016", otherGUID, emuTenantID}, fix: []string{"Application (client) ID", "Directory (tenant) ID", "Supported account is \"single\""},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "unknown app, multi-tenant without consent",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.ClientID = otherGUID })
				f.in.Settings.SupportedAccount = config.AccountMulti
			},
			step: StepToken, state: StateFailed, cause: CauseAppNotFound,
			finding: []string{"AADSTS700016"}, fix: []string{"Supported account is \"multi\"", "/adminconsent?client_id=" + otherGUID},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "unknown tenant",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.TenantID = otherGUID })
			},
			step: StepToken, state: StateFailed, cause: CauseTenantNotFound,
			finding: []string{"AADSTS90002", otherGUID}, fix: []string{"Directory (tenant) ID", "exocal config set tenant_id"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "tenant given as common",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.TenantID = "common" })
			},
			step: StepRegistration, state: StateFailed, cause: CauseTenantAlias,
			finding: []string{"\"common\"", "alias"}, fix: []string{"Directory (tenant) ID", "exocal config set tenant_id"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "tenant given as organizations",
			setup: func(t *testing.T, f *fixture) {
				f.setRegistration(t, func(r *secrets.Registration) { r.TenantID = "organizations" })
			},
			step: StepRegistration, state: StateFailed, cause: CauseTenantAlias,
			finding: []string{"\"organizations\""}, exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "no admin consent", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeNoConsent} },
			step: StepClaims, state: StateFailed, cause: CauseConsentMissing,
			finding: []string{"no roles", "admin consent"}, fix: []string{"API permissions", "Grant admin consent for", emuTenantID, "Wait a few minutes"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "EWS disabled for the tenant", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeEWSDisabled} },
			step: StepEWS, state: StateFailed, cause: CauseEWSDisabled,
			finding: []string{"403", "X-EWS-Policy-Reason"},
			fix: []string{"Connect-ExchangeOnline", "Format-List EwsEnabled,EwsAllowedAppIDs", "Set-OrganizationConfig -EwsEnabled $true",
				"Set-OrganizationConfig -EwsAllowedAppIDs", "'" + emuClientID + "'", "24 hours", "1 Apr 2027", "Graph"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "app not allow-listed", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeNotAllowlisted} },
			step: StepEWS, state: StateFailed, cause: CauseEWSNotAllowlisted,
			finding: []string{"EwsAllowedAppIDs", "403"}, fix: []string{"Set-OrganizationConfig -EwsAllowedAppIDs", emuClientID, "24 hours", "1 Apr 2027"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "autodiscover 401 (security defaults), V2 fallback",
			emu:  func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeAutodiscover401} },
			step: StepAutodiscover, state: StateWarning, cause: CauseAutodiscoverSecurityDefaults,
			finding: []string{"refused the token", "security defaults", "Autodiscover V2", "/EWS/Exchange.asmx"},
			fix:     []string{"exocal config set ews_url http://127.0.0.1:", "exocal config set autodiscover_url http://127.0.0.1:", "/autodiscover/autodiscover.xml"},
			exit:    ExitOK,
		},
		{
			// The advice above, followed: the alternative server is a POX
			// endpoint and is asked by POX, so the step passes.
			name: "autodiscover 401, alternative POX server configured",
			emu:  func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeAutodiscover401} },
			setup: func(t *testing.T, f *fixture) {
				f.in.Settings.AutodiscoverURL = f.srv.URL() + "/autodiscover/autodiscover.xml"
			},
			step: StepAutodiscover, state: StateOK, cause: CauseNone,
			finding: []string{"POX autodiscover at http://127.0.0.1:", "/autodiscover/autodiscover.xml found http://127.0.0.1:", "/EWS/Exchange.asmx"},
			exit:    ExitOK,
		},
		{
			name:  "authority not Microsoft's and no autodiscover URL",
			setup: func(t *testing.T, f *fixture) { f.in.Settings.AutodiscoverURL = "" },
			step:  StepSettings, state: StateFailed, cause: CauseSettingsInvalid,
			finding: []string{"Autodiscover URL"}, fix: []string{"no default autodiscover server", "or set the EWS URL", "exocal config set KEY VALUE"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "secret_expires setting passed",
			setup: func(t *testing.T, f *fixture) {
				f.in.SecretExpires = time.Now().AddDate(0, 0, -3)
			},
			step: StepRegistration, state: StateWarning, cause: CauseSecretExpiryPassed,
			finding: []string{"has passed"}, fix: []string{"New client secret", "exocal config set secret_expires"}, exit: ExitOK,
		},
		{
			name: "tenant alias from EXOCAL_TENANT_ID",
			setup: func(t *testing.T, f *fixture) {
				f.in.Store = secrets.Env{Base: f.in.Store, Getenv: envOf(secrets.EnvTenantID, "common")}
			},
			step: StepRegistration, state: StateFailed, cause: CauseTenantAlias,
			finding: []string{`"common"`}, fix: []string{"EXOCAL_TENANT_ID is set and overrides the keyring", "unset EXOCAL_TENANT_ID", "export EXOCAL_TENANT_ID=<Directory (tenant) ID>"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "invalid client ID from EXOCAL_CLIENT_ID",
			setup: func(t *testing.T, f *fixture) {
				f.in.Store = secrets.Env{Base: f.in.Store, Getenv: envOf(secrets.EnvClientID, "my-app")}
			},
			step: StepRegistration, state: StateFailed, cause: CauseRegistrationInvalid,
			finding: []string{"Client ID is not valid"}, fix: []string{"unset EXOCAL_CLIENT_ID", "export EXOCAL_CLIENT_ID=<Application (client) ID>"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "wrong secret from EXOCAL_CLIENT_SECRET",
			setup: func(t *testing.T, f *fixture) {
				f.in.Store = secrets.Env{Base: f.in.Store, Getenv: envOf(secrets.EnvClientSecret, "Wrong~secret-value-0000000000000000000")}
			},
			step: StepToken, state: StateFailed, cause: CauseInvalidSecret,
			finding: []string{"AADSTS7000215"}, fix: []string{"EXOCAL_CLIENT_SECRET is set and overrides the keyring", "unset EXOCAL_CLIENT_SECRET"},
			exit: ExitSetup, skippedAfter: true, secret: "Wrong~secret-value-0000000000000000000",
		},
		{
			name: "conditional access blocks the app", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeConditionalAccess} },
			step: StepToken, state: StateFailed, cause: CauseConditionalAccess,
			finding: []string{"Conditional Access", "AADSTS53003"}, fix: []string{"workload identities", "Service principal sign-ins", emuClientID, "correlation ID"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "tenant in another cloud", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeWrongCloud} },
			step: StepToken, state: StateFailed, cause: CauseWrongCloud,
			finding: []string{"another Microsoft cloud", "AADSTS90038", emuTenantID}, fix: []string{"https://login.microsoftonline.us", "exocal config set authority_host"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "app disabled", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeAppDisabled} },
			step: StepToken, state: StateFailed, cause: CauseAppNotFound,
			finding: []string{"disabled", "AADSTS7000112", emuClientID}, fix: []string{"Enterprise applications", emuClientID, "Enabled for users to sign in?"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "consent required (AADSTS65001)", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeConsentRequired} },
			step: StepToken, state: StateFailed, cause: CauseConsentMissing,
			finding: []string{"AADSTS65001", "no consent", emuTenantID}, fix: []string{"API permissions", "Grant admin consent for", emuTenantID, "Wait a few minutes"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "roles without full_access_as_app", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeMissingRole} },
			step: StepClaims, state: StateFailed, cause: CauseMissingRole,
			finding: []string{"Calendars.Read", "not full_access_as_app", "manifest"},
			fix:     []string{"Manifest", `"resourceAppId": "00000002-0000-0ff1-ce00-000000000000"`, `"id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40"`, `"type": "Role"`, "Grant admin consent"},
			exit:    ExitSetup, skippedAfter: true,
		},
		{
			name: "consent not yet in Exchange: roles in the token, EWS 401 2000008", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeConsentPropagating} },
			step: StepEWS, state: StateFailed, cause: CauseConsentMissing,
			finding: []string{"HTTP 401", "2000008", "carries full_access_as_app", "has not reached Exchange Online yet"}, fix: []string{"Grant admin consent for", emuTenantID, "Wait a few minutes"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "Entra's Date ten minutes ahead", emu: func(o *emulator.Options) { o.Modes = []emulator.Mode{emulator.ModeSkewedDate} },
			step: StepToken, state: StateWarning, cause: CauseClockSkew,
			finding: []string{"behind", "Entra", "server Date"}, fix: []string{"timedatectl set-ntp true"}, exit: ExitOK,
		},
		{
			name:  "User's mailbox without an EWS licence",
			setup: func(t *testing.T, f *fixture) { f.srv.SetUnlicensedMailboxes(f.mailboxes[0]) },
			step:  StepUserCalendar, state: StateFailed, cause: CauseEWSUnlicensed,
			finding: []string{"403", "{user}", "without X-EWS-Policy-Reason", "Inferred", "F1/F3/Kiosk"},
			fix:     []string{"Licenses", "Get-CASMailbox -Identity {user}", "Set-CASMailbox -Identity {user} -EwsEnabled $true"},
			exit:    ExitFailed,
		},
		{
			name:  "other mailbox without an EWS licence",
			setup: func(t *testing.T, f *fixture) { f.srv.SetUnlicensedMailboxes(f.mailboxes[2]) },
			step:  StepMailbox, state: StateFailed, cause: CauseEWSUnlicensed,
			finding: []string{"403", "{mb2}", "F1/F3/Kiosk"}, fix: []string{"Get-CASMailbox -Identity {mb2}"},
			exit: ExitFailed,
		},
		{
			name:  "in-tenant mailbox outside the application access policy / RBAC scope",
			setup: func(t *testing.T, f *fixture) { f.srv.SetOutOfScopeMailboxes(f.mailboxes[1]) },
			step:  StepMailbox, state: StateFailed, cause: CauseMailboxAccessDenied,
			finding: []string{"{mb1}", "ErrorAccessDenied"},
			fix:     []string{"Test-ApplicationAccessPolicy -Identity {mb1} -AppId " + emuClientID, "RBAC for Applications", "Test-ServicePrincipalAuthorization -Identity " + emuClientID + " -Resource {mb1}"},
			exit:    ExitFailed,
		},
		{
			name:  "User's mailbox outside the app's scope",
			setup: func(t *testing.T, f *fixture) { f.srv.SetOutOfScopeMailboxes(f.mailboxes[0]) },
			step:  StepUserCalendar, state: StateFailed, cause: CauseMailboxAccessDenied,
			finding: []string{"{user}", "ErrorAccessDenied"}, fix: []string{"Test-ApplicationAccessPolicy -Identity {user}"},
			exit: ExitFailed,
		},
		{
			name: "unknown mailbox",
			setup: func(t *testing.T, f *fixture) {
				f.in.Settings.Mailboxes = append(f.in.Settings.Mailboxes, "nobody@contoso.onmicrosoft.com")
			},
			step: StepMailbox, state: StateFailed, cause: CauseMailboxNotFound,
			finding: []string{"nobody@contoso.onmicrosoft.com", "ErrorNonExistentMailbox"}, fix: []string{"primary SMTP address", "Get-Mailbox -Identity nobody@contoso.onmicrosoft.com"},
			exit: ExitFailed,
		},
		{
			name: "mailbox outside the app's scope",
			setup: func(t *testing.T, f *fixture) {
				f.in.Settings.Mailboxes = append(f.in.Settings.Mailboxes, "ceo@fabrikam.com")
			},
			step: StepMailbox, state: StateFailed, cause: CauseMailboxAccessDenied,
			finding: []string{"ceo@fabrikam.com", "ErrorImpersonateUserDenied"},
			fix:     []string{"Test-ApplicationAccessPolicy -Identity ceo@fabrikam.com -AppId " + emuClientID, "RBAC for Applications", "Test-ServicePrincipalAuthorization"},
			exit:    ExitFailed,
		},
		{
			name:  "unknown User",
			setup: func(t *testing.T, f *fixture) { f.in.Settings.User = "ghost@contoso.onmicrosoft.com" },
			step:  StepAutodiscover, state: StateFailed, cause: CauseAutodiscoverUserUnknown,
			finding: []string{"ghost@contoso.onmicrosoft.com"}, fix: []string{"exocal config set user"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "unknown User with a configured EWS URL",
			setup: func(t *testing.T, f *fixture) {
				f.in.Settings.User = "ghost@contoso.onmicrosoft.com"
				f.in.Settings.EWSURL = f.srv.EWSURL()
			},
			step: StepUserCalendar, state: StateFailed, cause: CauseMailboxNotFound,
			finding: []string{"ghost@contoso.onmicrosoft.com"}, exit: ExitFailed,
		},
		{
			name:  "EWS URL configured skips autodiscover",
			setup: func(t *testing.T, f *fixture) { f.in.Settings.EWSURL = f.srv.EWSURL() },
			step:  StepAutodiscover, state: StateOK, finding: []string{"Skipped autodiscover", "/EWS/Exchange.asmx"}, exit: ExitOK,
		},
		{
			name: "clock ten minutes fast",
			setup: func(t *testing.T, f *fixture) {
				f.in.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
			},
			step: StepToken, state: StateWarning, cause: CauseClockSkew,
			finding: []string{"ahead of", "Entra"}, fix: []string{"timedatectl"}, exit: ExitOK,
		},
		{
			name: "secret expires in a week",
			setup: func(t *testing.T, f *fixture) {
				f.in.SecretExpires = time.Now().Add(7*24*time.Hour + time.Hour)
			},
			step: StepRegistration, state: StateWarning, cause: CauseSecretExpiring,
			finding: []string{"expires on", "in 7 day(s)"}, fix: []string{"New client secret"}, exit: ExitOK,
		},
		{
			name:  "sync disabled",
			setup: func(t *testing.T, f *fixture) { f.in.Settings.SyncType = config.SyncDisabled },
			step:  StepSettings, state: StateFailed, cause: CauseSyncDisabled,
			fix: []string{"exocal config set sync_type ews"}, exit: ExitSetup, skippedAfter: true,
		},
		{
			name:  "invalid settings",
			setup: func(t *testing.T, f *fixture) { f.in.Settings.MaxSubscriptionsPerConnection = 0 },
			step:  StepSettings, state: StateFailed, cause: CauseSettingsInvalid,
			finding: []string{"Max subscriptions per connection"}, fix: []string{"1 to 200"}, exit: ExitSetup, skippedAfter: true,
		},
		{
			name:  "registration missing",
			setup: func(t *testing.T, f *fixture) { f.in.Store = secrets.NewMemory() },
			step:  StepRegistration, state: StateFailed, cause: CauseRegistrationMissing,
			finding: []string{"Tenant ID, Client ID, Client Secret"}, fix: []string{"exocal secret set", "EXOCAL_CLIENT_SECRET"},
			exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "keyring locked",
			setup: func(t *testing.T, f *fixture) {
				f.in.Store = failingStore{&secrets.KeyringError{Reason: secrets.ReasonLocked, Op: "read"}}
			},
			step: StepRegistration, state: StateFailed, cause: CauseKeyringUnavailable,
			finding: []string{"locked"}, fix: []string{"Unlock", "EXOCAL_TENANT_ID"}, exit: ExitSetup, skippedAfter: true,
		},
		{
			name: "no secret service",
			setup: func(t *testing.T, f *fixture) {
				f.in.Store = failingStore{&secrets.KeyringError{Reason: secrets.ReasonNoService, Op: "read"}}
			},
			step: StepRegistration, state: StateFailed, cause: CauseKeyringUnavailable,
			finding: []string{"Secret Service"}, fix: []string{"GNOME Keyring"}, exit: ExitSetup, skippedAfter: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.emu)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			rep := Run(context.Background(), f.in, nil)
			var text strings.Builder
			rep.WriteText(&text)
			t.Log("\n" + text.String())
			idx := -1
			for i, s := range rep.Steps {
				if s.ID == tt.step && (tt.step != StepMailbox || s.State == tt.state) {
					idx = i
					break
				}
			}
			if idx < 0 {
				t.Fatalf("no step %s with state %s:\n%s", tt.step, tt.state, stepsSummary(rep))
			}
			s := rep.Steps[idx]
			if s.State != tt.state || s.Cause != tt.cause {
				t.Fatalf("step %s: got %s/%q, want %s/%q:\n%s", s.ID, s.State, s.Cause, tt.state, tt.cause, stepsSummary(rep))
			}
			assertWording(t, s, f.fill(tt.finding), f.fill(tt.fix))
			for _, st := range rep.Steps {
				assertPunctuation(t, st.Title+": "+st.Finding+"\n"+st.Fix)
			}
			for _, prev := range rep.Steps[:idx] {
				if prev.State == StateFailed || prev.State == StateSkipped {
					t.Errorf("step %s before %s: got %s (%s), want it to pass", prev.ID, s.ID, prev.State, prev.Finding)
				}
			}
			if tt.skippedAfter {
				if idx == len(rep.Steps)-1 {
					t.Errorf("no steps after %s, want the rest skipped", s.ID)
				}
				for _, after := range rep.Steps[idx+1:] {
					if after.State != StateSkipped || !strings.Contains(after.Finding, s.Title) {
						t.Errorf("step %s after %s: got %s (%s), want skipped naming %q", after.ID, s.ID, after.State, after.Finding, s.Title)
					}
				}
			}
			if got := rep.ExitCode(); got != tt.exit {
				t.Errorf("exit code: got %d, want %d:\n%s", got, tt.exit, stepsSummary(rep))
			}
			if got, want := rep.OK(), tt.exit == ExitOK; got != want {
				t.Errorf("OK: got %v, want %v", got, want)
			}
			find := []string{emuSecret}
			if tt.secret != "" && tt.secret != "-" { // "-": the "secret" is a public ID and must stay readable
				find = append(find, tt.secret)
			}
			assertNoSecrets(t, rep, find, f.rec.All())
		})
	}
}

// badPunctuation matches doubled sentence marks (".;", "..", ". ." but not
// an ellipsis "...") and a space before a colon.
var badPunctuation = regexp.MustCompile(`[.;,]\s*[;,]|[^.]\.\s*\.(?:[^.]|$)| :`)

// assertPunctuation checks a text for doubled punctuation.
func assertPunctuation(t *testing.T, text string) {
	t.Helper()
	if m := badPunctuation.FindString(text); m != "" {
		t.Errorf("got %q in\n%s", m, text)
	}
}

// envOf is a Getenv with one variable set.
func envOf(name, value string) func(string) string {
	return func(k string) string {
		if k == name {
			return value
		}
		return ""
	}
}

// failingStore is a secrets.Store whose Get fails.
type failingStore struct{ err error }

func (s failingStore) Get(context.Context, string) (secrets.Registration, error) {
	return secrets.Registration{}, s.err
}
func (s failingStore) Set(context.Context, string, secrets.Registration) error { return s.err }
func (s failingStore) Delete(context.Context, string) error                    { return s.err }

// fill replaces {user}, {mb1} and {mb2} with the fixture's mailboxes (the
// User is the first).
func (f *fixture) fill(want []string) []string {
	pairs := []string{"{user}", f.mailboxes[0]}
	for i, m := range f.mailboxes[1:] {
		pairs = append(pairs, fmt.Sprintf("{mb%d}", i+1), m)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]string, len(want))
	for i, w := range want {
		out[i] = r.Replace(w)
	}
	return out
}
