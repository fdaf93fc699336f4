package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

func init() {
	register(command{name: "check", summary: "step-by-step diagnosis of the setup, with a fix for each failure (--json)", run: runCheck})
}

const checkUsage = `Usage: exocal check [--json] [--secret-expires YYYY-MM-DD]

Walks the setup step by step — settings, the app registration (keyring or EXOCAL_* variables),
the Entra token and its permissions, autodiscover, EWS, the User's and every
synced mailbox's calendar, streaming notifications — and prints, for each
failure, what is wrong and how to fix it. Nothing is written anywhere, except
the protocol debug log (~/.cache/exocal/ews-debug.log) when ews_debug is on.

  --json                  print one JSON document instead of the checklist
  --secret-expires DATE   the client secret's expiry date (YYYY-MM-DD): warns from
                          14 days before it. Without the flag, the secret_expires
                          setting is used (exocal config set secret_expires DATE);
                          the flag wins when both are given.

Exit code: 0 when every required step passes, 2 for a configuration or
authentication problem, 1 otherwise (the network, a mailbox).
`

func runCheck(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return checkMain(ctx, args, os.Stdout, os.Stderr, secrets.Default(), nil)
}

// checkMain is `exocal check` with its outputs, registration store and
// HTTP client passed in (tests use an emulator and a buffer).
func checkMain(ctx context.Context, args []string, stdout, stderr io.Writer, store secrets.Store, hc *http.Client) int {
	fs := flag.NewFlagSet("exocal check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: --help on stdout, after a bad flag on stderr
	asJSON := fs.Bool("json", false, "print one JSON document instead of the checklist")
	expires := fs.String("secret-expires", "", "the client secret's expiry date (YYYY-MM-DD), to warn before it lapses; default: the secret_expires setting")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, checkUsage)
			return exitOK
		}
		fmt.Fprint(stderr, checkUsage)
		return exitSetup
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "exocal check: unexpected argument %q; run 'exocal check --help'.\n", fs.Arg(0))
		return exitSetup
	}
	in := check.Input{Store: store, HTTPClient: hc, Profile: app.CurrentKeyringProfile()}
	if *expires != "" {
		t, err := time.ParseInLocation(time.DateOnly, *expires, time.Local)
		if err != nil {
			fmt.Fprintf(stderr, "exocal check: --secret-expires %q is not a date; write it as YYYY-MM-DD, e.g. 2027-03-31.\n", *expires)
			return exitSetup
		}
		in.SecretExpires = t
	}
	var warnings []config.Warning
	in.SettingsPath, in.Settings, warnings, in.SettingsErr = loadSettingsWarn()
	for _, w := range warnings {
		in.SettingsWarnings = append(in.SettingsWarnings, w.Message)
	}
	if in.SecretExpires.IsZero() {
		// The flag wins; without it, the date noted in the settings (as the
		// settings window's "Test connection" and the tray use it).
		in.SecretExpires = in.Settings.SecretExpiry()
	}

	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var progress func(check.Step)
	if !*asJSON {
		fmt.Fprintln(stdout, "Checking the ExoCal setup…")
		progress = func(s check.Step) { _ = check.WriteStep(stdout, s) }
	}
	rep := check.Run(ctx, in, progress)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "exocal check: %v\n", err)
			return exitFailed
		}
	} else {
		fmt.Fprintln(stdout, rep.Summary())
	}
	return rep.ExitCode()
}
