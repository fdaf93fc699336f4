package ews

import (
	"context"
	"math/rand/v2"
	"time"
)

// Retry is a retry decorator for EWS calls (after restic's backend retry):
// it repeats a call that failed transiently or was throttled, waiting
//   - the BackOffMilliseconds of an ErrorServerBusy,
//   - the Retry-After of a 503 or 429,
//   - otherwise a capped exponential backoff with jitter,
//
// and gives up at once on a permanent error, when ctx ends, or after
// MaxAttempts attempts. The zero value is usable.
type Retry struct {
	MaxAttempts int           // total attempts, default 5
	Base        time.Duration // first backoff, default 1 s
	Max         time.Duration // cap of the exponential backoff, default 1 min
	// MaxServerWait caps a server-given wait (BackOff, Retry-After),
	// default 10 min.
	MaxServerWait time.Duration

	// Report, if set, is called before each wait ("retrying in 12 s").
	Report func(op string, err error, wait time.Duration)
	// Success, if set, is called when a call succeeds after retries.
	Success func(op string, retries int)
	// RefreshAuth, if set, is called when a call is refused with HTTP 401
	// (but not for a token without roles, IsMissingConsent): it should drop
	// the cached token (auth.TokenSource.Invalidate) and report whether a
	// new one may help; the call is then repeated once at once. This covers
	// a token revoked before its expiry.
	RefreshAuth func() bool

	sleep func(ctx context.Context, d time.Duration) error // tests
}

// Wait returns how long to wait before attempt number attempt+1 (attempt
// counts from 0) after err.
func (r *Retry) Wait(err error, attempt int) time.Duration {
	maxServer := r.MaxServerWait
	if maxServer <= 0 {
		maxServer = 10 * time.Minute
	}
	if e, ok := asError(err); ok {
		if d := max(e.BackOff, e.RetryAfter); d > 0 {
			return min(d, maxServer)
		}
	}
	base, capd := r.Base, r.Max
	if base <= 0 {
		base = time.Second
	}
	if capd <= 0 {
		capd = time.Minute
	}
	d := base
	for i := 0; i < attempt && d < capd; i++ {
		d *= 2
	}
	d = min(d, capd)
	// "equal jitter": half fixed, half random, so waits never collapse to 0.
	half := d / 2
	return half + rand.N(half+1)
}

// Do calls fn until it succeeds, fails permanently, ctx ends, or the
// attempts are used up; it returns fn's last error.
func (r *Retry) Do(ctx context.Context, op string, fn func(context.Context) error) error {
	attempts := r.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	sleep := r.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var err error
	refreshed := false
	for attempt := 0; attempt < attempts; attempt++ {
		err = fn(ctx)
		if err == nil {
			if attempt > 0 && r.Success != nil {
				r.Success(op, attempt)
			}
			return nil
		}
		if !refreshed && ctx.Err() == nil && r.refreshAuth(err) {
			refreshed = true
			attempt-- // a fresh token is not a retry of the same request
			continue
		}
		if ctx.Err() != nil || !(IsTransient(err) || IsThrottled(err)) || attempt == attempts-1 {
			return err
		}
		wait := r.Wait(err, attempt)
		if r.Report != nil {
			r.Report(op, err, wait)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return err
		}
	}
	return err
}

// refreshAuth calls RefreshAuth for a 401 that a new token may cure.
func (r *Retry) refreshAuth(err error) bool {
	if r == nil || r.RefreshAuth == nil || !IsAuth(err) || IsMissingConsent(err) {
		return false
	}
	return r.RefreshAuth()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func jitter() float64 { return rand.Float64() }
