// Package check walks ExoCal's setup chain step by step — settings, the
// keyring registration, the Entra token and its claims, autodiscover, EWS,
// the User's and every synced mailbox's calendar, a streaming subscription —
// and says for each failure what is wrong and exactly how to fix it. The
// settings window's "Test connection" and `exocal check` both run it.
//
// Words for people are chosen from typed errors and their predicates
// (sync/auth, sync/autodiscover, sync/ews, app/secrets, app/config), never
// by parsing an error's text. No output of the chain — Finding, Fix,
// Detail, Details(), JSON — ever holds the client secret or a token: every
// string is scrubbed before it leaves Run (see redact.go).
package check

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// State is the outcome of one step.
type State int

// The states, in the order a checklist shows them.
const (
	StateOK State = iota
	StateWarning
	StateFailed
	StateSkipped
)

var stateNames = [...]string{"ok", "warning", "failed", "skipped"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// MarshalText writes the state's name ("ok", "warning", "failed", "skipped").
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("check: unknown state %q", b)
}

// Step IDs, stable for scripts (`exocal check --json`) and the UI.
const (
	StepSettings     = "settings"
	StepRegistration = "registration"
	StepToken        = "token"
	StepClaims       = "claims"
	StepAutodiscover = "autodiscover"
	StepEWS          = "ews"
	StepUserCalendar = "user-calendar"
	StepMailbox      = "mailbox" // one per synced mailbox other than the User
	StepSubscription = "subscription"
)

