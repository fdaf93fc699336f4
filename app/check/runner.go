package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/ews"
)

// runner is one walk of the chain.
type runner struct {
	ctx      context.Context
	in       Input
	progress func(Step)
	rep      Report
	// gate is the title of the required step that failed ("" while every
	// required step passed); the steps after it are skipped.
	gate string

	f       facts
	base    *http.Client
	dates   *dateRecorder
	tokens  *auth.TokenSource
	cloud   auth.Cloud
	authed  *http.Client
	ewsURL  string
	client  *ews.Client
	userErr error
	userRan bool
	// debug is the protocol debug log (ews_debug on), nil when off.
	debug *ews.DebugLog
}

func newRunner(ctx context.Context, in Input, progress func(Step)) *runner {
	r := &runner{ctx: ctx, in: in, progress: progress}
	r.rep.Started = in.Now()
	r.rep.User = in.Settings.User
	r.base, r.dates = newBaseClient(in.HTTPClient, in.StepTimeout)
	r.f = facts{
		supportedAccount: in.Settings.SupportedAccount, authority: in.Settings.AuthorityHost,
		user: in.Settings.User, pollInterval: time.Duration(in.Settings.PollInterval),
		secretExpires: in.SecretExpires, getenv: in.Getenv, stepTimeout: in.StepTimeout, now: in.Now(),
	}
	if r.f.authority == "" {
		r.f.authority = config.DefaultAuthorityHost
	}
	return r
}

// emit finishes a step: scrubs it, records it and reports progress.
func (r *runner) emit(s Step) {
	s.Title = redact(s.Title, r.rep.scrub)
	s.Finding = redact(s.Finding, r.rep.scrub)
	s.Fix = redact(s.Fix, r.rep.scrub)
	s.Detail = redact(s.Detail, r.rep.scrub)
	r.rep.Steps = append(r.rep.Steps, s)
	if r.progress != nil {
		r.progress(s)
	}
}

// step runs fn for a step unless an earlier required step failed; a
// failure of a gating step skips what follows.
func (r *runner) step(id, title string, gating bool, fn func(*Step)) {
	s := Step{ID: id, Title: title, Required: true}
	if r.gate != "" {
		r.emit(skipped(s, r.gate))
		return
	}
	start := time.Now()
	fn(&s)
	s.Elapsed = time.Since(start)
	if gating && s.Required && s.State == StateFailed {
		r.gate = s.Title
	}
	r.emit(s)
}

func skipped(s Step, because string) Step {
	s.State = StateSkipped
	s.Cause = CauseSkipped
	s.Finding = "Skipped: \"" + because + "\" did not pass."
	return s
}

func (s *Step) fail(fd finding, err error) {
	s.State = StateFailed
	s.set(fd, err)
}

func (s *Step) warn(fd finding, err error) {
	s.State = StateWarning
	s.set(fd, err)
}

func (s *Step) set(fd finding, err error) {
	s.Cause, s.Finding, s.Fix = fd.cause, fd.finding, fd.fix
	if err != nil {
		s.Detail = err.Error()
	}
}

func (r *runner) stepCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, r.in.StepTimeout)
}

// registrationTitle is the registration step's title until the step knows
// where the values come from (checkRegistration retitles it).
const registrationTitle = "App registration in the keyring"

func (r *runner) run() {
	r.step(StepSettings, "Settings are valid", true, r.checkSettings)
	r.step(StepRegistration, registrationTitle, true, r.checkRegistration)
	r.step(StepToken, "Token from Microsoft Entra ID", true, r.checkToken)
	r.step(StepClaims, "Token permissions (full_access_as_app)", true, r.checkClaims)
	r.step(StepAutodiscover, "Autodiscover finds the EWS URL", true, r.checkAutodiscover)
	r.step(StepEWS, "EWS reachable and allowed for this app", true, r.checkEWS)
	r.step(StepUserCalendar, r.userCalendarTitle(), false, r.checkUserCalendar)
	r.checkMailboxes()
	r.checkSubscription()
}

