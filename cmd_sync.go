package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/store"
)

func init() {
	register(command{name: "sync", summary: "one headless sync of every mailbox, then exit (--once)", run: runSync})
}

// Exit codes (DESIGN.md).
const (
	exitOK     = 0
	exitFailed = 1 // some mailbox failed
	exitSetup  = 2 // configuration or authentication error
)

func runSync(args []string) int {
	fs := flag.NewFlagSet("exocal sync", flag.ContinueOnError)
	once := fs.Bool("once", false, "sync every mailbox once, then exit")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	if !*once {
		fmt.Fprintln(os.Stderr, "exocal sync: say --once for one sync; use 'exocal run' to keep syncing in the background.")
		return exitSetup
	}
	log := newLogger(os.Stderr, *verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	h, code := openHeadless(ctx, log)
	if h == nil {
		return code
	}
	defer h.Close()
	results := engine.SyncOnce(ctx, h.engineCfg, h.deps(log, nil))
	return printResults(os.Stdout, h.engineCfg.ExportDir, results, h.explain)
}

// printResults prints one line per mailbox and returns the exit code;
// explain (nil: the raw error) gives a failure's words for people.
func printResults(w io.Writer, dir string, results []engine.Result, explain func(error, string) check.Explanation) int {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Mailbox))
	}
	failed, auth := 0, 0
	for _, r := range results {
		if r.Err != nil {
			msg, setup := r.Err.Error(), backend.IsAuth(r.Err)
			if explain != nil {
				if ex := explain(r.Err, r.Mailbox); ex.Finding != "" {
					// One line per mailbox: the fix's wrapped text joined up.
					msg, setup = strings.Join(strings.Fields(ex.Finding+" "+ex.Fix), " "), setup || ex.Setup
				}
			}
			fmt.Fprintf(w, "%-*s  error  %s\n", width, r.Mailbox, msg)
			failed++
			if setup {
				auth++
			}
			continue
		}
		fmt.Fprintf(w, "%-*s  ok  %4d events  → %s\n", width, r.Mailbox, r.Exported, backend.FilePath(dir, r.Mailbox))
	}
	switch {
	case failed == 0:
		return exitOK
	case auth == len(results):
		return exitSetup // nothing works until the registration or tenant is fixed
	default:
		return exitFailed
	}
}

// headless is what `sync --once` and `run` share: settings, the store and
// the backend.
type headless struct {
	settings  config.Settings
	reg       secrets.Registration
	store     *store.Store
	backend   *backend.Backend
	engineCfg engine.Config
}

func (h *headless) Close() {
	if h.backend != nil {
		h.backend.Close()
	}
	if h.store != nil {
		h.store.Close()
	}
}

// explain names a failure the way `exocal check` does.
func (h *headless) explain(err error, mailbox string) check.Explanation {
	return check.Explain(err, h.settings, h.reg.TenantID, h.reg.ClientID, mailbox)
}

func (h *headless) deps(log *slog.Logger, notify func(title, body string)) engine.Deps {
	return engine.Deps{
		Source: h.backend.Source, Watcher: h.backend.Watcher, Store: h.store,
		Sink: backend.ICSSink{}, Logger: log, Notify: notify,
	}
}

