package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/ews"
)

// Explanation is the check's words for one error, for places that meet
// the error outside Run: the tray's first line when the engine fails at
// run time ("Open Settings to fix"), the settings window's save errors.
type Explanation struct {
	Cause   Cause  `json:"cause"`
	Finding string `json:"finding"`
	Fix     string `json:"fix,omitempty"`
	// Setup is true when the user must change the registration, the
	// tenant or the settings (as opposed to the network or one mailbox).
	Setup bool `json:"setup"`
}

// Explain names err the way the chain would: Entra refusals, missing
// roles, autodiscover and EWS failures, network trouble. tenantID and
// clientID fill in the fixes (the secret is never needed nor shown).
// mailbox is the mailbox the error concerns ("" when none). It returns
// CauseNone and an empty Finding for an error it cannot name. Fixes about
// a value that an EXOCAL_* variable of this process supplies (the
// registration of secrets.Default) say to correct or unset the variable.
func Explain(err error, s config.Settings, tenantID, clientID, mailbox string) Explanation {
	return explain(err, s, tenantID, clientID, mailbox, os.Getenv)
}

// envFrom says which registration values the EXOCAL_* variables supply.
func envFrom(getenv func(string) string) envValues {
	e := secrets.Env{Getenv: getenv}
	t, c, sec := e.Overridden()
	return envValues{tenant: t, client: c, secret: sec, cert: e.CertificateOverridden()}
}

func explain(err error, s config.Settings, tenantID, clientID, mailbox string, getenv func(string) string) Explanation {
	if err == nil {
		return Explanation{}
	}
	f := facts{tenantID: tenantID, clientID: clientID, supportedAccount: s.SupportedAccount,
		authority: s.AuthorityHost, user: s.User, ewsURL: s.EWSURL, pollInterval: time.Duration(s.PollInterval),
		getenv: func(string) string { return "" }, stepTimeout: 30 * time.Second, env: envFrom(getenv)}
	if f.authority == "" {
		f.authority = config.DefaultAuthorityHost
	}
	if mailbox == "" {
		mailbox = s.User
	}
	var (
		fd finding
		ce *auth.ClaimsError
		ee *ews.Error
		ae *autodiscover.Error
		re *autodiscover.RedirectError
	)
	switch {
	case errors.As(err, &ce) && errors.Is(err, auth.ErrNoRoles):
		fd = finding{CauseConsentMissing, "The token carries no roles: admin consent for the app's application permissions is missing.", f.consentFix()}
	case errors.As(err, &ce) && errors.Is(err, auth.ErrMissingRole):
		fd = finding{CauseMissingRole, "The token lacks full_access_as_app: the app's manifest lacks the Office 365 Exchange Online permission.", f.manifestFix()}
	case errors.As(err, &ce) && errors.Is(err, auth.ErrWrongAudience):
		fd = finding{CauseWrongAudience, "The token is for " + audienceWords(ce.Audience) + ", not for Exchange Online.",
			"Use the authority host of the tenant's cloud (https://login.microsoftonline.com worldwide)."}
	case errors.As(err, &ee):
		fd = classifyEWS(err, f, firstNonEmpty(ee.Mailbox, mailbox))
	case errors.As(err, &ae), errors.As(err, &re):
		fd = classifyAutodiscover(err, f, "https://outlook.office365.com/EWS/Exchange.asmx")
	case auth.IsEntra(err), auth.IsConfig(err), auth.IsNetwork(err):
		fd = classifyToken(err, f)
	default:
		return Explanation{}
	}
	return Explanation{Cause: fd.cause, Finding: redact(fd.finding, nil), Fix: redact(fd.fix, nil), Setup: fd.cause.Setup()}
}

// audienceWords is a token's audience quoted, or "another resource".
func audienceWords(aud string) string {
	if aud == "" {
		return "another resource"
	}
	return strconv.Quote(aud)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// FindAutodiscoverServer asks Autodiscover V2 (which needs no token) for
// the User's alternative autodiscover server, for the settings window's
// "Find autodiscover server" button; the answer can go into
// autodiscover_url. hc nil means a private client.
func FindAutodiscoverServer(ctx context.Context, s config.Settings, hc *http.Client) (string, error) {
	base, _ := newBaseClient(hc, 30*time.Second)
	return autodiscover.FindAutodiscoverServer(ctx, autodiscover.Request{
		User: s.User, AutodiscoverURL: s.AutodiscoverURL, Cloud: auth.CloudForAuthority(s.AuthorityHost),
		// No token source: V2 is unauthenticated, and this client can never carry one.
		HTTPClient: base,
	})
}

// ExpiryNoticeDays is how long before the secret's expiry ExoCal warns.
const ExpiryNoticeDays = 14

// SecretSource says where the client secret comes from, so that a notice
// says where to put a new one.
type SecretSource int

const (
	// SecretInKeyring: the OS keyring (the settings window, `exocal secret set`).
	SecretInKeyring SecretSource = iota
	// SecretInEnv: EXOCAL_CLIENT_SECRET, which overrides the keyring.
	SecretInEnv
)

func (s SecretSource) String() string {
	if s == SecretInEnv {
		return secrets.EnvClientSecret
	}
	return "keyring"
}

// SecretSourceOf says where this process's client secret comes from:
// SecretInEnv when getenv (nil: os.Getenv) supplies EXOCAL_CLIENT_SECRET.
func SecretSourceOf(getenv func(string) string) SecretSource {
	if getenv == nil {
		getenv = os.Getenv
	}
	if _, _, sec := (secrets.Env{Getenv: getenv}).Overridden(); sec {
		return SecretInEnv
	}
	return SecretInKeyring
}

// ExpiryNotice says whether the client secret's noted expiry date calls for
// a warning now (from ExpiryNoticeDays before it, and after it), and the
// one-line message for the tray. A zero expires never warns. It is
// ExpiryNoticeFor with the secret in the keyring.
func ExpiryNotice(now, expires time.Time) (bool, string) {
	return ExpiryNoticeFor(now, expires, SecretInKeyring)
}

// ExpiryNoticeFor is ExpiryNotice for a secret from the given source: the
// fix says to paste the new Value in Settings, or to put it in
// EXOCAL_CLIENT_SECRET. The message is "finding: fix" (the first ": "
// splits them).
func ExpiryNoticeFor(now, expires time.Time, from SecretSource) (bool, string) {
	if expires.IsZero() {
		return false, ""
	}
	fix := "create a new one in Entra and paste its Value in Settings."
	if from == SecretInEnv {
		fix = "create a new one in Entra and put its Value in " + secrets.EnvClientSecret +
			" where it is set (e.g. the service's environment file), then note the new expiry date (exocal config set secret_expires YYYY-MM-DD)."
	}
	left := expires.Sub(now)
	switch {
	case left <= 0:
		return true, "The client secret expired on " + expires.Format(time.DateOnly) + ": " + fix
	case left <= ExpiryNoticeDays*24*time.Hour:
		days := int(left.Hours() / 24)
		return true, fmt.Sprintf("The client secret expires on %s (in %d day(s)): %s", expires.Format(time.DateOnly), days, fix)
	}
	return false, ""
}