// userCalendarTitle is the title of the User's calendar step.
func (r *runner) userCalendarTitle() string {
	if u := strings.TrimSpace(r.in.Settings.User); u != "" {
		return "Calendar of the User " + u
	}
	return "Calendar of the User"
}

// --- settings ---------------------------------------------------------------

func (r *runner) checkSettings(st *Step) {
	in := r.in
	where := "the settings window"
	if in.SettingsPath != "" {
		where = in.SettingsPath
	}
	if in.SettingsErr != nil {
		st.fail(finding{CauseSettingsUnreadable, "The settings cannot be read.",
			"Fix the file " + where + " or delete it to start from the defaults, then enter the settings again."}, in.SettingsErr)
		return
	}
	s := in.Settings
	if s.SyncType == config.SyncDisabled {
		st.fail(finding{CauseSyncDisabled, "Sync-Type is \"disabled\": ExoCal syncs nothing.",
			"Choose \"Cloud (Exchange Online, App-Only Authentication)\" as Sync-Type in the settings window, or:\n" +
				"  exocal config set sync_type ews"}, nil)
		return
	}
	// Read-only: the check writes nothing, not even a probe in the export
	// folder — only the protocol debug log when ews_debug is on.
	if err := s.ValidateReadOnly(); err != nil {
		es := config.AsErrors(err)
		labels := make([]string, 0, len(es))
		var fix strings.Builder
		for _, fe := range es {
			labels = append(labels, fe.Label)
			fmt.Fprintf(&fix, "- %s: %s\n", fe.Label, fe.Message)
		}
		fix.WriteString("Correct them in the settings window, or with: exocal config set KEY VALUE")
		st.fail(finding{CauseSettingsInvalid, fmt.Sprintf("%d setting(s) are not valid: %s.", len(es), strings.Join(labels, ", ")),
			fix.String()}, err)
		return
	}
	st.State = StateOK
	st.Finding = fmt.Sprintf("User %s, %d mailbox(es) to sync, %s, authority %s.", s.User, len(s.EffectiveMailboxes()), discoveryPlan(s), r.f.authority)
	if s.EWSDebug {
		r.openDebugLog(st)
	}
	if len(in.SettingsWarnings) > 0 {
		st.warn(finding{CauseSettingsUnknownKey,
			st.Finding + " " + fmt.Sprintf("%d key(s) of the settings file are ignored.", len(in.SettingsWarnings)),
			strings.Join(in.SettingsWarnings, "\n")}, nil)
	}
}

// openDebugLog opens the protocol debug log the sync writes (ews_debug
// on) for the chain's autodiscover and EWS exchanges, and says so in the
// settings step. A log that cannot be opened is noted; the check runs
// without it.
func (r *runner) openDebugLog(st *Step) {
	path := r.in.DebugLogPath
	var err error
	if path == "" {
		path, err = DefaultDebugLogPath()
	}
	if err == nil {
		r.debug, err = ews.OpenDebugLog(path, 0, 0)
	}
	if err != nil {
		st.Finding += " EWS protocol debugging is on, but its log cannot be opened; the check runs without it."
		st.Detail = err.Error()
		r.in.Logger.Warn("check: protocol debug log unavailable", "err", err)
		return
	}
	st.Finding += " EWS protocol debugging is on: the exchanges go to " + path + "."
}

// closeDebugLog closes the protocol debug log, if open.
func (r *runner) closeDebugLog() {
	if r.debug == nil {
		return
	}
	if err := r.debug.Close(); err != nil {
		r.in.Logger.Warn("check: closing the protocol debug log", "err", err)
	}
	r.debug = nil
}

// discoveryPlan says how the EWS URL will be found, as the settings stand.
func discoveryPlan(s config.Settings) string {
	switch u := s.AutodiscoverURL; {
	case strings.TrimSpace(s.EWSURL) != "":
		return "EWS URL " + s.EWSURL + " (ews_url; no autodiscover)"
	case u != "" && isPOXURL(u):
		return "POX autodiscover at " + u + " (autodiscover_url), Autodiscover V2 if it refuses the token"
	case u != "":
		return "SOAP autodiscover at " + u + " (autodiscover_url), Autodiscover V2 if it refuses the token"
	}
	return "SOAP autodiscover at the cloud's default " + s.EffectiveAutodiscoverURL() + ", Autodiscover V2 if it refuses the token"
}

