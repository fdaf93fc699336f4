package ews

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

// Error is a failed EWS call: a transport failure (Err), an HTTP status
// without a usable reply, a SOAP fault, or an EWS response message with
// ResponseClass Error. Use the Is* predicates rather than the fields where
// one fits; words for people are chosen by the caller (ui, exocal check).
type Error struct {
	Op         string // EWS operation, e.g. "SyncFolderItems"
	Mailbox    string // the impersonated mailbox, when there is one
	HTTPStatus int    // 0 when no reply arrived

	// FaultCode and FaultString are the SOAP fault's, when the reply was one.
	FaultCode, FaultString string
	// ResponseCode is EWS's ResponseCodeType (from the fault detail or the
	// response message), e.g. "ErrorServerBusy".
	ResponseCode string
	MessageText  string
	// BackOff is ErrorServerBusy's BackOffMilliseconds hint.
	BackOff time.Duration
	// RetryAfter is the Retry-After header of a 503 or 429 reply.
	RetryAfter time.Duration

	// Diagnostics is the x-ms-diagnostics header (e.g. "2000008;reason=…"
	// for a token without the roles claim), PolicyReason the
	// X-EWS-Policy-Reason header of a 403 from a tenant that blocks EWS.
	Diagnostics  string
	PolicyReason string

	// Err is the underlying transport or parse error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ews: ")
	b.WriteString(e.Op)
	if e.Mailbox != "" {
		b.WriteString(" for ")
		b.WriteString(e.Mailbox)
	}
	switch {
	case e.ResponseCode != "":
		b.WriteString(": ")
		b.WriteString(e.ResponseCode)
		if msg := firstNonEmpty(e.MessageText, e.FaultString); msg != "" {
			b.WriteString(" (")
			b.WriteString(msg)
			b.WriteString(")")
		}
	case e.FaultCode != "":
		fmt.Fprintf(&b, ": SOAP fault %s: %s", e.FaultCode, e.FaultString)
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, ": HTTP %d %s", e.HTTPStatus, http.StatusText(e.HTTPStatus))
		if e.PolicyReason != "" {
			fmt.Fprintf(&b, " (X-EWS-Policy-Reason: %s)", e.PolicyReason)
		}
		if e.Diagnostics != "" {
			fmt.Fprintf(&b, " (x-ms-diagnostics: %s)", e.Diagnostics)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the transport error and, for ErrorInvalidSyncStateData,
// calendar.ErrInvalidSyncState.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.ResponseCode == "ErrorInvalidSyncStateData" {
		errs = append(errs, calendar.ErrInvalidSyncState)
	}
	return errs
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsThrottled reports whether Exchange asked the caller to slow down:
// ErrorServerBusy (as a fault or a response message), HTTP 503 or 429.
func IsThrottled(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	return e.ResponseCode == "ErrorServerBusy" || e.HTTPStatus == http.StatusServiceUnavailable ||
		e.HTTPStatus == http.StatusTooManyRequests
}

// IsAuth reports whether the token was refused (HTTP 401). Check
// IsMissingConsent for the x-ms-diagnostics 2000008 case.
func IsAuth(err error) bool {
	e, ok := asError(err)
	return ok && e.HTTPStatus == http.StatusUnauthorized
}

// IsMissingConsent reports a 401 whose x-ms-diagnostics is 2000008: the token
// carries no roles (full_access_as_app not granted or admin consent missing).
func IsMissingConsent(err error) bool {
	e, ok := asError(err)
	return ok && e.HTTPStatus == http.StatusUnauthorized && strings.HasPrefix(strings.TrimSpace(e.Diagnostics), "2000008")
}

// IsEWSBlocked reports a 403 carrying X-EWS-Policy-Reason: the tenant has EWS
// disabled or the app is not in EWSAllowedAppIDs. EWSBlockReason says which.
func IsEWSBlocked(err error) bool {
	e, ok := asError(err)
	return ok && e.HTTPStatus == http.StatusForbidden && e.PolicyReason != ""
}

// BlockKind says why a tenant blocks EWS.
type BlockKind int

const (
	NotBlocked        BlockKind = iota
	BlockedOther                // a policy reason that names neither case
	BlockedDisabled             // EWSEnabled is false for the tenant or user
	BlockedNotAllowed           // the app is not in EWSAllowedAppIDs
)

// EWSBlockKindOf classifies a blocked call by its X-EWS-Policy-Reason.
// Microsoft's exact wording is not documented, so the reason is matched
// loosely: one mentioning "allow" (EwsAllowedAppIDs, allow list) is
// BlockedNotAllowed, one mentioning "disabl" is BlockedDisabled.
func EWSBlockKindOf(err error) BlockKind {
	r := strings.ToLower(EWSBlockReason(err))
	switch {
	case !IsEWSBlocked(err):
		return NotBlocked
	case strings.Contains(r, "allow"):
		return BlockedNotAllowed
	case strings.Contains(r, "disabl"):
		return BlockedDisabled
	}
	return BlockedOther
}

// EWSBlockReason is the X-EWS-Policy-Reason of a blocked call ("" if err is
// not one). The value is Exchange's own word; callers match it
// case-insensitively: a reason mentioning "allow" (the app is not in
// EWSAllowedAppIDs) versus one mentioning "disabled" (EWSEnabled is false).
func EWSBlockReason(err error) string {
	if !IsEWSBlocked(err) {
		return ""
	}
	e, _ := asError(err)
	return e.PolicyReason
}

// IsInvalidSyncState reports ErrorInvalidSyncStateData; such an error also
// wraps calendar.ErrInvalidSyncState.
func IsInvalidSyncState(err error) bool {
	e, ok := asError(err)
	return ok && e.ResponseCode == "ErrorInvalidSyncStateData"
}

// IsSubscriptionNotFound reports a subscription that is gone: expired, lost
// by a restarted server, or asked of the wrong server.
func IsSubscriptionNotFound(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	switch e.ResponseCode {
	case "ErrorSubscriptionNotFound", "ErrorExpiredSubscription", "ErrorInvalidSubscription":
		return true
	}
	return false
}

// IsMailboxNotFound reports ErrorNonExistentMailbox (a wrong address).
func IsMailboxNotFound(err error) bool {
	e, ok := asError(err)
	return ok && e.ResponseCode == "ErrorNonExistentMailbox"
}

// IsImpersonationDenied reports that the app may not act as the mailbox:
// ErrorImpersonateUserDenied or ErrorAccessDenied.
func IsImpersonationDenied(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	switch e.ResponseCode {
	case "ErrorImpersonateUserDenied", "ErrorAccessDenied", "ErrorImpersonationDenied":
		return true
	}
	return false
}

// transientCodes are EWS response codes worth retrying as they are.
var transientCodes = map[string]bool{
	"ErrorServerBusy":                   true,
	"ErrorInternalServerError":          true,
	"ErrorInternalServerTransientError": true,
	"ErrorMailboxStoreUnavailable":      true,
	"ErrorMailboxMoveInProgress":        true,
	"ErrorTimeoutExpired":               true,
	"ErrorConnectionFailed":             true,
	"ErrorBatchProcessingStopped":       true,
	"ErrorImpersonationFailed":          true,
}

// IsTransient reports a failure that may go away by itself: no reply (a
// reset connection, a truncated body), HTTP 5xx, 408, 429, or a transient
// EWS code such as ErrorServerBusy or ErrorMailboxStoreUnavailable.
func IsTransient(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	if e.ResponseCode != "" {
		return transientCodes[e.ResponseCode]
	}
	if e.Err != nil && (e.HTTPStatus == 0 || e.HTTPStatus == http.StatusOK) {
		return true // no reply, or a truncated or garbled one
	}
	return e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus == http.StatusRequestTimeout
}

// IsPermanent reports an EWS failure that repeating the same request will
// not fix (authentication, a blocked tenant, a wrong mailbox, a refused sync
// state, a schema error …). Errors that are not *Error are not permanent.
func IsPermanent(err error) bool {
	if _, ok := asError(err); !ok {
		return false
	}
	return !IsTransient(err)
}

// parseRetryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backOffFrom reads BackOffMilliseconds from a MessageXml.
func backOffFrom(m messageXML) time.Duration {
	v := strings.TrimSpace(m.value("BackOffMilliseconds"))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

// messageError turns an error response message into an *Error (nil for
// Success and Warning).
func messageError(op, mailbox string, status int, m responseMessage) *Error {
	failed := m.ResponseClass == "Error" ||
		(m.ResponseClass == "" && m.ResponseCode != "" && m.ResponseCode != "NoError")
	if !failed {
		return nil
	}
	return &Error{
		Op: op, Mailbox: mailbox, HTTPStatus: status,
		ResponseCode: m.ResponseCode, MessageText: m.MessageText,
		BackOff: backOffFrom(m.MessageXML),
	}
}

func (k BlockKind) String() string {
	switch k {
	case NotBlocked:
		return "not blocked"
	case BlockedOther:
		return "blocked by policy"
	case BlockedDisabled:
		return "EWS disabled"
	case BlockedNotAllowed:
		return "app not in EWSAllowedAppIDs"
	}
	return fmt.Sprintf("BlockKind(%d)", int(k))
}