// Step is one link of the chain and what was found there.
type Step struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	State State  `json:"state"`
	// Required steps must pass for Report.OK; a failed optional step
	// (streaming) is shown as a warning.
	Required bool `json:"required"`
	// Mailbox is the mailbox a calendar step is about.
	Mailbox string `json:"mailbox,omitempty"`
	// Cause names the finding for programs (tests, the UI's icons); "" when
	// there is nothing to say.
	Cause Cause `json:"cause,omitempty"`
	// Finding is one line for people.
	Finding string `json:"finding"`
	// Fix is what to do, exactly: steps, commands, a JSON snippet; it may
	// span several lines.
	Fix string `json:"fix,omitempty"`
	// Detail is the technical record for a support ticket (the error,
	// Entra's trace and correlation IDs); never a secret or token.
	Detail  string        `json:"detail,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Failed reports whether the step failed.
func (s Step) Failed() bool { return s.State == StateFailed }

// Report is the result of Run.
type Report struct {
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	TenantID string        `json:"tenant_id,omitempty"`
	ClientID string        `json:"client_id,omitempty"`
	User     string        `json:"user,omitempty"`
	Steps    []Step        `json:"steps"`

	// scrub are the values Details and the renderers remove (the secret,
	// the token); never marshalled.
	scrub []string
}

// OK reports whether every required step passed (warnings allowed).
func (r Report) OK() bool {
	for _, s := range r.Steps {
		if s.Required && (s.State == StateFailed || s.State == StateSkipped) {
			return false
		}
	}
	return len(r.Steps) > 0
}

// FirstFailure returns the first failed required step.
func (r Report) FirstFailure() (Step, bool) {
	for _, s := range r.Steps {
		if s.Required && s.State == StateFailed {
			return s, true
		}
	}
	return Step{}, false
}

// Step returns the first step with that ID.
func (r Report) Step(id string) (Step, bool) {
	for _, s := range r.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Exit codes (DESIGN.md).
const (
	ExitOK     = 0
	ExitFailed = 1 // something else failed (a mailbox, the network)
	ExitSetup  = 2 // configuration or authentication
)

// ExitCode is `exocal check`'s exit code: 0 when OK, 2 when a required step
// failed for a configuration or authentication reason, 1 otherwise.
func (r Report) ExitCode() int {
	if r.OK() {
		return ExitOK
	}
	for _, s := range r.Steps {
		if s.Required && s.State == StateFailed && s.Cause.Setup() {
			return ExitSetup
		}
	}
	return ExitFailed
}

// MarshalJSON adds "ok" and "exit_code" and scrubs the secret and tokens.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	b, err := json.Marshal(struct {
		OK       bool `json:"ok"`
		ExitCode int  `json:"exit_code"`
		plain
	}{r.OK(), r.ExitCode(), plain(r)})
	if err != nil {
		return nil, err
	}
	return []byte(redact(string(b), r.scrub)), nil
}

// Input is what the chain checks. Settings and a registration source are
// required; the rest has defaults.
type Input struct {
	Settings config.Settings
	// SettingsErr is the error loading the settings, if any (the settings
	// step reports it).
	SettingsErr error
	// SettingsPath is shown in fixes ("" omits it).
	SettingsPath string
	// SettingsWarnings are what loading the settings ignored (config.LoadWarn:
	// unknown keys); the settings step shows them as a warning.
	SettingsWarnings []string

	// Store is where the registration lives (secrets.Default() for the
	// keyring under the EXOCAL_* overrides). When nil, Registration and
	// RegistrationErr are used as loaded by the caller.
	Store           secrets.Store
	Profile         string // "" means secrets.DefaultProfile
	Registration    secrets.Registration
	RegistrationErr error
	// Env is the EXOCAL_* overlay of a caller that passes Registration
	// itself (Store nil), as the settings window does with its store (a
	// secrets.Env): the fixes for the values its variables supply say to
	// correct or unset the variable, as they do when Store is a
	// secrets.Env. nil: no variables.
	Env *secrets.Env

	// DebugLogPath is the protocol debug log the chain's autodiscover and
	// EWS exchanges go to (redacted) when Settings.EWSDebug is on; ""
	// means DefaultDebugLogPath(), the one the sync writes.
	DebugLogPath string

	// HTTPClient is the base client; nil means a private one honouring
	// HTTPS_PROXY. Its transport is never http.DefaultTransport unless the
	// caller put it there.
	HTTPClient *http.Client
	// Now is the clock for clock-skew and expiry checks; nil means time.Now.
	Now func() time.Time
	// SecretExpires is the "secret expires on" date the user noted (zero: unknown).
	SecretExpires time.Time
	// Getenv reads HTTPS_PROXY and friends for hints; nil means os.Getenv.
	Getenv func(string) string
	// StepTimeout bounds each network step; 0 means 30 s.
	StepTimeout time.Duration
	// MailboxConcurrency bounds parallel mailbox checks; 0 means 8.
	MailboxConcurrency int
	Logger             *slog.Logger
}

func (in *Input) defaults() {
	if in.Now == nil {
		in.Now = time.Now
	}
	if in.Getenv == nil {
		in.Getenv = os.Getenv
	}
	if in.Profile == "" {
		in.Profile = secrets.DefaultProfile
	}
	if in.StepTimeout <= 0 {
		in.StepTimeout = 30 * time.Second
	}
	if in.MailboxConcurrency <= 0 {
		in.MailboxConcurrency = 8
	}
	if in.Logger == nil {
		in.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run walks the chain. progress, when not nil, is called with each step as
// it completes (skipped steps included), in order, from Run's goroutine.
// After a required step fails, the steps that depend on it are skipped and
// say why. Run never returns an error: everything it finds is in the Report.
func Run(ctx context.Context, in Input, progress func(Step)) Report {
	in.defaults()
	start := time.Now() // elapsed time is measured on the monotonic clock, not in.Now
	r := newRunner(ctx, in, progress)
	r.run()
	r.closeDebugLog()
	r.rep.Elapsed = time.Since(start)
	return r.rep
}

// DefaultDebugLogPath is the protocol debug log the sync writes when the
// ews_debug setting is on: ews-debug.log in the exocal folder of the user
// cache dir ($XDG_CACHE_HOME, else ~/.cache).
func DefaultDebugLogPath() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("check: no user cache dir for the debug log (set HOME or XDG_CACHE_HOME): %w", err)
	}
	return filepath.Join(cache, "exocal", "ews-debug.log"), nil
}