// isPOXURL reports whether u names a POX endpoint (…/autodiscover.xml),
// which sync/autodiscover asks by POX instead of SOAP.
func isPOXURL(u string) bool {
	if p, err := url.Parse(strings.TrimSpace(u)); err == nil {
		return strings.HasSuffix(strings.ToLower(p.Path), "/autodiscover.xml")
	}
	return false
}

// sameURL compares two endpoint URLs, ignoring case and a trailing slash.
func sameURL(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.ToLower(strings.TrimSpace(s)), "/") }
	return norm(a) == norm(b)
}

// --- registration -----------------------------------------------------------

func (r *runner) checkRegistration(st *Step) {
	in := r.in
	reg, err := in.Registration, in.RegistrationErr
	if in.Store != nil {
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		reg, err = in.Store.Get(ctx, in.Profile)
		cancel()
		if env, ok := secrets.AsEnv(in.Store); ok {
			t, c, sec := env.Overridden()
			r.f.env = envValues{tenant: t, client: c, secret: sec, cert: env.CertificateOverridden()}
		}
	} else if in.Env != nil {
		// The caller read the registration (the settings window: its form)
		// through this overlay, whose variables override the keyring.
		t, c, sec := in.Env.Overridden()
		r.f.env = envValues{tenant: t, client: c, secret: sec, cert: in.Env.CertificateOverridden()}
	}
	source := "as given"
	vars := r.f.env.used(reg.UsesCertificate())
	switch {
	case in.Store != nil && len(vars) == 3:
		source = "from " + strings.Join(vars, ", ")
	case in.Store != nil && len(vars) > 0:
		source = "from the OS keyring and " + strings.Join(vars, ", ")
	case in.Store != nil:
		source = "from the OS keyring"
	case len(vars) > 0:
		source = "as given; EXOCAL_* variables override the keyring"
	}
	st.Title = registrationStepTitle(in.Store != nil, len(vars))
	r.f.tenantID, r.f.clientID, r.f.secret = reg.TenantID, reg.ClientID, reg.ClientSecret
	if reg.UsesCertificate() {
		// The certificate is the credential (preferred over a secret also
		// stored): the secret's checks do not apply, and the bundle — its
		// private key above all — is scrubbed from every output.
		r.f.secret = ""
		r.rep.scrub = append(r.rep.scrub, certScrub(reg.ClientCertificate)...)
		if reg.ClientSecret != "" {
			if !strings.EqualFold(reg.ClientSecret, reg.ClientID) && !strings.EqualFold(reg.ClientSecret, reg.TenantID) {
				r.rep.scrub = append(r.rep.scrub, reg.ClientSecret)
			}
			source += "; a client secret is stored too and not used"
		}
		reg.ClientSecret = ""
	}
	r.rep.TenantID, r.rep.ClientID = reg.TenantID, reg.ClientID
	// The secret is scrubbed from every output — unless it is the Client ID
	// or Tenant ID pasted into the wrong field, which are no secret and
	// must stay readable.
	pastedID := reg.ClientSecret != "" && (strings.EqualFold(reg.ClientSecret, reg.ClientID) || strings.EqualFold(reg.ClientSecret, reg.TenantID))
	if reg.ClientSecret != "" && !pastedID {
		r.rep.scrub = append(r.rep.scrub, reg.ClientSecret)
	}
	envFix := "For headless use, set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET (or EXOCAL_CLIENT_CERTIFICATE) instead (read, never stored)."
	switch {
	case err != nil && errors.Is(err, secrets.ErrNotFound):
		// handled below as missing values
	case err != nil && errors.Is(err, secrets.ErrNoSecretService):
		st.fail(finding{CauseKeyringUnavailable, "No OS keyring (Secret Service) is running on this session bus.",
			"Start a keyring: GNOME Keyring (gnome-keyring-daemon), KWallet or KeePassXC with Secret Service integration.\n" + envFix}, err)
		return
	case err != nil && errors.Is(err, secrets.ErrLocked):
		st.fail(finding{CauseKeyringUnavailable, "The OS keyring is locked.",
			"Unlock it (log in to the desktop, or open \"Passwords and Keys\" and unlock the Login keyring), then run the check again.\n" + envFix}, err)
		return
	case err != nil && errors.Is(err, secrets.ErrTimeout):
		st.fail(finding{CauseKeyringUnavailable, "The OS keyring did not answer in time (it may be waiting for an unlock prompt).",
			"Answer or dismiss the keyring's prompt and run the check again.\n" + envFix}, err)
		return
	case err != nil:
		st.fail(finding{CauseKeyringUnavailable, "The app registration cannot be read from the OS keyring.",
			"Check that GNOME Keyring, KWallet or KeePassXC works (e.g. `secret-tool search service exocal`).\n" + envFix}, err)
		return
	}
	var missing []string
	if reg.TenantID == "" {
		missing = append(missing, "Tenant ID")
	}
	if reg.ClientID == "" {
		missing = append(missing, "Client ID")
	}
	if reg.ClientSecret == "" && !reg.UsesCertificate() {
		missing = append(missing, "Client Secret (or certificate)")
	}
	if len(missing) > 0 {
		st.fail(finding{CauseRegistrationMissing, "The app registration is incomplete: " + strings.Join(missing, ", ") + " not set.",
			"Enter Tenant ID, Client ID and Client Secret in the settings window (from the app's Overview and\n" +
				"Certificates & secrets pages in Entra), or:\n" +
				"  exocal config set tenant_id <Directory (tenant) ID>\n" +
				"  exocal config set client_id <Application (client) ID>\n" +
				"  exocal secret set        (reads the secret's Value from stdin)\n" +
				"or, instead of a secret, a certificate: exocal secret set --certificate < bundle.pem\n" + envFix}, err)
		return
	}
	switch strings.ToLower(reg.TenantID) {
	case "common", "organizations", "consumers":
		st.fail(finding{CauseTenantAlias,
			fmt.Sprintf("The Tenant ID %q is an alias, not a tenant: app-only sign-in needs the tenant itself (no user signs in to pick one).", reg.TenantID),
			"Enter the Directory (tenant) ID GUID from " + r.f.appPage("Overview") + " (or a verified domain such as contoso.onmicrosoft.com):\n" +
				r.f.setTenant()}, nil)
		return
	}
	if es := config.ValidateRegistration(reg.TenantID, reg.ClientID); len(es) > 0 {
		var fix strings.Builder
		for _, fe := range es {
			fmt.Fprintf(&fix, "- %s: %s\n", fe.Label, fe.Message)
		}
		fix.WriteString("Correct them in the settings window, or:")
		if _, bad := es.For("tenant_id"); bad {
			fix.WriteString("\n" + r.f.setTenant())
		}
		if _, bad := es.For("client_id"); bad {
			fix.WriteString("\n" + r.f.setClient())
		}
		st.fail(finding{CauseRegistrationInvalid, "The Tenant ID or Client ID is not valid.", fix.String()}, es)
		return
	}
	if pastedID {
		which := "Client ID"
		if strings.EqualFold(reg.ClientSecret, reg.TenantID) {
			which = "Tenant ID"
		}
		st.fail(finding{CauseSecretIDNotValue, "The Client Secret holds the " + which + ", not the secret's Value.",
			"In " + r.f.appPage("Certificates & secrets") + ", copy the Value column of a client secret (create one if none is\n" +
				"listed or its Value is hidden).\n" + r.f.setSecret("Store it as the Client Secret")}, nil)
		return
	}
	if reg.UsesCertificate() {
		r.checkCertificate(st, reg, source)
		return
	}
	st.State = StateOK
	st.Finding = fmt.Sprintf("Tenant %s, Client ID %s, client secret set (%s).", reg.TenantID, reg.ClientID, source)
	if auth.LooksLikeSecretID(reg.ClientSecret) {
		st.warn(finding{CauseSecretLooksLikeID,
			"The client secret is a GUID: that looks like the secret's ID, not its Value.",
			"In " + r.f.appPage("Certificates & secrets") + ", copy the Value column (not Secret ID); if it is hidden, create a new secret.\n" +
				r.f.setSecret("Store it as the Client Secret")}, nil)
		return
	}
	if exp := in.SecretExpires; !exp.IsZero() {
		now := in.Now()
		days := int(exp.Sub(now).Hours() / 24)
		switch {
		case !exp.After(now):
			st.warn(finding{CauseSecretExpiryPassed,
				"The client secret's expiry date you noted, " + exp.Format(time.DateOnly) + ", has passed.",
				r.f.newSecretFix()}, nil)
		case exp.Sub(now) <= ExpiryNoticeDays*24*time.Hour:
			st.warn(finding{CauseSecretExpiring,
				fmt.Sprintf("The client secret expires on %s (in %d day(s)).", exp.Format(time.DateOnly), days),
				r.f.newSecretFix()}, nil)
		default:
			st.Finding += " The secret expires on " + exp.Format(time.DateOnly) + "."
		}
	}
}

