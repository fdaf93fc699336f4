package check

import (
	"context"
	"errors"
	"fmt"
	"net"
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

// finding is what a classifier says about an error.
type finding struct {
	cause   Cause
	finding string
	fix     string
}

// ManifestSnippet is the requiredResourceAccess entry that gives the app
// the Office 365 Exchange Online application permission full_access_as_app
// (EWS "Authenticate an EWS application by using OAuth"), for the
// manifest editor in Entra and the settings window's "Copy manifest snippet".
const ManifestSnippet = `"requiredResourceAccess": [
  {
    "resourceAppId": "00000002-0000-0ff1-ce00-000000000000",
    "resourceAccess": [
      {
        "id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
        "type": "Role"
      }
    ]
  }
]`

// EWSEndDate is when Exchange Online switches EWS off for good (Microsoft's
// retirement announcement, as reported for MC1227454; ews-protocol.md §0).
var EWSEndDate = time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)

// facts carries the values fixes fill in.
type facts struct {
	tenantID, clientID, secret string
	cert                       *auth.Certificate // the credential, when a certificate is used
	certInfo                   secrets.CertificateInfo
	supportedAccount           string
	authority                  string
	user                       string
	ewsURL                     string
	pollInterval               time.Duration
	secretExpires              time.Time
	getenv                     func(string) string
	stepTimeout                time.Duration
	now                        time.Time
	// hasEWSRole: the token's claims showed full_access_as_app, so a 401
	// with 2000008 means Exchange has not yet learnt of the consent.
	hasEWSRole bool
	// env says which registration values come from the EXOCAL_* variables,
	// which override the keyring: fixes for those values name the variable.
	env envValues
}

// envValues says which registration values an EXOCAL_* variable supplies.
type envValues struct{ tenant, client, secret, cert bool }

// envOverride is the fix line for a value an environment variable
// supplies: `exocal config set` cannot help while the variable is set.
func envOverride(name, placeholder, stored string) string {
	return "  " + name + " is set and overrides the keyring, so correct the variable (export " + name + "=" + placeholder + ")\n" +
		"  or unset it (unset " + name + ") and store the value with: " + stored
}

// setTenant is how to correct the Tenant ID (indented command lines).
func (f facts) setTenant() string {
	const cmd = "exocal config set tenant_id <Directory (tenant) ID>"
	if f.env.tenant {
		return envOverride(secrets.EnvTenantID, "<Directory (tenant) ID>", cmd)
	}
	return "  " + cmd
}

// setClient is how to correct the Client ID (indented command lines).
func (f facts) setClient() string {
	const cmd = "exocal config set client_id <Application (client) ID>"
	if f.env.client {
		return envOverride(secrets.EnvClientID, "<Application (client) ID>", cmd)
	}
	return "  " + cmd
}

// setSecret is how to store a client secret's Value, one or two sentences
// starting with lead ("Paste it into ExoCal") unless the variable supplies
// the secret. The secret never goes on a command line, so the variable is
// to be changed where it is set.
func (f facts) setSecret(lead string) string {
	if f.env.secret {
		return secrets.EnvClientSecret + " is set and overrides the keyring: put the Value into it where it is set (e.g. the\n" +
			"service's environment file), or unset it (unset " + secrets.EnvClientSecret + ") and run `exocal secret set` (reads stdin)."
	}
	return lead + ": the settings window's Client Secret field, or `exocal secret set` (reads stdin),\n" +
		"or " + secrets.EnvClientSecret + " for headless use."
}

// setCertificate is how to store a certificate bundle (indented lines).
func (f facts) setCertificate() string {
	const cmd = "exocal secret set --certificate < bundle.pem"
	if f.env.cert {
		return "  " + secrets.EnvClientCertificate + " is set and overrides the keyring: put the bundle's PEM text into it where it is set,\n" +
			"  or unset it (unset " + secrets.EnvClientCertificate + ") and run: " + cmd
	}
	return "  " + cmd
}

// fromEnv notes, for the Entra findings, that a value comes from a variable.
func (f facts) fromEnv(env bool, name string) string {
	if !env {
		return ""
	}
	return " (it comes from " + name + ", which overrides the keyring: correct or unset that variable)"
}

