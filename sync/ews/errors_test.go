package ews

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
)

func soapError(code string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>text of ` + code + `</m:MessageText><m:ResponseCode>` + code + `</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>`)
}

func TestErrorPredicates(t *testing.T) {
	t.Parallel()
	busy := fixture(t, "examples/serverbusy-fault.xml")
	type preds struct {
		throttled, auth, consent, permanent, blocked, syncState, subGone, noMailbox, denied bool
	}
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		body    []byte
		want    preds
		check   func(t *testing.T, e *Error)
	}{
		{"server busy fault", 500, nil, busy, preds{throttled: true}, func(t *testing.T, e *Error) {
			if e.BackOff != 297749*time.Millisecond || e.FaultCode != "a:ErrorServerBusy" || e.ResponseCode != "ErrorServerBusy" {
				t.Errorf("got BackOff %v fault %q code %q", e.BackOff, e.FaultCode, e.ResponseCode)
			}
		}},
		{"503 retry-after", 503, map[string]string{"Retry-After": "7"}, nil, preds{throttled: true}, func(t *testing.T, e *Error) {
			if e.RetryAfter != 7*time.Second {
				t.Errorf("got RetryAfter %v, want 7s", e.RetryAfter)
			}
		}},
		{"429", 429, map[string]string{"Retry-After": "2"}, nil, preds{throttled: true}, nil},
		{"401 no consent", 401, map[string]string{"X-Ms-Diagnostics": "2000008;reason=\"The token contains no permissions, or permissions can not be understood.\";error_category=\"invalid_grant\""}, nil,
			preds{auth: true, consent: true, permanent: true}, nil},
		{"401 plain", 401, nil, nil, preds{auth: true, permanent: true}, nil},
		{"403 EWS blocked", 403, map[string]string{"X-EWS-Policy-Reason": "AppNotInAllowList"}, nil, preds{permanent: true, blocked: true}, func(t *testing.T, e *Error) {
			if e.PolicyReason != "AppNotInAllowList" || EWSBlockKindOf(e) != BlockedNotAllowed {
				t.Errorf("got PolicyReason %q kind %v", e.PolicyReason, EWSBlockKindOf(e))
			}
		}},
		{"403 without policy", 403, nil, nil, preds{permanent: true}, nil},
		{"500 plain", 500, nil, []byte("oops"), preds{}, nil},
		{"non-existent mailbox", 200, nil, soapError("ErrorNonExistentMailbox"), preds{permanent: true, noMailbox: true}, nil},
		{"impersonation denied", 200, nil, soapError("ErrorImpersonateUserDenied"), preds{permanent: true, denied: true}, nil},
		{"access denied", 200, nil, soapError("ErrorAccessDenied"), preds{permanent: true, denied: true}, nil},
		{"invalid sync state", 200, nil, soapError("ErrorInvalidSyncStateData"), preds{permanent: true, syncState: true}, nil},
		{"subscription not found", 200, nil, soapError("ErrorSubscriptionNotFound"), preds{permanent: true, subGone: true}, nil},
		{"busy message", 200, nil, soapError("ErrorServerBusy"), preds{throttled: true}, nil},
		{"mailbox store unavailable", 200, nil, soapError("ErrorMailboxStoreUnavailable"), preds{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				w.WriteHeader(tt.status)
				w.Write(tt.body)
			})
			_, err := f.client(Config{}).GetFolder(context.Background(), nil, "a@contoso.com")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if e.HTTPStatus != tt.status || e.Op != "GetFolder" || e.Mailbox != "a@contoso.com" {
				t.Errorf("got status %d op %q mailbox %q", e.HTTPStatus, e.Op, e.Mailbox)
			}
			got := preds{IsThrottled(err), IsAuth(err), IsMissingConsent(err), IsPermanent(err), IsEWSBlocked(err),
				IsInvalidSyncState(err), IsSubscriptionNotFound(err), IsMailboxNotFound(err), IsImpersonationDenied(err)}
			if got != tt.want {
				t.Errorf("got predicates %+v, want %+v (err %v)", got, tt.want, err)
			}
			if IsTransient(err) == tt.want.permanent {
				t.Errorf("got IsTransient %v with IsPermanent %v", IsTransient(err), tt.want.permanent)
			}
			if errors.Is(err, calendar.ErrInvalidSyncState) != tt.want.syncState {
				t.Errorf("got errors.Is(ErrInvalidSyncState) %v, want %v", !tt.want.syncState, tt.want.syncState)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestTransportErrorIsTransient(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		// a truncated body: the declared length is not sent.
		w.Header().Set("Content-Length", "5000")
		w.WriteHeader(200)
		w.Write([]byte(`<?xml version="1.0"?><s:Envelope`))
	})
	_, err := f.client(Config{}).GetFolder(context.Background(), nil, "a@contoso.com")
	if !IsTransient(err) || IsPermanent(err) {
		t.Errorf("got transient %v permanent %v for %v, want transient", IsTransient(err), IsPermanent(err), err)
	}
	if IsTransient(errors.New("plain")) || IsPermanent(errors.New("plain")) {
		t.Errorf("a plain error is neither transient nor permanent")
	}
}
