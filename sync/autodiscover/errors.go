package autodiscover

import (
	"errors"
	"fmt"
	"strings"

	"github.com/exocal/exocal/sync/auth"
)

// Error is a failed autodiscover exchange: an HTTP status, an Autodiscover
// ErrorCode (SOAP: InvalidUser, ServerBusy, …; POX: 500, 600, …; V2:
// ErrorCode of its JSON) or a transport failure.
type Error struct {
	Op          string // MethodSOAP, MethodV2 or MethodPOX
	URL         string
	HTTPStatus  int
	Code        string
	Message     string
	Diagnostics string // X-MS-Diagnostics response header, when present
	// WWWAuthenticate is the challenge of a 401 (it names the expected
	// authorization server; it holds no secret).
	WWWAuthenticate string
	Err             error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "autodiscover: %s %s", e.Op, e.URL)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Diagnostics != "" {
		b.WriteString(" (x-ms-diagnostics: " + e.Diagnostics + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Reasons of a RedirectError.
const (
	ReasonNotHTTPS      = "not https"
	ReasonUntrustedHost = "host not trusted with the token"
	ReasonTooManyHops   = "too many redirects"
	ReasonLoop          = "redirect loop"
	ReasonBadURL        = "not a URL"
	ReasonUntrustedEWS  = "EWS URL host not trusted with the token"
)

// RedirectError is a redirect (or a returned EWS URL) that Discover refused
// to follow, so that the token never reaches a host nobody configured.
type RedirectError struct {
	Op     string
	From   string
	To     string
	Reason string
	Hops   int
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("autodiscover: %s: refused redirect from %s to %s: %s (after %d hops)", e.Op, e.From, e.To, e.Reason, e.Hops)
}

// IsAuth reports whether an autodiscover endpoint refused the request's
// authentication (HTTP 401 or 403) — the case Discover answers by falling
// back to Autodiscover V2. A failure to get a token at all is an auth
// package error instead (auth.IsEntra, auth.IsConfig).
func IsAuth(err error) bool {
	var e *Error
	if errors.As(err, &e) && (e.HTTPStatus == 401 || e.HTTPStatus == 403) {
		return true
	}
	return false
}

// IsNotFound reports that autodiscover does not know the user (SOAP
// InvalidUser, POX 500).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == "InvalidUser" || (e.Op == MethodPOX && e.Code == "500"))
}

// IsServerBusy reports an autodiscover ServerBusy answer (retry later).
func IsServerBusy(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == "ServerBusy" || e.HTTPStatus == 503)
}

// IsRedirectRefused reports a redirect or EWS URL refused by the https,
// trusted-host, hop-count or loop rules.
func IsRedirectRefused(err error) bool {
	var e *RedirectError
	return errors.As(err, &e)
}

// IsNetwork reports a DNS, TCP, proxy, TLS or timeout failure (see auth.NetworkError).
func IsNetwork(err error) bool { return auth.IsNetwork(err) }