func (f facts) client() string {
	if f.clientID == "" {
		return "<your app's Application (client) ID>"
	}
	return f.clientID
}

func (f facts) tenant() string {
	if f.tenantID == "" {
		return "<your tenant>"
	}
	return f.tenantID
}

// authorityHost is the Entra authority host, the default when unset.
func (f facts) authorityHost() string {
	if f.authority == "" {
		return config.DefaultAuthorityHost
	}
	return f.authority
}

// user is the User for sentences ("the User" when unset) and for command
// lines ("<address>" when unset).
func (f facts) userWords() (words, arg string) {
	if f.user == "" {
		return "the User", "<address>"
	}
	return f.user, f.user
}

// mailboxWords is a mailbox for sentences (fallback when unknown) and for
// command lines ("<mailbox address>" when unknown).
func mailboxWords(mailbox, fallback string) (words, arg string) {
	if mailbox == "" {
		return fallback, "<mailbox address>"
	}
	return mailbox, mailbox
}

// because is ": reason" or "" for an empty reason.
func because(reason string) string {
	if reason = strings.TrimSpace(reason); reason == "" {
		return ""
	}
	return ": " + reason
}

// appPage says where the app registration is in the Entra admin center.
func (f facts) appPage(section string) string {
	p := "Microsoft Entra admin center (https://entra.microsoft.com) > Identity > Applications > App registrations > All applications > the app with Application (client) ID " + f.client()
	if section != "" {
		p += " > " + section
	}
	return p
}

func (f facts) consentFix() string {
	return "1. Open " + f.appPage("API permissions") + ".\n" +
		"2. Click \"Grant admin consent for <your organization>\" (tenant " + f.tenant() + "; needs a Global Administrator or\n" +
		"   Privileged Role Administrator) and confirm;\n" +
		"   the Status column of full_access_as_app (Office 365 Exchange Online, type Application) must turn green.\n" +
		"3. Wait a few minutes (consent takes time to reach Exchange), then run the check again."
}

func (f facts) manifestFix() string {
	return "1. Open " + f.appPage("Manifest") + ".\n" +
		"2. Put this entry into \"requiredResourceAccess\" (merge it if an entry for 00000002-0000-0ff1-ce00-000000000000 exists) and save:\n" +
		indent(ManifestSnippet, "   ") + "\n" +
		"   (or: API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online >\n" +
		"   Application permissions > full_access_as_app).\n" +
		"3. Click \"Grant admin consent for <your organization>\" under API permissions, wait a few minutes, then run the check again."
}

func (f facts) newSecretFix() string {
	return "1. Open " + f.appPage("Certificates & secrets > Client secrets") + ".\n" +
		"2. Click \"New client secret\", choose an expiry, and copy the Value column right away (it is shown only once;\n" +
		"   the Secret ID column next to it is NOT the secret).\n" +
		"3. " + strings.ReplaceAll(f.setSecret("Paste it into ExoCal"), "\n", "\n   ") + "\n" +
		"   Note the new expiry date: the settings window, or exocal config set secret_expires YYYY-MM-DD.\n" +
		"Microsoft recommends a certificate instead of a secret for long-running services."
}

