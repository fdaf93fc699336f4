package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ServeSyncRequests makes the App answer "sync" requests on its
// single-instance socket (Options.Instance; a no-op without one): a
// second `exocal sync --once` then syncs through this instance instead of
// failing on the state database it holds. Call it once, before Run.
func (a *App) ServeSyncRequests() {
	if in := a.opts.Instance; in != nil {
		in.OnSync(a.SyncAndWait)
	}
}

// SyncAndWait asks the engine for an immediate sync of every mailbox and
// waits until it has finished (or ctx ends), then reports each mailbox.
// It refuses, with one sentence and its fix, while paused, not set up or
// without an engine.
//
// Finished means what WaitForSync says: every mailbox has finished a sync
// that started after the request.
func (a *App) SyncAndWait(ctx context.Context) (SyncReport, error) {
	a.mu.Lock()
	eng, paused, regErr := a.opts.Engine, a.paused, a.reg.err
	a.mu.Unlock()
	st := a.Status()
	switch {
	case eng == nil:
		return SyncReport{}, errors.New("app: this ExoCal has no sync engine")
	case paused:
		return SyncReport{}, errors.New("app: ExoCal is paused; choose Resume in its tray menu, then try again")
	case st.State == StateNotConfigured:
		return SyncReport{}, cannotSync(st)
	case regErr != nil || (st.State == StateError && !anyFailed(st)):
		// The registration is unreadable or the backend cannot be built:
		// the engine retries on its own schedule, not on "sync now".
		return SyncReport{}, cannotSync(st)
	}
	statuses, unsub := a.Subscribe()
	defer unsub()
	next := func(ctx context.Context) (Status, error) {
		select {
		case <-ctx.Done():
			return Status{}, ctx.Err()
		case s := <-statuses:
			return s, nil
		}
	}
	fin, err := WaitForSync(ctx, a.opts.Now(), eng.SyncNow, next)
	if err != nil {
		return SyncReport{}, err
	}
	return ReportFromStatus(fin), nil
}

// WaitForSync calls kick (a "sync now") and reads statuses with next
// until the sync it started has finished: every mailbox has finished a
// sync, successful or not, that started at or after since
// (MailboxStatus.Attempted; the engine runs a mailbox whose sync was under
// way at the request once more). since is the clock reading just before
// kick, on the engine's clock. Pause, or losing the setup, ends the wait
// with an error; an error state with no mailbox to wait for is the answer.
func WaitForSync(ctx context.Context, since time.Time, kick func(), next func(context.Context) (Status, error)) (Status, error) {
	kick()
	for {
		st, err := next(ctx)
		if err != nil {
			return Status{}, fmt.Errorf("app: wait for the sync: %w", err)
		}
		if st.At.Before(since) {
			continue // from before the request
		}
		switch st.State {
		case StatePaused:
			return Status{}, errors.New("app: ExoCal was paused before the sync finished; choose Resume in its tray menu, then try again")
		case StateNotConfigured:
			return Status{}, cannotSync(st)
		case StateError:
			if len(st.Mailboxes) == 0 {
				return st, nil // the backend cannot be built: nothing syncs
			}
		}
		if allAttemptedSince(st, since) {
			return st, nil
		}
	}
}

// allAttemptedSince reports that every mailbox finished a sync that
// started at or after since.
func allAttemptedSince(st Status, since time.Time) bool {
	if len(st.Mailboxes) == 0 {
		return false
	}
	for _, m := range st.Mailboxes {
		if m.Attempted.Before(since) {
			return false
		}
	}
	return true
}

// ReportFromStatus turns a finished sync's Status into its report: a
// failed mailbox's error and its fix in one line, marked Setup when there
// is a fix in the settings (MailboxStatus.Fix).
func ReportFromStatus(st Status) SyncReport {
	rep := SyncReport{ExportDir: st.ExportDir}
	for _, m := range st.Mailboxes {
		r := SyncResult{Mailbox: m.Address, Events: m.Items}
		if m.State == StateError {
			why, fix := m.Err, m.Fix
			if strings.TrimSpace(why) == "" {
				why, fix = st.Err, st.Fix
			}
			r.Err = strings.Join(strings.Fields(why+" "+fix), " ")
			if r.Err == "" {
				r.Err = "failed"
			}
			r.Setup = strings.TrimSpace(fix) != ""
		}
		rep.Results = append(rep.Results, r)
	}
	return rep
}

func anyFailed(st Status) bool {
	for _, m := range st.Mailboxes {
		if m.State == StateError {
			return true
		}
	}
	return false
}

// cannotSync is the refusal for a Status that does not let a sync run:
// its reason, which names the fix.
func cannotSync(st Status) error {
	why := strings.Join(strings.Fields(st.Err+" "+st.Fix), " ")
	if why == "" {
		why = "Not set up — open Settings."
	}
	return fmt.Errorf("app: ExoCal cannot sync now: %s", strings.TrimSuffix(why, "."))
}