// used lists the EXOCAL_* variables that supply the registration's
// values: tenant, client and the credential in use (the certificate when
// cert, else the secret).
func (e envValues) used(cert bool) []string {
	var vars []string
	if e.tenant {
		vars = append(vars, secrets.EnvTenantID)
	}
	if e.client {
		vars = append(vars, secrets.EnvClientID)
	}
	switch {
	case cert && e.cert:
		vars = append(vars, secrets.EnvClientCertificate)
	case !cert && e.secret:
		vars = append(vars, secrets.EnvClientSecret)
	}
	return vars
}

// registrationStepTitle names the registration step by where its values
// come from: the keyring (keyring false: the caller, e.g. the settings
// window's form) and vars of the three values from EXOCAL_* variables.
func registrationStepTitle(keyring bool, vars int) string {
	switch {
	case vars == 3:
		return "App registration from EXOCAL_* variables"
	case vars > 0 && keyring:
		return "App registration in the keyring and EXOCAL_* variables"
	case vars > 0:
		return "App registration, partly from EXOCAL_* variables"
	case keyring:
		return registrationTitle
	}
	return "App registration"
}

// --- token ------------------------------------------------------------------

func (r *runner) checkToken(st *Step) {
	s := r.in.Settings
	r.tokens = auth.NewTokenSource(r.ctx, auth.Config{
		AuthorityHost: s.AuthorityHost, TenantID: r.f.tenantID, ClientID: r.f.clientID,
		ClientSecret: r.f.secret, Certificate: r.f.cert, HTTPClient: r.base, Logger: r.in.Logger,
	})
	r.cloud = r.tokens.Cloud()
	tok, err := r.tokens.Token()
	if err != nil {
		st.fail(classifyToken(err, r.f), err)
		if ee := (*auth.EntraError)(nil); errors.As(err, &ee) && ee.TraceID != "" {
			st.Detail += "\nTrace ID: " + ee.TraceID + "\nCorrelation ID: " + ee.CorrelationID + "\nTimestamp: " + ee.Timestamp
		}
		return
	}
	r.rep.scrub = append(r.rep.scrub, tok.AccessToken)
	st.State = StateOK
	with := "the client secret"
	if r.f.cert != nil {
		with = "the certificate (" + r.f.certInfo.String() + ")"
	}
	st.Finding = "Entra issued an app-only token for " + with + " at " + r.tokens.TokenURL() + "."
	if !tok.Expiry.IsZero() {
		st.Finding = fmt.Sprintf("Entra issued an app-only token for %s at %s (valid until %s).", with, r.tokens.TokenURL(), tok.Expiry.UTC().Format("15:04 MST"))
	}
	if d, ok := r.dates.serverDate(hostOf(r.tokens.TokenURL())); ok {
		skew := r.in.Now().Sub(d)
		if skew > 5*time.Minute || skew < -5*time.Minute {
			ahead := "ahead of"
			if skew < 0 {
				ahead, skew = "behind", -skew
			}
			fd := clockFinding(r.f, fmt.Sprintf("This computer's clock is %s %s Entra's (server Date %s).",
				skew.Round(time.Second), ahead, d.UTC().Format(time.RFC1123)))
			st.warn(fd, nil)
		}
	}
}

