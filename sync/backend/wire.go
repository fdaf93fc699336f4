package backend

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/ews"
)

// The engine learns per mailbox whether streaming is up (and polls the
// others at poll_interval) through this interface.
var _ engine.HealthWatcher = (*ews.Watcher)(nil)

// Under privacy "free-busy" the engine fetches busy blocks only through
// this interface: no subject, body, location or people crosses the wire.
var _ engine.FreeBusySource = (*ews.Source)(nil)

// autodiscoverURL asks autodiscover for the EWS URL.
func autodiscoverURL(ctx context.Context, hc *http.Client, s Settings, cloud auth.Cloud, log *slog.Logger, dl *ews.DebugLog) (string, string, error) {
	req := autodiscover.Request{
		User: s.User, AutodiscoverURL: s.AutodiscoverURL, Server: s.ExchangeServer,
		Cloud: cloud, HTTPClient: hc, Logger: log,
	}
	if dl != nil { // not a typed nil in the interface
		req.Debug = dl
	}
	res, err := autodiscover.Discover(ctx, req)
	if err != nil {
		return "", "", err
	}
	how := "autodiscover " + res.Method
	if res.Server != s.ExchangeServer && s.ExchangeServer != "" {
		how += " (" + res.Server + " URL; the " + s.ExchangeServer + " one is not published)"
	}
	return res.EWSURL, how, nil
}

// buildEWS builds the EWS client, Source and Watcher; dl (nil: off) is the
// protocol debug log.
func (b *Backend) buildEWS(_ context.Context, hc *http.Client, s Settings, log *slog.Logger, dl *ews.DebugLog) error {
	// A token revoked before its expiry (401 invalid_token): drop it and
	// repeat the call once with a new one (requests and the watcher).
	retry := &ews.Retry{RefreshAuth: func() bool { b.Tokens.Invalidate(); return true }}
	cfg := ews.Config{URL: b.EWSURL, HTTPClient: hc, Retry: retry, Logger: log, UserAgent: "ExoCal", Debug: dl}
	c := ews.New(cfg)
	b.Source = ews.NewSource(c)
	b.Watcher = &ews.Watcher{Client: c, MaxPerConnection: s.MaxSubscriptionsPerConnection, Logger: log}
	return nil
}

// IsAuth reports whether err means nothing can sync until the user fixes
// the registration or the tenant: a setup error, an Entra refusal, a
// missing role or consent, or EWS blocked for the app.
func IsAuth(err error) bool {
	if err == nil {
		return false
	}
	var ce *auth.ClaimsError
	return IsSetup(err) || auth.IsEntra(err) || auth.IsConfig(err) || errors.As(err, &ce) ||
		ews.IsAuth(err) || ews.IsEWSBlocked(err) || ews.IsMissingConsent(err)
}