// classifyToken names why the token request failed.
func classifyToken(err error, f facts) finding {
	var ee *auth.EntraError
	entra := errors.As(err, &ee)
	switch {
	case auth.IsTenantAlias(err):
		return finding{CauseTenantAlias,
			fmt.Sprintf("The Tenant ID %q is an alias, not a tenant: app-only sign-in needs the tenant itself.", f.tenantID),
			"Enter the Directory (tenant) ID GUID from " + f.appPage("Overview") + " (or a verified domain such as contoso.onmicrosoft.com):\n" +
				f.setTenant()}
	case auth.IsInvalidCertificate(err):
		return invalidCertificateFinding(f)
	case auth.IsConfig(err) && isCertificateConfig(err):
		var ce *auth.ConfigError
		errors.As(err, &ce)
		return finding{CauseCertificateInvalid, "The client certificate cannot be used" + because(ce.Reason) + ".", certificateFix(f)}
	case auth.IsInvalidSecret(err) && ee != nil && ee.Has(auth.AADSTSMissingCredential):
		return finding{CauseInvalidSecret, "Entra received no client secret (AADSTS7000218).", f.newSecretFix()}
	case auth.IsInvalidSecret(err) && (ee.SecretLooksLikeID || auth.LooksLikeSecretID(f.secret)):
		return finding{CauseSecretIDNotValue,
			"Entra rejected the client secret (AADSTS7000215). The secret ExoCal has is a GUID: that is the secret's ID, not its Value.",
			"In " + f.appPage("Certificates & secrets") + ", the Value column holds the secret (about 40 characters, often with a ~);\n" +
				"the Secret ID column is a GUID and is not the secret. The Value is shown only right after the secret is created:\n" +
				"if it is hidden now, create a new secret.\n" + f.newSecretFix()}
	case auth.IsInvalidSecret(err):
		return finding{CauseInvalidSecret,
			"Entra rejected the client secret (AADSTS7000215): it is not a valid secret of app " + f.client() + ".",
			"Check that the secret belongs to this app (Client ID " + f.client() + ") and that you copied its Value (not its Secret ID), whole.\n" + f.newSecretFix()}
	case auth.IsSecretExpired(err):
		msg := "The client secret has expired (AADSTS7000222)."
		if !f.secretExpires.IsZero() {
			msg += " Your note says it expired on " + f.secretExpires.Format(time.DateOnly) + "."
		}
		return finding{CauseSecretExpired, msg, f.newSecretFix()}
	case auth.IsWrongCloud(err):
		return finding{CauseWrongCloud,
			fmt.Sprintf("Tenant %s is in another Microsoft cloud than %s (AADSTS90038).", f.tenant(), f.authorityHost()),
			"Set the authority host of the tenant's cloud:\n" +
				"  US Government (GCC High / DoD): exocal config set authority_host https://login.microsoftonline.us\n" +
				"  China (21Vianet):               exocal config set authority_host https://login.partner.microsoftonline.cn\n" +
				"  Worldwide (and GCC):            exocal config set authority_host https://login.microsoftonline.com"}
	case auth.IsTenantNotFound(err):
		tenant := "the tenant"
		if f.tenantID != "" {
			tenant = fmt.Sprintf("the tenant %q", f.tenantID)
		}
		return finding{CauseTenantNotFound,
			"Entra at " + f.authorityHost() + " does not know " + tenant + aadstsSuffix(ee) + ".",
			"Copy the Directory (tenant) ID from " + f.appPage("Overview") + " and set it:\n" +
				f.setTenant() + "\n" +
				"If the tenant is in a national cloud (US Government, China), set authority_host to that cloud's login host."}
	case auth.IsAppNotFound(err) && ee != nil && ee.Has(auth.AADSTSAppDisabled):
		return finding{CauseAppNotFound,
			"The app " + f.client() + " is disabled in tenant " + f.tenant() + " (AADSTS7000112).",
			"In Microsoft Entra admin center > Enterprise applications > the app " + f.client() + " > Properties, set \"Enabled for users to sign in?\" to Yes."}
	case auth.IsAppNotFound(err):
		fix := "Entra knows no app with Client ID " + f.client() + " in tenant " + f.tenant() + ". One of these is wrong:\n" +
			"- the Client ID: copy the Application (client) ID (not the Object ID) from the app's Overview page" + f.fromEnv(f.env.client, secrets.EnvClientID) + ";\n" +
			"- the Tenant ID: copy the Directory (tenant) ID from the same page — the tenant where the app is registered" + f.fromEnv(f.env.tenant, secrets.EnvTenantID) + ";\n"
		if f.supportedAccount == "multi" {
			fix += "- consent: Supported account is \"multi\" (Multiple organization). A multi-tenant app must be consented in this\n" +
				"  tenant before it exists there: an administrator of " + f.tenant() + " opens\n" +
				"  " + strings.TrimRight(f.authorityHost(), "/") + "/" + f.tenant() + "/adminconsent?client_id=" + f.client() + "\n" +
				"  and accepts. If the app is registered in this tenant, set supported_account to \"single\"."
		} else {
			fix += "- the account type: Supported account is \"single\" (My organization only), so the app must be registered in\n" +
				"  tenant " + f.tenant() + " itself. If it is registered in another tenant as multi-tenant, set supported_account to\n" +
				"  \"multi\" and have an administrator of " + f.tenant() + " consent to it (…/adminconsent?client_id=" + f.client() + ")."
		}
		return finding{CauseAppNotFound,
			"Entra did not find app " + f.client() + " in tenant " + f.tenant() + " (AADSTS700016).", fix}
	case auth.IsBadScope(err):
		return finding{CauseBadScope,
			fmt.Sprintf("Entra refused the scope%s: the token must be for Exchange Online, https://outlook.office365.com/.default.", aadstsSuffix(ee)),
			"The scope follows from the authority host. Use the cloud's login host (https://login.microsoftonline.com worldwide)\n" +
				"  exocal config set authority_host https://login.microsoftonline.com\n" +
				"and make sure the tenant has Exchange Online (the Office 365 Exchange Online service principal exists)."}
	case auth.IsConditionalAccess(err):
		return finding{CauseConditionalAccess,
			"A Conditional Access policy blocked the app's sign-in (AADSTS53003).",
			"In Microsoft Entra admin center > Protection > Conditional Access, find the policy that targets workload identities\n" +
				"(service principals) and blocked app " + f.client() + " — usually a location (IP range) condition.\n" +
				"Sign-in logs > Service principal sign-ins shows the failed sign-in and the policy" + traceHint(ee) + ".\n" +
				"Exclude the app from the policy or run ExoCal from an allowed network."}
	case auth.IsConsentMissing(err):
		return finding{CauseConsentMissing,
			"Entra says the app has no consent in tenant " + f.tenant() + aadstsSuffix(ee) + ".",
			f.consentFix()}
	case auth.IsNetwork(err):
		var ne *auth.NetworkError
		errors.As(err, &ne)
		return networkFinding(ne, f)
	case auth.IsClockSkew(err):
		return clockFinding(f, "Entra's answer suggests this computer's clock is wrong.")
	case auth.IsConfig(err):
		var ce *auth.ConfigError
		errors.As(err, &ce)
		if ce.Field == "" {
			return finding{CauseConfig, "A setting cannot be used" + because(ce.Reason) + ".",
				"See the details below and correct the setting in the settings window, or: exocal config set KEY VALUE"}
		}
		return finding{CauseConfig, "The " + ce.Field + " setting cannot be used" + because(ce.Reason) + ".",
			"Correct it in the settings window, or: exocal config set " + ce.Field + " VALUE"}
	case entra:
		var what []string
		if ee.Code != "" {
			what = append(what, ee.Code)
		}
		if ee.AADSTS != 0 {
			what = append(what, fmt.Sprintf("AADSTS%d", ee.AADSTS))
		}
		if ee.HTTPStatus != 0 {
			what = append(what, fmt.Sprintf("HTTP %d", ee.HTTPStatus))
		}
		msg := "Entra refused the token."
		if len(what) > 0 {
			msg = "Entra refused the token (" + strings.Join(what, ", ") + ")."
		}
		if ee.AADSTS == 0 {
			return finding{CauseEntraOther, msg, "See the details below" + traceHint(ee) + "; run the check again."}
		}
		return finding{CauseEntraOther, msg,
			fmt.Sprintf("Look up AADSTS%d at https://login.microsoftonline.com/error?code=%d", ee.AADSTS, ee.AADSTS) + traceHint(ee) + "."}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return finding{CauseCanceled, "The check was canceled or timed out.", ""}
	}
	return finding{CauseEntraOther, "The token request failed.", "See the details below; run the check again."}
}