// --- claims -----------------------------------------------------------------

func (r *runner) checkClaims(st *Step) {
	c, err := r.tokens.Claims()
	if err != nil {
		st.warn(finding{CauseNone, "The token's claims cannot be read; EWS will tell whether the permissions suffice.", ""}, err)
		return
	}
	if err := c.RequireEWS(r.cloud); err != nil {
		switch {
		case errors.Is(err, auth.ErrNoRoles):
			st.fail(finding{CauseConsentMissing,
				"The token carries no roles: admin consent for the app's application permissions has not been granted (or has not propagated yet).",
				r.f.consentFix()}, err)
		case errors.Is(err, auth.ErrMissingRole):
			st.fail(finding{CauseMissingRole,
				fmt.Sprintf("The token has the roles %s but not full_access_as_app: the app's manifest lacks the Office 365 Exchange Online permission.", strings.Join(c.Roles, ", ")),
				r.f.manifestFix()}, err)
		case errors.Is(err, auth.ErrWrongAudience):
			st.fail(finding{CauseWrongAudience,
				"The token is for " + audienceWords(c.Audience) + ", not for Exchange Online (" + r.cloud.Resource + ").",
				"Use the authority host of the tenant's cloud (https://login.microsoftonline.com worldwide):\n  exocal config set authority_host https://login.microsoftonline.com"}, err)
		default:
			st.fail(finding{CauseEntraOther, "The token's claims do not allow EWS app-only access.", ""}, err)
		}
		return
	}
	st.State = StateOK
	r.f.hasEWSRole = true
	st.Finding = fmt.Sprintf("Roles %s, audience %s, tenant %s.", strings.Join(c.Roles, ", "), c.Audience, c.TenantID)
	if config.IsGUID(r.f.tenantID) && c.TenantID != "" && !strings.EqualFold(c.TenantID, r.f.tenantID) {
		st.warn(finding{CauseWrongTenantToken,
			fmt.Sprintf("The token is for tenant %s, but the Tenant ID is %s.", c.TenantID, r.f.tenantID),
			"Check the Tenant ID:\n" + r.f.setTenant()}, nil)
	}
	if c.AppID != "" && r.f.clientID != "" && !strings.EqualFold(c.AppID, r.f.clientID) {
		st.warn(finding{CauseWrongTenantToken,
			fmt.Sprintf("The token is for app %s, but the Client ID is %s.", c.AppID, r.f.clientID),
			"Check the Client ID:\n" + r.f.setClient()}, nil)
	}
}

