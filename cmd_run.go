package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/sync/engine"
)

func init() {
	register(command{name: "run", summary: "headless background sync until SIGINT/SIGTERM (a service)", run: runRun})
}

func runRun(args []string) int {
	fs := flag.NewFlagSet("exocal run", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "debug logging")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	log := newServiceLogger(*verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// One ExoCal at a time (tray or `run`): the state database is not shared.
	in, err := app.Acquire(ctx, "")
	var ar *app.AlreadyRunningError
	if errors.As(err, &ar) {
		fmt.Fprintf(os.Stderr, "exocal: ExoCal is already running (pid %d, socket %s); stop it first or use 'exocal sync --once' to sync through it.\n", ar.PID, ar.Socket)
		return exitSetup
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal: %s; check that $XDG_RUNTIME_DIR (or the temp directory) is writable.\n", cliSentence(err))
		return exitSetup
	}
	defer in.Release()
	in.SetHeadless() // a GUI launch is told there is no window to show
	// Until the engine runs (serveHeadlessOn), a `sync --once` is told to retry.
	in.OnSync(func(context.Context) (app.SyncReport, error) {
		return app.SyncReport{}, errors.New("exocal: ExoCal is still starting (connecting to Exchange); try again in a moment")
	})
	h, code := openHeadless(ctx, log, true)
	if h == nil {
		return code
	}
	defer h.Close()
	return serveHeadlessOn(ctx, h, in, log)
}

// warnExpiry logs the tray's expiry warning (check.ExpiryNotice) when the
// client secret's noted expiry date is near or past: a service has no
// tray, so its log says it, at start, on reload and once a day.
func warnExpiry(log *slog.Logger, expires, now time.Time) {
	if warn, msg := check.ExpiryNoticeFor(now, expires, check.SecretSourceOf(nil)); warn {
		log.Warn("client secret", "notice", msg)
	}
}

func newServiceLogger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// serveHeadless runs the engine until ctx ends, logging state changes, and
// reloads the settings on SIGHUP. It returns 0 after a clean shutdown.
func serveHeadless(ctx context.Context, h *headless, log *slog.Logger) int {
	return serveHeadlessOn(ctx, h, nil, log)
}

// serveHeadlessOn is serveHeadless that also, with an instance claim in,
// reloads on a "reload" request on its socket (`exocal config set`) and
// answers "sync" requests (`exocal sync --once`).
func serveHeadlessOn(ctx context.Context, h *headless, in *app.Instance, log *slog.Logger) int {
	eng := engine.New(h.engineCfg, h.deps(log, func(title, body string) {
		log.Warn(title, "detail", body)
	}))
	var activations, reloads <-chan struct{}
	if in != nil {
		activations, reloads = in.Activations(), in.Reloads()
		in.OnSync(func(ctx context.Context) (app.SyncReport, error) {
			return syncAndWait(ctx, eng, h.explain)
		})
		defer in.OnSync(nil)
	}
	reload := func() {
		path, err := config.Path()
		if err != nil {
			log.Warn("reload", "err", err)
			return
		}
		s, err := config.Load(path)
		if err == nil {
			err = s.ValidateReadOnly() // a sync writes nothing but its files
		}
		if err != nil {
			log.Warn("reload: settings not valid; keeping the old ones", "err", err)
			return
		}
		log.Info("reloading settings", "path", path)
		eng.Reload(engineConfig(s))
		warnExpiry(log, s.SecretExpiry(), time.Now())
	}
	warnExpiry(log, h.settings.SecretExpiry(), time.Now())
	daily := time.NewTicker(24 * time.Hour)
	defer daily.Stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-activations:
				log.Info("a second launch asked for the settings window; 'exocal run' has none")
			case <-reloads:
				reload()
			case <-hup:
				reload()
			case <-daily.C:
				if _, s, err := loadSettings(); err == nil {
					warnExpiry(log, s.SecretExpiry(), time.Now())
				}
			}
		}
	}()
	statuses, cancel := eng.Subscribe()
	defer cancel()
	go func() {
		last := engine.State(-1)
		for s := range statuses {
			if s.State == last {
				continue
			}
			last = s.State
			attrs := []any{"state", s.State, "mailboxes", len(s.Mailboxes), "failed", s.Failed, "streaming", s.Streaming}
			if s.Total > 0 {
				attrs = append(attrs, "done", s.Done, "total", s.Total)
			}
			if s.Err != nil {
				attrs = append(attrs, "err", s.Err)
			}
			log.Info("status", attrs...)
		}
	}()
	log.Info("exocal running", "mailboxes", len(h.engineCfg.Mailboxes), "export_dir", h.engineCfg.ExportDir)
	if err := eng.Serve(ctx); err != nil {
		log.Error("engine stopped", "err", err)
		return exitFailed
	}
	log.Info("exocal stopped")
	return exitOK
}

// syncAndWait kicks eng's sync of every mailbox and waits until it has
// finished (app.WaitForSync over the engine's statuses), then reports
// each mailbox with `sync --once`'s words for failures.
func syncAndWait(ctx context.Context, eng *engine.Engine, explain func(error, string) check.Explanation) (app.SyncReport, error) {
	statuses, unsub := eng.Subscribe()
	defer unsub()
	var last engine.Status
	next := func(ctx context.Context) (app.Status, error) {
		select {
		case <-ctx.Done():
			return app.Status{}, ctx.Err()
		case es, ok := <-statuses:
			if !ok {
				return app.Status{}, errors.New("engine: stopped")
			}
			last = es
			return toAppStatus(es, nil), nil
		}
	}
	if _, err := app.WaitForSync(ctx, time.Now(), eng.SyncNow, next); err != nil {
		return app.SyncReport{}, err
	}
	rep := app.SyncReport{ExportDir: last.ExportDir}
	for _, m := range last.Mailboxes {
		r := app.SyncResult{Mailbox: m.Address, Events: m.Exported}
		if m.Err != nil {
			r.Err, r.Setup = failureWords(m.Err, m.Address, explain)
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}