// aadstsSuffix is " (AADSTSnnn)", or "" when the code is unknown.
func aadstsSuffix(ee *auth.EntraError) string {
	if ee == nil || ee.AADSTS == 0 {
		return ""
	}
	return fmt.Sprintf(" (AADSTS%d)", ee.AADSTS)
}

func traceHint(ee *auth.EntraError) string {
	if ee == nil || ee.CorrelationID == "" {
		return ""
	}
	return " (correlation ID " + ee.CorrelationID + ")"
}

func clockFinding(f facts, what string) finding {
	return finding{CauseClockSkew, what,
		"Set the clock right and keep it synchronised: on Linux `timedatectl set-ntp true` (check with `timedatectl status`);\n" +
			"on Windows, Settings > Time & language > Set time automatically. Then run the check again."}
}

// proxyHint is the "proxy needed?" paragraph for connection failures.
func proxyHint(f facts) string {
	if name, v := proxyFromEnv(f.getenv); name != "" {
		return "ExoCal uses the proxy " + name + "=" + v + "; check that it is right and reachable (and NO_PROXY for local hosts)."
	}
	return "If this network reaches the internet only through a proxy, tell ExoCal:\n" +
		"  export HTTPS_PROXY=http://proxy.example.com:8080   (and NO_PROXY=localhost,127.0.0.1)\n" +
		"before starting it (for the tray app, in its autostart entry or ~/.profile)."
}