// --- autodiscover -----------------------------------------------------------

func (r *runner) checkAutodiscover(st *Step) {
	s := r.in.Settings
	allowed := auth.AllowHosts(r.cloud, s.AutodiscoverURL, s.EWSURL, s.AuthorityHost)
	r.authed = auth.NewClient(r.base, r.tokens, allowed)
	defaultEWS := "https://outlook.office365.com/EWS/Exchange.asmx"
	if r.cloud.Resource != "" {
		defaultEWS = r.cloud.Resource + "/EWS/Exchange.asmx"
	}
	if u := strings.TrimSpace(s.EWSURL); u != "" {
		if _, err := auth.CheckURL(u); err != nil {
			st.fail(finding{CauseSettingsInvalid, "The EWS URL " + u + " cannot be used.",
				"Use an https:// URL, e.g.: exocal config set ews_url " + defaultEWS}, err)
			return
		}
		r.ewsURL = u
		st.State = StateOK
		st.Finding = "Skipped autodiscover: the EWS URL is set to " + u + " (ews_url)."
		return
	}
	ctx, cancel := r.stepCtx()
	defer cancel()
	req := autodiscover.Request{
		User: s.User, AutodiscoverURL: s.AutodiscoverURL, Server: s.ExchangeServer,
		Cloud: r.cloud, HTTPClient: r.authed, Logger: r.in.Logger,
	}
	if r.debug != nil { // not a typed nil in the io.Writer; FindAutodiscoverServer below shares req
		req.Debug = r.debug
	}
	res, err := autodiscover.Discover(ctx, req)
	if err != nil {
		st.fail(classifyAutodiscover(err, r.f, defaultEWS), err)
		return
	}
	r.ewsURL = res.EWSURL
	r.f.ewsURL = res.EWSURL
	st.State = StateOK
	switch res.Method {
	case autodiscover.MethodSOAP:
		st.Finding = "SOAP autodiscover at " + res.Endpoint + " found " + res.EWSURL + "."
	case autodiscover.MethodV2:
		st.Finding = "Autodiscover V2 at " + res.Endpoint + " found " + res.EWSURL + "."
	case autodiscover.MethodPOX:
		st.Finding = "POX autodiscover at " + res.Endpoint + " found " + res.EWSURL + "."
	default:
		st.Finding = "Autodiscover (" + res.Method + ") found " + res.EWSURL + "."
	}
	if res.SOAPError != nil {
		first, firstAt := "SOAP", s.EffectiveAutodiscoverURL()
		if isPOXURL(s.AutodiscoverURL) {
			first = "POX"
		}
		var ae *autodiscover.Error
		if errors.As(res.SOAPError, &ae) && ae.URL != "" {
			firstAt = ae.URL
		}
		fix := first + " autodiscover refuses app-only tokens in tenants with security defaults (Entra > Overview > Properties >\n" +
			"Manage security defaults). ExoCal fell back to Autodiscover V2, which worked. To skip autodiscover next time:\n" +
			"  exocal config set ews_url " + res.EWSURL
		// The alternative server is a POX endpoint, asked by POX: worth
		// suggesting unless it is the server that just refused.
		altCtx, altCancel := r.stepCtx()
		alt, aerr := autodiscover.FindAutodiscoverServer(altCtx, req)
		altCancel()
		if aerr == nil && alt != "" && !sameURL(alt, s.AutodiscoverURL) && !sameURL(alt, firstAt) {
			fix += "\nor use the alternative autodiscover server Autodiscover V2 names (ExoCal asks it by POX):\n  exocal config set autodiscover_url " + alt
		}
		st.warn(finding{CauseAutodiscoverSecurityDefaults,
			first + " autodiscover at " + firstAt + " refused the token (as with security defaults); " + st.Finding, fix}, res.SOAPError)
	}
	if want := s.ExchangeServer; want != "" && res.Server != want {
		st.warn(finding{CauseAutodiscoverOtherServer,
			"Autodiscover published no " + want + " EWS URL; using the " + res.Server + " one, " + res.EWSURL + ".",
			"Set \"Exchange server to be used\" to " + res.Server + ": exocal config set exchange_server " + res.Server}, nil)
	}
}

