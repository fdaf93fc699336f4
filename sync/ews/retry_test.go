package ews

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	t.Parallel()
	busy := &Error{Op: "X", HTTPStatus: 500, ResponseCode: "ErrorServerBusy", BackOff: 3 * time.Second}
	unavailable := &Error{Op: "X", HTTPStatus: 503, RetryAfter: 9 * time.Second}
	reset := &Error{Op: "X", Err: errors.New("connection reset by peer")}
	denied := &Error{Op: "X", HTTPStatus: 200, ResponseCode: "ErrorImpersonateUserDenied"}
	tests := []struct {
		name      string
		errs      []error // returned by successive attempts; nil = success
		max       int
		wantCalls int
		wantErr   error
		wantWaits []time.Duration // exact, or 0 for "any backoff within bounds"
	}{
		{"busy then ok", []error{busy, nil}, 5, 2, nil, []time.Duration{3 * time.Second}},
		{"503 then ok", []error{unavailable, nil}, 5, 2, nil, []time.Duration{9 * time.Second}},
		{"resets then ok", []error{reset, reset, nil}, 5, 3, nil, []time.Duration{0, 0}},
		{"permanent", []error{denied, nil}, 5, 1, denied, nil},
		{"bounded", []error{reset, reset, reset, reset}, 3, 3, reset, []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var waits []time.Duration
			var reported []time.Duration
			succeeded := -1
			r := &Retry{MaxAttempts: tt.max, Base: 100 * time.Millisecond, Max: time.Second,
				Report:  func(op string, err error, d time.Duration) { reported = append(reported, d) },
				Success: func(op string, n int) { succeeded = n },
				sleep:   func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil },
			}
			calls := 0
			err := r.Do(context.Background(), "X", func(context.Context) error {
				e := tt.errs[calls]
				calls++
				return e
			})
			if calls != tt.wantCalls {
				t.Errorf("got %d calls, want %d", calls, tt.wantCalls)
			}
			if err != tt.wantErr {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if len(waits) != len(tt.wantWaits) || len(reported) != len(waits) {
				t.Fatalf("got waits %v reported %v, want %d", waits, reported, len(tt.wantWaits))
			}
			for i, w := range tt.wantWaits {
				if w != 0 && waits[i] != w {
					t.Errorf("wait %d: got %v, want %v", i, waits[i], w)
				}
				if w == 0 && (waits[i] < 50*time.Millisecond || waits[i] > time.Second) {
					t.Errorf("wait %d: got %v, want a jittered backoff in [50ms, 1s]", i, waits[i])
				}
			}
			if tt.wantErr == nil && succeeded != tt.wantCalls-1 {
				t.Errorf("got Success(%d), want %d", succeeded, tt.wantCalls-1)
			}
		})
	}
}

func TestRetryBackoffGrowsAndCaps(t *testing.T) {
	t.Parallel()
	r := &Retry{Base: time.Second, Max: 8 * time.Second}
	reset := &Error{Err: errors.New("reset")}
	for attempt, capd := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second} {
		for i := 0; i < 50; i++ {
			d := r.Wait(reset, attempt)
			if d < capd/2 || d > capd {
				t.Fatalf("attempt %d: got %v, want within [%v, %v]", attempt, d, capd/2, capd)
			}
		}
	}
	if d := r.Wait(&Error{ResponseCode: "ErrorServerBusy", BackOff: time.Hour}, 0); d != 10*time.Minute {
		t.Errorf("got %v, want the server wait capped at 10m", d)
	}
}

func TestRetryContextCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Retry{MaxAttempts: 100, Base: time.Hour, Max: time.Hour}
	done := make(chan error, 1)
	var calls atomic.Int32
	go func() {
		done <- r.Do(ctx, "X", func(context.Context) error {
			calls.Add(1)
			return &Error{Err: errors.New("reset")}
		})
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || calls.Load() != 1 {
			t.Errorf("got %v after %d calls, want the last error after 1 call", err, calls.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return after cancel")
	}
}

// TestClientRetriesServerBusy: a Client with Retry honours the fault's
// BackOffMilliseconds and succeeds on the second attempt.
func TestClientRetriesServerBusy(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(500)
			w.Write(fixture(t, "examples/serverbusy-fault.xml"))
			return
		}
		replay(t, w, "msdocs/09-getfolder-calendar-response.xml")
	})
	var waits []time.Duration
	r := &Retry{sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	_, err := f.client(Config{Retry: r}).GetFolder(context.Background(), nil, "a@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != 297749*time.Millisecond {
		t.Errorf("got waits %v, want [4m57.749s]", waits)
	}
}

func TestRetryRefreshAuth(t *testing.T) {
	t.Parallel()
	revoked := &Error{Op: "X", HTTPStatus: 401}
	noRoles := &Error{Op: "X", HTTPStatus: 401, Diagnostics: "2000008;reason=\"no roles\""}
	tests := []struct {
		name       string
		errs       []error
		refresh    bool
		wantCalls  int
		wantFresh  int
		wantErrNil bool
	}{
		{"revoked then ok", []error{revoked, nil}, true, 2, 1, true},
		{"revoked twice", []error{revoked, revoked, nil}, true, 2, 1, false},
		{"no consent", []error{noRoles, nil}, true, 1, 0, false},
		{"refresh declines", []error{revoked, nil}, false, 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fresh := 0
			r := &Retry{RefreshAuth: func() bool { fresh++; return tt.refresh },
				sleep: func(context.Context, time.Duration) error { return nil }}
			calls := 0
			err := r.Do(context.Background(), "X", func(context.Context) error { e := tt.errs[calls]; calls++; return e })
			if calls != tt.wantCalls || fresh != tt.wantFresh || (err == nil) != tt.wantErrNil {
				t.Errorf("got %d calls %d refreshes err %v, want %d %d nil=%v", calls, fresh, err, tt.wantCalls, tt.wantFresh, tt.wantErrNil)
			}
		})
	}
}