// hostOfErr is the host of the URL a failed request went to (the
// transport's *url.Error), or "".
func hostOfErr(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	return hostOf(ue.URL)
}

// serverName names the server of a network error: its host, or, when the
// error does not say, the kind of server ("the EWS server").
func serverName(ne *auth.NetworkError) string {
	if ne.Host != "" {
		return ne.Host
	}
	switch op := strings.ToLower(ne.Op); {
	case strings.HasPrefix(op, "ews"):
		return "the EWS server"
	case strings.HasPrefix(op, "autodiscover"):
		return "the autodiscover server"
	case strings.HasPrefix(op, "token"):
		return "Microsoft Entra's sign-in server"
	}
	return "the server"
}

func networkFinding(ne *auth.NetworkError, f facts) finding {
	host := serverName(ne)
	switch ne.Kind {
	case auth.NetworkDNS:
		what, try := "the name of "+host, ""
		if ne.Host != "" {
			what, try = ne.Host, " (try `getent hosts "+strings.Split(ne.Host, ":")[0]+"`)"
		}
		return finding{CauseNetworkDNS, "Cannot resolve " + what + " (DNS).",
			"Check the network connection and DNS" + try + ".\n" + proxyHint(f)}
	case auth.NetworkTLS:
		if ne.ClockSkewHint {
			return clockFinding(f, "The certificate of "+host+" is outside its validity period for this computer's clock: the clock is probably wrong.")
		}
		return finding{CauseNetworkTLS, "The TLS connection to " + host + " failed: its certificate is not trusted here, or the handshake was refused.",
			"Usually a TLS-inspecting proxy or firewall sits in between: install its root certificate in the system trust store\n" +
				"(Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/ and run `sudo update-ca-certificates`), or point\n" +
				"SSL_CERT_FILE at a bundle that contains it. Never turn certificate checks off.\n" + proxyHint(f)}
	case auth.NetworkProxy:
		name, v := proxyFromEnv(f.getenv)
		where := "the configured proxy"
		if name != "" {
			where = name + "=" + v
		}
		return finding{CauseNetworkProxy, "The proxy failed to connect to " + host + " (" + where + ").",
			"Check the proxy address and port, whether it needs authentication, and that it allows " + host + ";\n" +
				"or unset HTTPS_PROXY if this network needs no proxy."}
	case auth.NetworkTimeout:
		within := ""
		if f.stepTimeout > 0 {
			within = " within " + f.stepTimeout.String()
		}
		return finding{CauseNetworkTimeout, "No answer from " + host + within + ".",
			"A firewall may drop the traffic, or the network is down.\n" + proxyHint(f)}
	case auth.NetworkConnect:
		fix := "Check the network connection and firewall (outbound HTTPS, port 443)."
		if h, port, err := net.SplitHostPort(host); err == nil && port != "443" {
			fix = "Check the network connection and firewall (outbound TCP, port " + port + ")."
			if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
				return finding{CauseNetworkConnect, "Cannot connect to " + host + ".",
					"Nothing answers there on this computer: start the server that should listen there (for ExoCal's emulator, `exocal emulator`), or correct the address in the settings."}
			}
		}
		return finding{CauseNetworkConnect, "Cannot connect to " + host + ".", fix + "\n" + proxyHint(f)}
	}
	return finding{CauseNetwork, "The connection to " + host + " failed.", "Check the network connection.\n" + proxyHint(f)}
}