// --- EWS --------------------------------------------------------------------

func (r *runner) checkEWS(st *Step) {
	r.f.ewsURL = r.ewsURL
	cfg := ews.Config{URL: r.ewsURL, HTTPClient: r.authed, UserAgent: "ExoCal", Logger: r.in.Logger}
	if r.debug != nil {
		cfg.Debug = r.debug
	}
	r.client = ews.New(cfg)
	ctx, cancel := r.stepCtx()
	defer cancel()
	_, err := r.client.GetFolder(ctx, nil, r.in.Settings.User)
	r.userErr, r.userRan = err, true
	switch {
	case err == nil:
		st.State = StateOK
		st.Finding = "EWS at " + r.ewsURL + " answered and lets this app in."
	case ewsMailboxLevel(err):
		st.State = StateOK
		st.Finding = "EWS at " + r.ewsURL + " answered and the tenant's EWS policy lets this app in; the User's mailbox has a problem (next step)."
		var e *ews.Error
		if errors.As(err, &e) && e.HTTPStatus == http.StatusForbidden {
			st.warn(finding{CauseEWSForbidden,
				"EWS at " + r.ewsURL + " answered 403 without X-EWS-Policy-Reason, so the tenant's EWS policy is not the cause; see the User's mailbox (next step).", ""}, err)
		}
	default:
		st.fail(classifyEWS(err, r.f, r.in.Settings.User), err)
	}
}

