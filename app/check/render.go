package check

import (
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// jwtRE matches anything shaped like a JWT (three base64url parts, the
// first a JSON header): access tokens, client assertions.
var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// bearerRE matches an Authorization header value.
var bearerRE = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`)

// redact removes the given secrets (values of 4+ characters), anything
// JWT-shaped and bearer credentials from s.
func redact(s string, scrub []string) string {
	for _, v := range scrub {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	s = jwtRE.ReplaceAllString(s, "[REDACTED TOKEN]")
	return bearerRE.ReplaceAllString(s, "${1}[REDACTED]")
}

// Mark is the checklist symbol of a state.
func (s State) Mark() string {
	switch s {
	case StateOK:
		return "✔"
	case StateWarning:
		return "!"
	case StateFailed:
		return "✘"
	}
	return "–"
}

// WriteStep writes one step as `exocal check` prints it: a status line and,
// for a failure or warning, the fix indented under it.
func WriteStep(w io.Writer, s Step) error {
	label := strings.ToUpper(s.State.String())
	if !s.Required && s.State == StateWarning {
		label = "WARNING"
	}
	if _, err := fmt.Fprintf(w, "%s %-7s %s: %s\n", s.State.Mark(), label, s.Title, s.Finding); err != nil {
		return err
	}
	if s.Fix != "" && (s.State == StateFailed || s.State == StateWarning) {
		if _, err := fmt.Fprintln(w, indent(s.Fix, "      ")); err != nil {
			return err
		}
	}
	return nil
}

// Summary is the last line of `exocal check`.
func (r Report) Summary() string {
	var ok, warn, failed, skipped int
	for _, s := range r.Steps {
		switch s.State {
		case StateOK:
			ok++
		case StateWarning:
			warn++
		case StateFailed:
			failed++
		case StateSkipped:
			skipped++
		}
	}
	verdict := "All required steps passed."
	if first, bad := r.FirstFailure(); bad {
		verdict = "Failed at \"" + first.Title + "\"."
	}
	warnings := "warnings"
	if warn == 1 {
		warnings = "warning"
	}
	return fmt.Sprintf("%s %d ok, %d %s, %d failed, %d skipped (%s).", verdict, ok, warn, warnings, failed, skipped,
		r.Elapsed.Round(time.Millisecond))
}

// WriteText writes the whole report as `exocal check` prints it.
func (r Report) WriteText(w io.Writer) error {
	for _, s := range r.Steps {
		if err := WriteStep(w, s); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// Details is the text for "Copy details" (a support ticket): the setup
// without secrets, every step with its technical detail, and the version
// of the runtime. It never holds the client secret or a token.
func (r Report) Details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ExoCal setup check, %s\n", r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Go %s, %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "Tenant ID: %s\nClient ID: %s\nUser: %s\n", orNone(r.TenantID), orNone(r.ClientID), orNone(r.User))
	fmt.Fprintf(&b, "Result: %s\n\n", r.Summary())
	for i, s := range r.Steps {
		fmt.Fprintf(&b, "%d. [%s] %s (%s)\n", i+1, s.State, s.Title, s.Elapsed.Round(time.Millisecond))
		if s.Cause != "" {
			fmt.Fprintf(&b, "   cause: %s\n", s.Cause)
		}
		fmt.Fprintf(&b, "   finding: %s\n", s.Finding)
		if s.Detail != "" {
			fmt.Fprintf(&b, "   detail:\n%s\n", indent(s.Detail, "     "))
		}
		if s.Fix != "" && s.State != StateOK {
			fmt.Fprintf(&b, "   fix:\n%s\n", indent(s.Fix, "     "))
		}
	}
	return redact(b.String(), r.scrub)
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
