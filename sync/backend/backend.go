package backend

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/ews"
)

// Settings are the values the sync parts need, taken from config.Settings
// and the keyring registration by the caller.
type Settings struct {
	AuthorityHost string
	TenantID      string
	ClientID      string
	ClientSecret  string // never logged
	// ClientCertificate is the PEM bundle of the app's certificate and its
	// private key (never logged); when set it is used instead of
	// ClientSecret (a client_assertion, as Microsoft recommends).
	ClientCertificate string

	User            string // autodiscover starts here
	AutodiscoverURL string // "" = the default
	ExchangeServer  string // "external" or "internal"
	EWSURL          string // set: skip autodiscover

	MaxSubscriptionsPerConnection int
	// DebugLog, when not empty, is the path of the redacted EWS debug log.
	DebugLog string

	// HTTPClient is the base client (nil: a private one).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Backend is the built sync side.
type Backend struct {
	Source  calendar.Source
	Watcher calendar.Watcher
	// EWSURL is the endpoint in use; Discovery says how it was found
	// ("configured", "autodiscover SOAP", "autodiscover V2", ...).
	EWSURL, Discovery string
	// Tokens is the token source (for its claims).
	Tokens  *auth.TokenSource
	closers []func() error
}

// Close releases what the backend holds (the debug log).
func (b *Backend) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// SetupError is an error of the registration, the token or autodiscover:
// nothing can sync until the user fixes the settings (exit code 2).
type SetupError struct {
	Step string // "token", "autodiscover", "ews"
	Err  error
}

func (e *SetupError) Error() string { return "backend: " + e.Step + ": " + e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// IsSetup reports whether err is a *SetupError.
func IsSetup(err error) bool {
	var se *SetupError
	return errors.As(err, &se)
}

// New builds the backend: a token (checked for the full_access_as_app
// role before any EWS call), the EWS URL, the EWS client, its Source and
// Watcher.
func New(ctx context.Context, s Settings) (*Backend, error) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ac := auth.Config{
		AuthorityHost: s.AuthorityHost, TenantID: s.TenantID, ClientID: s.ClientID,
		ClientSecret: s.ClientSecret, HTTPClient: s.HTTPClient, Logger: log,
	}
	if s.ClientCertificate != "" {
		cert, err := auth.ParseCertificatePEM([]byte(s.ClientCertificate))
		if err != nil {
			return nil, &SetupError{Step: "token", Err: &auth.ConfigError{Field: "certificate", Reason: strings.TrimPrefix(err.Error(), "auth: certificate: ")}}
		}
		ac.ClientSecret, ac.Certificate = "", cert
	}
	ts := auth.NewTokenSource(ctx, ac)
	if _, err := ts.CheckEWS(); err != nil {
		return nil, &SetupError{Step: "token", Err: err}
	}
	b := &Backend{Tokens: ts}
	// The protocol debug log is opened before autodiscover, so that its
	// exchanges are logged too, and shared with the EWS client.
	var dl *ews.DebugLog
	if s.DebugLog != "" {
		var err error
		if dl, err = ews.OpenDebugLog(s.DebugLog, 0, 0); err != nil {
			return nil, &SetupError{Step: "ews", Err: err}
		}
		b.closers = append(b.closers, dl.Close)
	}
	allowed := auth.AllowHosts(ts.Cloud(), s.AutodiscoverURL, s.EWSURL, s.AuthorityHost)
	hc := auth.NewClient(s.HTTPClient, ts, allowed)
	ewsURL, how, err := discover(ctx, hc, s, ts.Cloud(), log, dl)
	if err != nil {
		b.Close()
		return nil, &SetupError{Step: "autodiscover", Err: err}
	}
	b.EWSURL, b.Discovery = ewsURL, how
	if err := b.buildEWS(ctx, hc, s, log, dl); err != nil {
		b.Close()
		return nil, &SetupError{Step: "ews", Err: err}
	}
	return b, nil
}

// discover returns the EWS URL: the configured one, or autodiscover's.
func discover(ctx context.Context, hc *http.Client, s Settings, cloud auth.Cloud, log *slog.Logger, dl *ews.DebugLog) (string, string, error) {
	if u := strings.TrimSpace(s.EWSURL); u != "" {
		if _, err := auth.CheckURL(u); err != nil {
			return "", "", err
		}
		return u, "configured", nil
	}
	return autodiscoverURL(ctx, hc, s, cloud, log, dl)
}
