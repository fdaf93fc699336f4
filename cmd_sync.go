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

	"github.com/exocal/exocal/app"
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
	timeout := fs.Duration("timeout", 10*time.Minute, "with ExoCal already running: how long to wait for its sync (0: no limit)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if !*once {
		fmt.Fprintln(os.Stderr, "exocal sync: say --once for one sync; use 'exocal run' to keep syncing in the background.")
		return exitSetup
	}
	log := newLogger(os.Stderr, *verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A running ExoCal (tray or `exocal run`) holds the state database:
	// sync through it instead.
	if code, done := syncThroughRunning(ctx, os.Stdout, os.Stderr, app.SocketPath(), *timeout); done {
		return code
	}
	h, code := openHeadless(ctx, log, false)
	if h == nil {
		return code
	}
	defer h.Close()
	results := engine.SyncOnce(ctx, h.engineCfg, h.deps(log, nil))
	unchanged := map[string]bool{}
	for _, r := range results {
		unchanged[r.Mailbox] = r.Err == nil && !r.Written
	}
	return printReport(os.Stdout, h.engineCfg.ExportDir, syncResults(results, h.explain), unchanged)
}

// syncThroughRunning asks the ExoCal listening at socket to sync now and
// prints its report like a standalone run. done is false when none runs
// (then the caller syncs on its own).
func syncThroughRunning(ctx context.Context, stdout, stderr io.Writer, socket string, timeout time.Duration) (code int, done bool) {
	// What the ICS files were before, to tell "unchanged" from "rewritten".
	var before map[string]os.FileInfo
	localDir := ""
	if _, s, err := loadSettings(); err == nil {
		localDir = s.ExportDir
		before = statICS(localDir, s.EffectiveMailboxes())
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 { // 0: no limit
		wctx, cancel = context.WithTimeoutCause(ctx, timeout, errSyncTimeout)
	}
	defer cancel()
	pid := 0
	rep, err := app.RequestSync(wctx, socket, func(p int) {
		pid = p
		fmt.Fprintf(stderr, "exocal: ExoCal is already running (pid %d); syncing through it…\n", p)
	})
	var re *app.RemoteError
	switch {
	case errors.Is(err, app.ErrNotRunning):
		return 0, false
	case errors.Is(err, app.ErrSyncUnsupported):
		fmt.Fprintf(stderr, "exocal: ExoCal is already running (socket %s) and holds the state database, but cannot sync on request; use Sync now in its tray menu, or quit it and run 'exocal sync --once' again.\n", socket)
		return exitSetup, true
	case errors.As(err, &re):
		fmt.Fprintf(stderr, "exocal: %s.\n", strings.TrimSuffix(re.Msg, "."))
		return exitSetup, true
	case errors.Is(err, errSyncTimeout):
		fmt.Fprintf(stderr, "exocal: the running ExoCal (pid %d) did not finish the sync within %s; it carries on in the background (see its status), or wait longer with --timeout.\n", pid, timeout)
		return exitFailed, true
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "exocal: stopped waiting; the running ExoCal (pid %d) finishes the sync in the background.\n", pid)
		return exitFailed, true
	case err != nil:
		fmt.Fprintf(stderr, "exocal: %s; quit the running ExoCal, then run 'exocal sync --once' again.\n", cliSentence(err))
		return exitSetup, true
	}
	unchanged := map[string]bool{}
	if rep.ExportDir == localDir {
		after := statICS(rep.ExportDir, mailboxesOf(rep.Results))
		for _, r := range rep.Results {
			b, a := before[r.Mailbox], after[r.Mailbox]
			unchanged[r.Mailbox] = r.Err == "" && b != nil && a != nil && os.SameFile(b, a) && b.ModTime().Equal(a.ModTime()) && b.Size() == a.Size()
		}
	}
	return printReport(stdout, rep.ExportDir, rep.Results, unchanged), true
}

var errSyncTimeout = errors.New("the sync did not finish in time")

func mailboxesOf(rs []app.SyncResult) []string {
	mbs := make([]string, len(rs))
	for i, r := range rs {
		mbs[i] = r.Mailbox
	}
	return mbs
}

// statICS returns each mailbox's ICS file's FileInfo (absent when missing).
// The sink replaces a file it rewrites, so a file that is the same file
// with the same time and size afterwards was not rewritten.
func statICS(dir string, mailboxes []string) map[string]os.FileInfo {
	m := map[string]os.FileInfo{}
	for _, mb := range mailboxes {
		if fi, err := os.Stat(backend.FilePath(dir, mb)); err == nil {
			m[mb] = fi
		}
	}
	return m
}

// printResults prints one line per mailbox and returns the exit code;
// explain (nil: the raw error) gives a failure's words for people.
func printResults(w io.Writer, dir string, results []engine.Result, explain func(error, string) check.Explanation) int {
	return printReport(w, dir, syncResults(results, explain), nil)
}