// classifyAutodiscover names why autodiscover failed.
func classifyAutodiscover(err error, f facts, defaultEWS string) finding {
	if defaultEWS == "" {
		defaultEWS = "<EWS URL>"
	}
	setEWS := "To skip autodiscover, set the EWS URL directly:\n  exocal config set ews_url " + defaultEWS
	user, userArg := f.userWords()
	var ne *auth.NetworkError
	switch {
	case errors.As(err, &ne):
		return networkFinding(ne, f)
	case auth.IsEntra(err):
		return classifyToken(err, f)
	case autodiscover.IsRedirectRefused(err):
		var re *autodiscover.RedirectError
		errors.As(err, &re)
		to, why := "another server", ""
		if re.To != "" {
			to = re.To
		}
		if re.Reason != "" {
			why = " (" + re.Reason + ")"
		}
		return finding{CauseAutodiscoverRedirect,
			"Autodiscover redirected to " + to + ", which ExoCal refused" + why + ": the token is sent only to Microsoft's Exchange hosts and hosts you configured.",
			"If that server is really yours, set it as the Autodiscover URL or the EWS URL:\n  exocal config set autodiscover_url <server>\n" + setEWS}
	case autodiscover.IsNotFound(err):
		return finding{CauseAutodiscoverUserUnknown,
			"Autodiscover does not know " + user + ".",
			"The User must be an existing Exchange Online mailbox of this tenant (its primary SMTP address):\n" +
				"  exocal config set user <address>\n" +
				"Check it in the Exchange admin center > Recipients > Mailboxes, or `Get-Mailbox -Identity " + userArg + "`."}
	case autodiscover.IsAuth(err):
		return finding{CauseAutodiscoverSecurityDefaults,
			"Autodiscover refused the token (HTTP 401/403), and the Autodiscover V2 fallback found nothing either.",
			"Tenants with security defaults refuse SOAP autodiscover for app-only tokens. " + setEWS + "\n" +
				"or set the alternative autodiscover server (the settings window's \"Find autodiscover server\")."}
	case autodiscover.IsServerBusy(err):
		return finding{CauseAutodiscoverFailed, "Autodiscover is busy (ServerBusy / HTTP 503).", "Run the check again in a few minutes. " + setEWS}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return finding{CauseCanceled, "Autodiscover was canceled or timed out.", setEWS}
	}
	empty := "empty means the default, " + config.DefaultAutodiscoverFor(f.authorityHost())
	if config.DefaultAutodiscoverFor(f.authorityHost()) == "" {
		empty = "the authority host " + f.authorityHost() + " has no default, so it must be set"
	}
	return finding{CauseAutodiscoverFailed, "Autodiscover did not find the EWS URL for " + user + ".",
		"Check the User and the Autodiscover URL (" + empty + ").\n" + setEWS}
}

// ewsBlockFix is the tenant's EWS policy fix (EWS "Control access to EWS
// in Exchange"; the -EwsAllowedAppIDs list is written whole, so the
// commands keep the IDs already there).
func ewsBlockFix(f facts) string {
	return "An Exchange administrator runs, in PowerShell with the ExchangeOnlineManagement module:\n" +
		"  Connect-ExchangeOnline\n" +
		"  Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled,EwsAllowedAppIDs\n" +
		"  Set-OrganizationConfig -EwsEnabled $true\n" +
		"  # add this app to the allow list, keeping the IDs already in it (the list is written as a whole):\n" +
		"  $ids = @((Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy).EwsAllowedAppIDs -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })\n" +
		"  Set-OrganizationConfig -EwsAllowedAppIDs ((@($ids) + '" + f.client() + "' | Select-Object -Unique) -join ',')\n" +
		"Changes can take up to 24 hours to reach every Exchange server; run the check again later.\n" +
		"Note: Exchange Online switches EWS off for good on " + EWSEndDate.Format("2 Jan 2006") + "; Microsoft Graph is the way on."
}

