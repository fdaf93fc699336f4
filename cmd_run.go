package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/sync/engine"
)

func init() {
	register(command{name: "run", summary: "headless background sync until SIGINT/SIGTERM (a service)", run: runRun})
}

func runRun(args []string) int {
	fs := flag.NewFlagSet("exocal run", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	log := newServiceLogger(*verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, code := openHeadless(ctx, log)
	if h == nil {
		return code
	}
	defer h.Close()
	return serveHeadless(ctx, h, log)
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
	eng := engine.New(h.engineCfg, h.deps(log, func(title, body string) {
		log.Warn(title, "detail", body)
	}))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				path, err := config.Path()
				if err != nil {
					log.Warn("reload", "err", err)
					continue
				}
				s, err := config.Load(path)
				if err == nil {
					err = s.Validate()
				}
				if err != nil {
					log.Warn("reload: settings not valid; keeping the old ones", "err", err)
					continue
				}
				log.Info("reloading settings", "path", path)
				eng.Reload(engineConfig(s))
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