func (r *runner) mailboxStep(st *Step, mailbox string, err error) {
	if err != nil {
		st.fail(classifyEWS(err, r.f, mailbox), err)
		return
	}
	st.State = StateOK
	st.Finding = "The calendar of " + mailbox + " can be read."
}

func (r *runner) checkUserCalendar(st *Step) {
	st.Mailbox = r.in.Settings.User
	r.mailboxStep(st, st.Mailbox, r.userErr)
}

// checkMailboxes checks every synced mailbox other than the User, in
// parallel, reporting them in the configured order.
func (r *runner) checkMailboxes() {
	user := strings.ToLower(r.in.Settings.User)
	var mbs []string
	for _, m := range r.in.Settings.EffectiveMailboxes() {
		if strings.ToLower(m) != user {
			mbs = append(mbs, m)
		}
	}
	if len(mbs) == 0 {
		return
	}
	newStep := func(m string) Step {
		return Step{ID: StepMailbox, Title: "Calendar of " + m, Required: true, Mailbox: m}
	}
	if r.gate != "" {
		for _, m := range mbs {
			r.emit(skipped(newStep(m), r.gate))
		}
		return
	}
	type result struct {
		step Step
		done chan struct{}
	}
	results := make([]*result, len(mbs))
	sem := make(chan struct{}, r.in.MailboxConcurrency)
	for i, m := range mbs {
		res := &result{step: newStep(m), done: make(chan struct{})}
		results[i] = res
		go func() {
			defer close(res.done)
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			ctx, cancel := r.stepCtx()
			_, err := r.client.GetFolder(ctx, nil, m)
			cancel()
			r.mailboxStep(&res.step, m, err)
			res.step.Elapsed = time.Since(start)
		}()
	}
	for _, res := range results {
		<-res.done
		r.emit(res.step)
	}
}

// checkSubscription subscribes to the User's calendar and unsubscribes.
// Streaming is optional (ExoCal polls without it), so a failure is a warning.
func (r *runner) checkSubscription() {
	st := Step{ID: StepSubscription, Title: "Streaming notifications (Subscribe on the User's calendar)"}
	switch {
	case r.gate != "":
		r.emit(skipped(st, r.gate))
		return
	case r.userErr != nil || !r.userRan:
		r.emit(skipped(st, r.userCalendarTitle()))
		return
	}
	start := time.Now()
	ctx, cancel := r.stepCtx()
	defer cancel()
	user := r.in.Settings.User
	id, err := r.client.Subscribe(ctx, nil, user)
	poll := time.Duration(r.in.Settings.PollInterval)
	if err != nil {
		fd := classifyEWS(err, r.f, user)
		st.warn(finding{CauseSubscriptionFailed,
			"Exchange refused a streaming subscription: " + fd.finding + " ExoCal will poll every " + poll.String() + " instead.",
			fd.fix}, err)
		st.Elapsed = time.Since(start)
		r.emit(st)
		return
	}
	st.State = StateOK
	st.Finding = "A streaming subscription to " + user + "'s calendar works; changes reach the ICS files within seconds."
	if uerr := r.client.Unsubscribe(ctx, nil, user, id); uerr != nil {
		st.warn(finding{CauseSubscriptionFailed, "Subscribing worked, but ending the test subscription failed; it expires by itself.", ""}, uerr)
	}
	st.Elapsed = time.Since(start)
	r.emit(st)
}