// syncResults words the engine's results as a report's: a failure's
// explanation (explain nil: the raw error) joined into one line, marked
// Setup for authentication and setup findings.
func syncResults(results []engine.Result, explain func(error, string) check.Explanation) []app.SyncResult {
	out := make([]app.SyncResult, 0, len(results))
	for _, r := range results {
		sr := app.SyncResult{Mailbox: r.Mailbox, Events: r.Exported}
		if r.Err != nil {
			sr.Err, sr.Setup = failureWords(r.Err, r.Mailbox, explain)
		}
		out = append(out, sr)
	}
	return out
}

// failureWords is a mailbox failure as one line, and whether it is fixed
// in the setup (exit 2 when every mailbox fails so).
func failureWords(err error, mailbox string, explain func(error, string) check.Explanation) (string, bool) {
	msg, setup := err.Error(), backend.IsAuth(err)
	if explain != nil {
		if ex := explain(err, mailbox); ex.Finding != "" {
			// One line per mailbox: the fix's wrapped text joined up.
			msg, setup = strings.Join(strings.Fields(ex.Finding+" "+ex.Fix), " "), setup || ex.Setup
		}
	}
	return msg, setup
}

// printReport prints one line per mailbox and returns the exit code;
// unchanged (may be nil) names the mailboxes whose ICS file the sync left
// as it was.
func printReport(w io.Writer, dir string, results []app.SyncResult, unchanged map[string]bool) int {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Mailbox))
	}
	failed, setup := 0, 0
	for _, r := range results {
		if r.Err != "" {
			fmt.Fprintf(w, "%-*s  error  %s\n", width, r.Mailbox, r.Err)
			failed++
			if r.Setup {
				setup++
			}
			continue
		}
		if unchanged[r.Mailbox] {
			fmt.Fprintf(w, "%-*s  ok  %4d events  unchanged  %s\n", width, r.Mailbox, r.Events, backend.FilePath(dir, r.Mailbox))
			continue
		}
		fmt.Fprintf(w, "%-*s  ok  %4d events  → %s\n", width, r.Mailbox, r.Events, backend.FilePath(dir, r.Mailbox))
	}
	switch {
	case failed == 0:
		return exitOK
	case setup == len(results):
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
// returns a nil headless and the exit code: 2 for the settings, the
// registration or the tenant, 1 when Microsoft cannot be reached (the
// network). With retry (a service), it waits out an unreachable network
// instead, trying again with a growing pause until ctx ends (then nil and
// exit 0).
func openHeadless(ctx context.Context, log *slog.Logger, retry bool) (*headless, int) {
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
	if err := s.ValidateReadOnly(); err != nil { // no probe file: the export folder is only written by the sync itself
		return fail("the settings in %s are not valid: %s; fix them with 'exocal config set KEY VALUE' or the settings window.", path, strings.TrimSuffix(err.Error(), "."))
	}
	if len(s.EffectiveMailboxes()) == 0 {
		return fail("no mailbox to sync; run 'exocal config set user ADDRESS' (and optionally 'mailboxes').")
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	reg, err := secrets.Default().Get(rctx, app.CurrentKeyringProfile())
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
			store := "store it with 'exocal secret set --certificate < bundle.pem'"
			if os.Getenv(secrets.EnvClientCertificate) != "" {
				store = "put the new PEM text in " + secrets.EnvClientCertificate + ", which supplies it now"
			}
			return fail("the client certificate (%s) has expired; create a new one, upload it in Entra > Certificates & secrets > Certificates and %s.", info, store)
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
		bs.DebugLog, _ = check.DefaultDebugLogPath() // the cache dir is known to exist here
	}
	for pause := 5 * time.Second; ; pause = min(2*pause, 5*time.Minute) {
		h.backend, err = backend.New(ctx, bs)
		if err == nil {
			break
		}
		ex := h.explain(err, "")
		words := fmt.Sprint(err)
		if ex.Finding != "" {
			words = strings.TrimSpace(ex.Finding + " " + ex.Fix)
		}
		unreachable := ex.Finding != "" && !ex.Setup
		if !retry || !unreachable || ctx.Err() != nil {
			h.Close()
			if ctx.Err() != nil && retry {
				return nil, exitOK // stopped while starting
			}
			fmt.Fprintf(os.Stderr, "exocal: %s\n", words)
			if unreachable {
				return nil, exitFailed
			}
			return nil, exitSetup
		}
		log.Warn("cannot reach Microsoft yet; trying again", "reason", words, "retry_in", pause)
		select {
		case <-ctx.Done():
			h.Close()
			return nil, exitOK
		case <-time.After(pause):
		}
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
