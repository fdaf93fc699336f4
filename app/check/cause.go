package check

// Cause names a finding, for programs: tests, scripts reading --json, the
// settings window's icons. The words for people are in Step.Finding/Fix.
type Cause string

// The causes, roughly in chain order.
const (
	CauseNone Cause = ""

	CauseSettingsUnreadable Cause = "settings-unreadable"
	CauseSettingsInvalid    Cause = "settings-invalid"
	CauseSyncDisabled       Cause = "sync-disabled"
	CauseSettingsUnknownKey Cause = "settings-unknown-key" // a key of config.json is no setting (a warning)

	CauseKeyringUnavailable  Cause = "keyring-unavailable"
	CauseRegistrationMissing Cause = "registration-missing"
	CauseRegistrationInvalid Cause = "registration-invalid"
	CauseTenantAlias         Cause = "tenant-alias"
	CauseSecretLooksLikeID   Cause = "secret-looks-like-id"
	CauseSecretExpiring      Cause = "secret-expiring"
	CauseSecretExpiryPassed  Cause = "secret-expiry-passed"
	CauseCertificateInvalid  Cause = "certificate-invalid"  // the stored bundle cannot be used (parse, key, not yet valid)
	CauseCertificateExpired  Cause = "certificate-expired"  // the certificate's NotAfter has passed
	CauseCertificateExpiring Cause = "certificate-expiring" // within secrets.CertificateWarnDays of NotAfter

	CauseInvalidSecret      Cause = "invalid-secret"
	CauseSecretIDNotValue   Cause = "secret-id-not-value"
	CauseSecretExpired      Cause = "secret-expired"
	CauseInvalidCertificate Cause = "invalid-certificate" // AADSTS700027: the certificate is not registered on the app
	CauseAppNotFound        Cause = "app-not-found"
	CauseTenantNotFound     Cause = "tenant-not-found"
	CauseWrongCloud         Cause = "wrong-cloud"
	CauseBadScope           Cause = "bad-scope"
	CauseConditionalAccess  Cause = "conditional-access"
	CauseConsentMissing     Cause = "consent-missing"
	CauseMissingRole        Cause = "missing-role"
	CauseWrongAudience      Cause = "wrong-audience"
	CauseWrongTenantToken   Cause = "token-tenant-mismatch"
	CauseClockSkew          Cause = "clock-skew"
	CauseEntraOther         Cause = "entra-error"
	CauseConfig             Cause = "config-error"

	CauseNetworkDNS     Cause = "network-dns"
	CauseNetworkTLS     Cause = "network-tls"
	CauseNetworkConnect Cause = "network-connect"
	CauseNetworkProxy   Cause = "network-proxy"
	CauseNetworkTimeout Cause = "network-timeout"
	CauseNetwork        Cause = "network"
	CauseCanceled       Cause = "canceled"

	CauseAutodiscoverSecurityDefaults Cause = "autodiscover-security-defaults"
	CauseAutodiscoverUserUnknown      Cause = "autodiscover-user-unknown"
	CauseAutodiscoverRedirect         Cause = "autodiscover-redirect-refused"
	CauseAutodiscoverOtherServer      Cause = "autodiscover-other-server"
	CauseAutodiscoverFailed           Cause = "autodiscover-failed"

	CauseEWSDisabled       Cause = "ews-disabled"
	CauseEWSNotAllowlisted Cause = "ews-not-allowlisted"
	CauseEWSAuth           Cause = "ews-auth"
	CauseEWSForbidden      Cause = "ews-forbidden" // 403 without X-EWS-Policy-Reason (see CauseEWSUnlicensed)
	CauseEWSThrottled      Cause = "ews-throttled"
	CauseEWSOther          Cause = "ews-error"

	CauseEWSUnlicensed       Cause = "ews-unlicensed"
	CauseMailboxNotFound     Cause = "mailbox-not-found"
	CauseMailboxAccessDenied Cause = "mailbox-access-denied"

	CauseSubscriptionFailed Cause = "subscription-failed"

	CauseSkipped Cause = "skipped"
)

// Setup reports whether the cause is a configuration or authentication
// problem (exit code 2) rather than the network or one mailbox (1).
func (c Cause) Setup() bool {
	switch c {
	case CauseSettingsUnreadable, CauseSettingsInvalid, CauseSyncDisabled,
		CauseKeyringUnavailable, CauseRegistrationMissing, CauseRegistrationInvalid, CauseTenantAlias,
		CauseCertificateInvalid, CauseCertificateExpired, CauseInvalidCertificate,
		CauseInvalidSecret, CauseSecretIDNotValue, CauseSecretExpired, CauseAppNotFound,
		CauseTenantNotFound, CauseWrongCloud, CauseBadScope, CauseConditionalAccess,
		CauseConsentMissing, CauseMissingRole, CauseWrongAudience, CauseWrongTenantToken, CauseClockSkew,
		CauseEntraOther, CauseConfig,
		CauseAutodiscoverSecurityDefaults, CauseAutodiscoverUserUnknown, CauseAutodiscoverRedirect,
		CauseAutodiscoverFailed,
		CauseEWSDisabled, CauseEWSNotAllowlisted, CauseEWSAuth:
		return true
	}
	return false
}
