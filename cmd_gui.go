package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/ui"
)

func init() {
	register(command{name: "gui", summary: "the tray app (the default when no command is given)", run: runGUI})
}

// runGUI runs the tray app with the sync engine. A second launch does not start a second
// instance: it asks the running one to bring its settings window forward
// and exits 0.
func runGUI(args []string) int {
	fs := flag.NewFlagSet("exocal gui", flag.ContinueOnError)
	showSettings := fs.Bool("settings", false, "open the settings window at start")
	verbose := fs.Bool("v", false, "debug logging")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	log := newServiceLogger(*verbose)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	in, err := app.Acquire(ctx, "")
	if errors.Is(err, app.ErrAlreadyRunning) {
		pid, aerr := app.Activate(ctx, "")
		if errors.Is(aerr, app.ErrHeadless) {
			fmt.Fprintf(os.Stderr, "exocal: ExoCal is already running as the headless service ('exocal run', pid %d), which has no window; stop it to use the tray app, or use 'exocal sync --once' to sync through it.\n", pid)
			return exitSetup
		}
		if aerr != nil {
			fmt.Fprintf(os.Stderr, "exocal: %s, but it did not answer (%v); quit it or end that process, then start ExoCal again.\n", cliSentence(err), cliSentence(aerr))
			return exitSetup
		}
		fmt.Printf("ExoCal is already running (pid %d); its settings window was brought forward.\n", pid)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal: %s.\n", cliSentence(err))
		return exitSetup
	}
	if err := ui.CheckDisplay(); err != nil { // before the keyring: without a display nothing else matters
		in.Release()
		fmt.Fprintf(os.Stderr, "exocal: %s.\n", cliSentence(err))
		return exitSetup
	}

	opts, err := app.DefaultOptions(log)
	if err != nil {
		in.Release()
		fmt.Fprintf(os.Stderr, "exocal: %s.\n", cliSentence(err))
		return exitSetup
	}
	opts.Instance = in // core.Run releases it
	return runApp(ctx, "exocal", opts, ui.Options{ShowSettings: *showSettings}, log)
}

// runApp runs the app core with the sync engine (syncService) and the
// desktop shell until the user quits: what `exocal` and `exocal demo`
// share. name prefixes error messages ("exocal", "exocal demo"); the
// engine's desktop notifications go through the shell.
func runApp(ctx context.Context, name string, opts app.Options, uo ui.Options, log *slog.Logger) int {
	svc := newSyncService(opts.Secrets, log) // the sync engine, as app.Engine
	if opts.Profile != "" {
		svc.profile = opts.Profile
	}
	opts.Engine = svc
	core, err := app.New(opts)
	if err != nil {
		if opts.Instance != nil {
			opts.Instance.Release()
		}
		fmt.Fprintf(os.Stderr, "%s: %s.\n", name, cliSentence(err))
		return exitSetup
	}
	svc.core = core
	core.ServeSyncRequests() // `exocal sync --once` from another process syncs through us
	notifier := &ui.Notifier{}
	svc.notify = notifier.Notify
	uo.Notifier, uo.Log = notifier, log

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- core.Run(ctx) }()
	uiErr := ui.Run(core, uo)
	cancel()
	if err := <-runDone; err != nil {
		log.Error("app stopped", "err", err)
	}
	if uiErr != nil {
		fmt.Fprintf(os.Stderr, "%s: %s.\n", name, cliSentence(uiErr))
		return exitSetup
	}
	return exitOK
}
