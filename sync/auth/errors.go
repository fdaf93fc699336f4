package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// AADSTS codes this package names. Microsoft documents them in "Microsoft
// Entra authentication and authorization error codes" and warns that they
// may change, so they only ever choose words for people.
const (
	AADSTSConditionalAccess    = 53003   // BlockedByConditionalAccess
	AADSTSConsentRequired      = 65001   // DelegatedPermissionGrantNotFound / consent_required
	AADSTSInvalidScope         = 70011   // InvalidScope
	AADSTSTenantNotFound       = 90002   // InvalidTenantName: tenant not found
	AADSTSWrongCloud           = 90038   // NationalCloudTenantRedirection: tenant lives in another cloud
	AADSTSAppNotFound          = 700016  // UnauthorizedClient_DoesNotMatchRequest: app not found in the directory
	AADSTSAssertionTime        = 700024  // client assertion is not within its valid time range (clock)
	AADSTSAssertionSignature   = 700027  // client assertion failed signature validation / certificate unknown
	AADSTSResourceNotFound     = 500011  // resource principal not found in the tenant (scope host)
	AADSTSInvalidTenantID      = 900023  // tenant identifier is neither a GUID nor a domain
	AADSTSScopeNotDefault      = 1002012 // client credentials need a scope ending in /.default
	AADSTSAppDisabled          = 7000112 // UnauthorizedClientApplicationDisabled
	AADSTSInvalidSecret        = 7000215 // invalid client secret (often the secret ID pasted instead of the value)
	AADSTSMissingCredential    = 7000218 // request body must contain client_assertion or client_secret
	AADSTSSecretExpired        = 7000222 // the client secret has expired
	AADSTSServicePrincipalGone = 7000229 // the client app has no service principal in the tenant (no consent)
	clockSkewThreshold         = 5 * time.Minute
)

// EntraError is an error response of the Entra token endpoint. It carries
// what Microsoft's support needs (trace and correlation IDs) and never the
// secret, the assertion or a token.
type EntraError struct {
	HTTPStatus    int
	Code          string // OAuth "error", e.g. "invalid_client"
	AADSTS        int    // first of error_codes, or the "AADSTSnnnn:" prefix of the description
	Codes         []int  // all of error_codes
	Description   string // error_description (the secret, if ever echoed, is redacted)
	TraceID       string
	CorrelationID string
	Timestamp     string
	ErrorURI      string
	// ClockSkew is local time minus the server's Date header, when known.
	ClockSkew time.Duration
	// SecretLooksLikeID is set for AADSTS7000215 when the configured secret
	// is GUID-shaped: almost certainly the secret's ID, not its value.
	SecretLooksLikeID bool
}

func (e *EntraError) Error() string {
	var b strings.Builder
	b.WriteString("auth: entra rejected the token request")
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.AADSTS != 0 {
		fmt.Fprintf(&b, " AADSTS%d", e.AADSTS)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if d := e.shortDescription(); d != "" {
		b.WriteString(": " + d)
	}
	if e.TraceID != "" || e.CorrelationID != "" {
		fmt.Fprintf(&b, " [trace %s, correlation %s]", e.TraceID, e.CorrelationID)
	}
	return b.String()
}

// shortDescription is the first line of the description without the
// "AADSTSnnnn: " prefix (the trace lines are reported separately).
func (e *EntraError) shortDescription() string {
	d := e.Description
	if i := strings.IndexAny(d, "\r\n"); i >= 0 {
		d = d[:i]
	}
	d = aadstsPrefix.ReplaceAllString(d, "")
	return strings.TrimSpace(d)
}

var aadstsPrefix = regexp.MustCompile(`^\s*AADSTS(\d+):\s*`)

// Has reports whether the error carries that AADSTS code.
func (e *EntraError) Has(code int) bool {
	if e.AADSTS == code {
		return true
	}
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// entraErrorBody is the JSON of an error response.
type entraErrorBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

// decodeRetrieveError turns oauth2's RetrieveError into an EntraError,
// removing every occurrence of the given secrets from the text it keeps.
func decodeRetrieveError(re *oauth2.RetrieveError, secrets ...string) *EntraError {
	e := &EntraError{Code: re.ErrorCode, Description: re.ErrorDescription, ErrorURI: re.ErrorURI}
	if re.Response != nil {
		e.HTTPStatus = re.Response.StatusCode
		if d, err := http.ParseTime(re.Response.Header.Get("Date")); err == nil {
			e.ClockSkew = time.Since(d).Round(time.Second)
		}
	}
	var body entraErrorBody
	if json.Unmarshal(re.Body, &body) == nil {
		if body.Error != "" {
			e.Code = body.Error
		}
		if body.Description != "" {
			e.Description = body.Description
		}
		if body.ErrorURI != "" {
			e.ErrorURI = body.ErrorURI
		}
		e.Codes = body.Codes
		e.Timestamp = body.Timestamp
		e.TraceID = body.TraceID
		e.CorrelationID = body.CorrelationID
	}
	if len(e.Codes) > 0 {
		e.AADSTS = e.Codes[0]
	} else if m := aadstsPrefix.FindStringSubmatch(e.Description); m != nil {
		e.AADSTS, _ = strconv.Atoi(m[1])
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			e.Description = strings.ReplaceAll(e.Description, s, "[REDACTED]")
			e.ErrorURI = strings.ReplaceAll(e.ErrorURI, s, "[REDACTED]")
		}
	}
	return e
}

func entraHas(err error, codes ...int) bool {
	var e *EntraError
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Has(c) {
			return true
		}
	}
	return false
}

