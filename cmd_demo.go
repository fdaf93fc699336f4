package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/ui"
)

func init() {
	register(command{name: "demo", summary: "tray app against the built-in emulated tenant — no Microsoft account needed", run: runDemo})
}

func runDemo(args []string) int {
	fs := flag.NewFlagSet("exocal demo", flag.ContinueOnError)
	nMailboxes := fs.Int("mailboxes", 4, "mailboxes in the emulated tenant")
	nEvents := fs.Int("events", 30, "calendar items per mailbox")
	live := fs.Duration("live", 20*time.Second, "change one emulated event this often, to show updates arriving (0: off)")
	keep := fs.Bool("keep", false, "keep the demo's temporary folder on exit")
	verbose := fs.Bool("v", false, "debug logging")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	log := newServiceLogger(*verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, dir, err := startDemoTenant(*nMailboxes, *nEvents, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal demo: %v\n", err)
		return exitSetup
	}
	defer srv.Close()
	if !*keep {
		defer os.RemoveAll(dir)
	}
	exportDir := filepath.Join(dir, "data", "exocal", "calendars")
	fmt.Printf("ExoCal demo: emulated tenant at %s with %d mailboxes; ICS files in %s\n", srv.URL(), len(srv.Tenant().Mailboxes()), exportDir)
	if *live > 0 {
		go demoChanges(ctx, srv.Tenant(), *live, log)
	}
	return runDemoApp(ctx, dir, log)
}

// runDemoApp runs the tray app and its status window on the demo's
// settings (runApp); without a display it syncs headless.
func runDemoApp(ctx context.Context, dir string, log *slog.Logger) int {
	if err := ui.CheckDisplay(); err != nil {
		fmt.Println("No display, so no tray icon: syncing headless until Ctrl+C.")
		h, code := openHeadless(ctx, log, false)
		if h == nil {
			return code
		}
		defer h.Close()
		return serveHeadless(ctx, h, log)
	}
	cfgPath, err := config.Path()
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal demo: %s.\n", cliSentence(err))
		return exitSetup
	}
	// The GUI toolkit (Fyne 2.7) keeps its own settings under
	// XDG_CONFIG_HOME and watches them until the process ends, re-creating
	// (and re-reading, after the window is gone: a crash) what disappears.
	// So it keeps the user's XDG_CONFIG_HOME, and the demo's own settings
	// are named by path; the temporary folder can then be removed at exit.
	if userConfigHomeSet {
		os.Setenv("XDG_CONFIG_HOME", userConfigHome)
	} else {
		os.Unsetenv("XDG_CONFIG_HOME")
	}
	opts, err := app.DefaultOptions(log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "exocal demo: %s.\n", cliSentence(err))
		return exitSetup
	}
	opts.ConfigPath, opts.Profile = cfgPath, app.KeyringProfile(cfgPath)
	// A private single-instance socket: a running ExoCal is not disturbed.
	opts.SocketPath = filepath.Join(dir, "exocal.sock")
	// The demo runs in throw-away folders: no login entry.
	opts.Desktop = nil
	// The status window opens at start: the demo is there to be seen.
	return runApp(ctx, "exocal demo", opts, ui.Options{ShowStatus: true}, log)
}

// userConfigHome is XDG_CONFIG_HOME as the demo found it (set: whether it
// was set at all), for the GUI toolkit's own settings (runDemoApp).
var (
	userConfigHome    string
	userConfigHomeSet bool
)

// startDemoTenant starts the emulator on loopback and points a private
// configuration at it: XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_DATA_HOME go
// to a new temporary folder (returned), the settings are written there, and
// the registration is put in this process's EXOCAL_* environment (the demo
// tenant's made-up credentials; the real keyring is not touched).
func startDemoTenant(mailboxes, events int, log *slog.Logger) (*emulator.Server, string, error) {
	dir, err := os.MkdirTemp("", "exocal-demo-")
	if err != nil {
		return nil, "", fmt.Errorf("create a temporary folder: %w", err)
	}
	userConfigHome, userConfigHomeSet = os.LookupEnv("XDG_CONFIG_HOME")
	for env, sub := range map[string]string{"XDG_CONFIG_HOME": "config", "XDG_CACHE_HOME": "cache", "XDG_DATA_HOME": "data"} {
		os.Setenv(env, filepath.Join(dir, sub))
	}
	t := tenant.Generate(tenant.Config{Seed: 42, Mailboxes: mailboxes, Events: events, Now: time.Now()})
	reg := secrets.Registration{TenantID: randomGUID(), ClientID: randomGUID(), ClientSecret: "demo~" + randomGUID()}
	srv := emulator.New(emulator.Options{
		Tenant: t, TenantID: reg.TenantID, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		Heartbeat: 10 * time.Second, Logger: log.With("component", "emulator"),
	})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	s := config.Defaults()
	mbs := t.Mailboxes()
	s.User, s.Mailboxes = mbs[0], mbs
	s.AuthorityHost, s.AutodiscoverURL = srv.URL(), srv.URL()
	s.PollInterval = config.Duration(time.Minute)
	path, err := config.Path()
	if err == nil {
		err = config.Save(path, s)
	}
	if err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, "", err
	}
	os.Setenv(secrets.EnvTenantID, reg.TenantID)
	os.Setenv(secrets.EnvClientID, reg.ClientID)
	os.Setenv(secrets.EnvClientSecret, reg.ClientSecret)
	return srv, dir, nil
}

// demoChanges renames one item of a random mailbox every interval, so the
// demo shows a change reaching its ICS file through streaming notifications.
func demoChanges(ctx context.Context, t *tenant.Tenant, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			mbs := t.Mailboxes()
			mb := mbs[randN(len(mbs))]
			items := t.Items(mb)
			if len(items) == 0 {
				continue
			}
			it := items[randN(len(items))]
			subject := fmt.Sprintf("Demo change at %s", now.Format("15:04:05"))
			if _, err := t.Update(mb, it.ID, func(i *tenant.Item) { i.Subject = subject }); err == nil {
				log.Info("demo: changed an event in the emulated tenant", "mailbox", mb, "subject", subject)
			}
		}
	}
}

func randN(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

func randomGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