// openHeadless loads the settings and the registration, opens the store and
// builds the backend. On failure it prints one sentence with the fix and
// returns a nil headless and the exit code.
func openHeadless(ctx context.Context, log *slog.Logger) (*headless, int) {
	fail := func(format string, a ...any) (*headless, int) {
		fmt.Fprintf(os.Stderr, "exocal: "+format+"\n", a...)
		return nil, exitSetup
	}
	path, s, err := loadSettings()
	if err != nil {
		return fail("%v", err)
	}
	if s.SyncType == config.SyncDisabled {
		return fail("sync is disabled in %s; run 'exocal config set sync_type ews' to turn it on.", path)
	}
	if err := s.Validate(); err != nil {
		return fail("the settings in %s are not valid: %v; fix them with 'exocal config set KEY VALUE' or the settings window.", path, err)
	}
	if len(s.EffectiveMailboxes()) == 0 {
		return fail("no mailbox to sync; run 'exocal config set user ADDRESS' (and optionally 'mailboxes').")
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	reg, err := secrets.Default().Get(rctx, secrets.DefaultProfile)
	cancel()
	var kerr *secrets.KeyringError
	switch {
	case errors.As(err, &kerr):
		// Its sentence already names the fix, environment variables included.
		return fail("%s.", cliSentence(err))
	case err != nil && !errors.Is(err, secrets.ErrNotFound):
		return fail("cannot read the app registration from the keyring: %s; set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET (or EXOCAL_CLIENT_CERTIFICATE) instead for headless use.", cliSentence(err))
	}
	if !reg.Complete() {
		return fail("the app registration (tenant ID, client ID, client secret or certificate) is not set; run 'exocal secret set' (or 'exocal secret set --certificate < bundle.pem') and set tenant_id/client_id in the settings window, or set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET (or EXOCAL_CLIENT_CERTIFICATE).")
	}
	if reg.UsesCertificate() {
		_, info, err := secrets.ParseCertificate(reg.ClientCertificate)
		switch {
		case err != nil:
			return fail("%s; fix it with 'exocal secret set --certificate < bundle.pem' (or EXOCAL_CLIENT_CERTIFICATE), or remove it with 'exocal secret clear-certificate' to use the client secret.", cliSentence(err))
		case !time.Now().Before(info.NotAfter):
			return fail("the client certificate (%s) has expired; create a new one, upload it in Entra > Certificates & secrets > Certificates and store it with 'exocal secret set --certificate < bundle.pem'.", info)
		case info.ExpiresWithin(time.Now(), secrets.CertificateWarnDays*24*time.Hour):
			log.Warn("the client certificate expires soon; create a new one and upload it in Entra > Certificates & secrets", "thumbprint", info.Thumbprint, "expires", info.NotAfter.UTC().Format(time.DateOnly))
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return fail("no user cache dir (set HOME or XDG_CACHE_HOME): %v", err)
	}
	h := &headless{settings: s, reg: reg, engineCfg: engineConfig(s)}
	h.store, err = store.Open(filepath.Join(cache, "exocal", "state.db"), 5*time.Second)
	if err != nil {
		return fail("%v", err)
	}
	bs := backendSettings(s, reg, log)
	if s.EWSDebug {
		bs.DebugLog = filepath.Join(cache, "exocal", "ews-debug.log")
	}
	h.backend, err = backend.New(ctx, bs)
	if err != nil {
		h.Close()
		if ex := h.explain(err, ""); ex.Finding != "" {
			return fail("%s", strings.TrimSpace(ex.Finding+" "+ex.Fix))
		}
		return fail("%v", err)
	}
	log.Info("backend ready", "ews_url", h.backend.EWSURL, "found_by", h.backend.Discovery)
	return h, exitOK
}

// engineConfig maps the settings onto the engine's Config.
func engineConfig(s config.Settings) engine.Config {
	return engine.Config{
		Mailboxes:        s.EffectiveMailboxes(),
		ExportDir:        s.ExportDir,
		WindowPastDays:   s.WindowPastDays,
		WindowFutureDays: s.WindowFutureDays,
		PollInterval:     time.Duration(s.PollInterval),
		Privacy:          s.Privacy,
	}
}

// backendSettings maps the settings and registration onto the backend's.
// A stored certificate is preferred over a stored secret (secrets.Registration.Credential).
func backendSettings(s config.Settings, reg secrets.Registration, log *slog.Logger) backend.Settings {
	secret := reg.ClientSecret
	if reg.UsesCertificate() {
		secret = ""
	}
	return backend.Settings{
		AuthorityHost: s.AuthorityHost, TenantID: reg.TenantID, ClientID: reg.ClientID,
		ClientSecret: secret, ClientCertificate: reg.ClientCertificate,
		User: s.User, AutodiscoverURL: s.AutodiscoverURL, ExchangeServer: s.ExchangeServer, EWSURL: s.EWSURL,
		MaxSubscriptionsPerConnection: s.MaxSubscriptionsPerConnection, Logger: log,
	}
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