// IsEntra reports whether Entra answered the token request with an error.
func IsEntra(err error) bool {
	var e *EntraError
	return errors.As(err, &e)
}

// IsInvalidSecret: the secret is wrong — most often the secret's ID was
// pasted instead of its value (AADSTS7000215), or none was sent (7000218).
func IsInvalidSecret(err error) bool {
	return entraHas(err, AADSTSInvalidSecret, AADSTSMissingCredential)
}

// IsSecretExpired: the client secret has expired (AADSTS7000222).
func IsSecretExpired(err error) bool { return entraHas(err, AADSTSSecretExpired) }

// IsAppNotFound: no app with this client ID in this tenant (AADSTS700016):
// wrong client ID, wrong tenant, or a multi-tenant app not consented here;
// also a disabled app (7000112).
func IsAppNotFound(err error) bool { return entraHas(err, AADSTSAppNotFound, AADSTSAppDisabled) }

// IsTenantNotFound: the tenant does not exist in this cloud (AADSTS90002,
// 900023) or belongs to another national cloud (90038; see IsWrongCloud).
func IsTenantNotFound(err error) bool {
	return entraHas(err, AADSTSTenantNotFound, AADSTSInvalidTenantID, AADSTSWrongCloud)
}

// IsWrongCloud: the tenant lives in another national cloud (AADSTS90038).
func IsWrongCloud(err error) bool { return entraHas(err, AADSTSWrongCloud) }

// IsBadScope: the scope is not valid for client credentials (AADSTS70011,
// 1002012, or the resource's principal is missing: 500011).
func IsBadScope(err error) bool {
	var e *EntraError
	if errors.As(err, &e) && e.Code == "invalid_scope" {
		return true
	}
	return entraHas(err, AADSTSInvalidScope, AADSTSScopeNotDefault, AADSTSResourceNotFound)
}

// IsConditionalAccess: a Conditional Access policy blocked the app (AADSTS53003).
func IsConditionalAccess(err error) bool { return entraHas(err, AADSTSConditionalAccess) }

// IsConsentMissing: Entra itself says consent is missing (AADSTS65001,
// 7000229). Missing admin consent for application roles usually shows up
// differently: a token without roles (see ErrNoRoles).
func IsConsentMissing(err error) bool {
	return entraHas(err, AADSTSConsentRequired, AADSTSServicePrincipalGone)
}

// IsInvalidCertificate: the client assertion's signature or certificate was
// not accepted (AADSTS700027): the certificate is not uploaded to the app.
func IsInvalidCertificate(err error) bool { return entraHas(err, AADSTSAssertionSignature) }

// IsClockSkew reports a local clock Entra (or TLS) disagrees with: AADSTS700024,
// a server Date more than five minutes away from local time on an Entra
// error, or a certificate outside its validity period.
func IsClockSkew(err error) bool {
	if entraHas(err, AADSTSAssertionTime) {
		return true
	}
	var e *EntraError
	if errors.As(err, &e) && (e.ClockSkew > clockSkewThreshold || e.ClockSkew < -clockSkewThreshold) {
		return true
	}
	var ne *NetworkError
	return errors.As(err, &ne) && ne.ClockSkewHint
}

// NetworkKind says what failed below HTTP.
type NetworkKind string

const (
	NetworkDNS     NetworkKind = "dns"
	NetworkTLS     NetworkKind = "tls"
	NetworkConnect NetworkKind = "connect"
	NetworkProxy   NetworkKind = "proxy"
	NetworkTimeout NetworkKind = "timeout"
	NetworkOther   NetworkKind = "network"
)

// NetworkError is a failure to reach a server: name resolution, TCP
// connection, proxy, TLS handshake or certificate, or a timeout.
type NetworkError struct {
	Op   string // what was being done, e.g. "token request"
	Host string
	Kind NetworkKind
	// ClockSkewHint is set when a certificate was outside its validity
	// period: often the local clock is wrong.
	ClockSkewHint bool
	Err           error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("auth: %s: %s error reaching %s: %v", e.Op, e.Kind, e.Host, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// IsNetwork reports whether err is (or wraps) a NetworkError.
func IsNetwork(err error) bool {
	var ne *NetworkError
	return errors.As(err, &ne)
}

// ClassifyNetwork returns a *NetworkError for transport-level failures in
// err (as returned by http.Client.Do), or nil when err is something else
// (an HTTP-level or protocol error, or the caller's context ending).
func ClassifyNetwork(op, host string, err error) *NetworkError {
	if err == nil {
		return nil
	}
	var already *NetworkError
	if errors.As(err, &already) {
		return already
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	ne := &NetworkError{Op: op, Host: host, Err: err}
	var (
		dnsErr   *net.DNSError
		opErr    *net.OpError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		alertErr tls.AlertError
	)
	switch {
	case errors.As(err, &dnsErr):
		ne.Kind = NetworkDNS
	case errors.As(err, &invalid):
		ne.Kind = NetworkTLS
		ne.ClockSkewHint = invalid.Reason == x509.Expired
	case errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &verify),
		errors.As(err, &record), errors.As(err, &alertErr):
		ne.Kind = NetworkTLS
	case errors.As(err, &opErr) && opErr.Op == "proxyconnect":
		ne.Kind = NetworkProxy
	case strings.Contains(err.Error(), "proxyconnect"):
		ne.Kind = NetworkProxy
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		ne.Kind = NetworkTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		ne.Kind = NetworkConnect
	case errors.As(err, &opErr):
		ne.Kind = NetworkOther
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:"):
		ne.Kind = NetworkTLS
	default:
		return nil
	}
	return ne
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