// ewsScope says whether an EWS error is about the tenant and app (the EWS
// step fails) or about one mailbox (its calendar step fails).
func ewsMailboxLevel(err error) bool {
	var e *ews.Error
	if !errors.As(err, &e) {
		return false
	}
	return ews.IsMailboxNotFound(err) || ews.IsImpersonationDenied(err) ||
		(e.HTTPStatus == http.StatusForbidden && !ews.IsEWSBlocked(err)) ||
		e.ResponseCode == "ErrorAccountDisabled" || e.ResponseCode == "ErrorMailboxStoreUnavailable" ||
		e.ResponseCode == "ErrorMailboxMoveInProgress" || e.ResponseCode == "ErrorFolderNotFound"
}

// classifyEWS names an EWS failure; mailbox is the impersonated mailbox.
func classifyEWS(err error, f facts, mailbox string) finding {
	var e *ews.Error
	isEWS := errors.As(err, &e)
	mbox, mboxArg := mailboxWords(mailbox, "the mailbox")
	switch {
	case ews.IsEWSBlocked(err):
		reason := strings.ToLower(ews.EWSBlockReason(err))
		if strings.Contains(reason, "allow") {
			return finding{CauseEWSNotAllowlisted,
				"Exchange Online blocks EWS for this app: it is not in the tenant's EwsAllowedAppIDs (HTTP 403, X-EWS-Policy-Reason: " + e.PolicyReason + ").",
				ewsBlockFix(f)}
		}
		return finding{CauseEWSDisabled,
			"EWS is disabled for this tenant or mailbox (HTTP 403, X-EWS-Policy-Reason: " + e.PolicyReason + ").",
			ewsBlockFix(f) + "\nIf only some mailboxes are affected, check them too: Get-CASMailbox -Identity " + mboxArg + " | Format-List EwsEnabled"}
	case ews.IsMissingConsent(err) && f.hasEWSRole:
		return finding{CauseConsentMissing,
			"EWS refused the token (HTTP 401, x-ms-diagnostics 2000008) although it carries full_access_as_app: the admin consent has been granted but has not reached Exchange Online yet.",
			"Nothing to change yet: Wait a few minutes (consent can take up to an hour to reach Exchange), then run the check again.\n" +
				"If it persists for hours, open API permissions in Entra and choose \"Grant admin consent for " + f.tenant() + "\" again."}
	case ews.IsMissingConsent(err):
		return finding{CauseConsentMissing,
			"EWS refused the token: it carries no permissions (HTTP 401, x-ms-diagnostics 2000008) — admin consent for full_access_as_app is missing or has not reached Exchange yet.",
			f.consentFix()}
	case ews.IsAuth(err):
		return finding{CauseEWSAuth,
			"EWS refused the token (HTTP 401" + diagSuffix(e) + ").",
			"The token is for another tenant or cloud, or was revoked. Check the Tenant ID and the authority host; if you just\n" +
				"changed permissions, wait a few minutes and run the check again."}
	case ews.IsMailboxNotFound(err):
		noMailbox := "no such mailbox"
		if mailbox != "" {
			noMailbox = "no mailbox " + mailbox
		}
		return finding{CauseMailboxNotFound,
			"Exchange has " + noMailbox + " (ErrorNonExistentMailbox).",
			"Check the address: it must be the primary SMTP address of an Exchange Online mailbox (user, room or resource) in\n" +
				"tenant " + f.tenant() + ". Find it with `Get-Mailbox -Identity " + mboxArg + " | Format-List PrimarySmtpAddress`,\n" +
				"then correct it in the settings window (User, Mailboxes) or with `exocal config set mailboxes ...`."}
	case ews.IsImpersonationDenied(err):
		return finding{CauseMailboxAccessDenied,
			"The app may not open " + mboxPhrase(mailbox) + " (" + e.ResponseCode + "): it is outside the mailboxes the app is allowed to reach, or in another tenant.",
			"An application access policy or an RBAC for Applications scope limits which mailboxes app " + f.client() + " may use.\n" +
				"Check in Exchange Online PowerShell (Connect-ExchangeOnline):\n" +
				"  Test-ApplicationAccessPolicy -Identity " + mboxArg + " -AppId " + f.client() + "\n" +
				"  Get-ApplicationAccessPolicy | Where-Object AppId -eq '" + f.client() + "'\n" +
				"  Test-ServicePrincipalAuthorization -Identity " + f.client() + " -Resource " + mboxArg + "\n" +
				"Then add the mailbox to the policy's group (or the management scope of the app's role assignment), or remove the\n" +
				"restriction. Changes can take a while to apply. If the mailbox belongs to another tenant, it cannot be synced with\n" +
				"this registration."}
	case isEWS && e.HTTPStatus == http.StatusForbidden:
		return finding{CauseEWSUnlicensed,
			"EWS answered 403 Forbidden for " + mbox + " without X-EWS-Policy-Reason — not the tenant's EWS policy. Inferred: the mailbox's licence does not include EWS (F1/F3/Kiosk plans), or EWS is off for this mailbox.",
			"Check the mailbox's licence in the Microsoft 365 admin center > Users > Active users > " + mboxArg + " > Licenses and apps:\n" +
				"F1, F3 and Exchange Online Kiosk plans do not include EWS; assign a plan that does (Exchange Online Plan 1/2, E3, E5).\n" +
				"Also check the mailbox setting in Exchange Online PowerShell:\n" +
				"  Get-CASMailbox -Identity " + mboxArg + " | Format-List EwsEnabled\n" +
				"  Set-CASMailbox -Identity " + mboxArg + " -EwsEnabled $true"}
	case ews.IsThrottled(err):
		return finding{CauseEWSThrottled, "Exchange is busy or throttling this app (" + statusText(e) + ").",
			"Run the check again in a few minutes; ExoCal's sync backs off by itself."}
	}
	if isEWS && e.Err != nil {
		if auth.IsEntra(e.Err) || auth.IsConfig(e.Err) {
			return classifyToken(e.Err, f)
		}
		if ne := auth.ClassifyNetwork("EWS", firstNonEmpty(hostOfErr(e.Err), hostOf(f.ewsURL)), e.Err); ne != nil {
			return networkFinding(ne, f)
		}
	}
	if auth.IsEntra(err) {
		return classifyToken(err, f)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return finding{CauseCanceled, "The EWS call was canceled or timed out.", ""}
	}
	if isEWS {
		return finding{CauseEWSOther, "EWS failed" + forMailbox(mailbox) + " (" + statusText(e) + ").", "See the details below; run the check again."}
	}
	return finding{CauseEWSOther, "EWS failed" + forMailbox(mailbox) + ".", "See the details below; run the check again."}
}

// forMailbox is " for <mailbox>", or "" when the mailbox is unknown.
func forMailbox(mailbox string) string {
	if mailbox == "" {
		return ""
	}
	return " for " + mailbox
}

// mboxPhrase is "mailbox <mailbox>", or "the mailbox" when it is unknown.
func mboxPhrase(mailbox string) string {
	if mailbox == "" {
		return "the mailbox"
	}
	return "mailbox " + mailbox
}

func diagSuffix(e *ews.Error) string {
	if e == nil || e.Diagnostics == "" {
		return ""
	}
	return ", x-ms-diagnostics " + e.Diagnostics
}

func statusText(e *ews.Error) string {
	switch {
	case e.ResponseCode != "":
		return e.ResponseCode
	case e.HTTPStatus != 0:
		return fmt.Sprintf("HTTP %d", e.HTTPStatus)
	}
	return "no answer"
}

func indent(s, pfx string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = pfx + l
	}
	return strings.Join(lines, "\n")
}

func isCertificateConfig(err error) bool {
	var ce *auth.ConfigError
	return errors.As(err, &ce) && ce.Field == "certificate"
}
