package app

import (
	"context"
	"errors"
	"strings"

	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// Check runs the setup chain (app/check) on values that may not be saved
// yet — the settings window's "Test connection" checks what is in the form.
// tenantID and clientID are taken as given; secret "" means the stored
// secret, which is read from the keyring here and never returned. s's
// secret_expires date feeds the expiry warning. progress is called with
// each step as it completes, from the calling goroutine (see check.Run).
// With ews_debug on in s, the exchanges go to the protocol debug log the
// sync writes (check.DefaultDebugLogPath).
// Nothing is saved and the engine is not disturbed.
func (a *App) Check(ctx context.Context, s config.Settings, tenantID, clientID, secret string, progress func(check.Step)) check.Report {
	secret, _ = secrets.NormalizeSecret(secret)
	in := check.Input{
		Settings:      s,
		Profile:       a.opts.Profile,
		Registration:  secrets.Registration{TenantID: strings.TrimSpace(tenantID), ClientID: strings.TrimSpace(clientID), ClientSecret: secret},
		SecretExpires: s.SecretExpiry(),
		Now:           a.opts.Now,
		Logger:        a.log,
	}
	// Values from EXOCAL_* variables override whatever the form saves: the
	// fixes for them name the variable, as `exocal check`'s do.
	if env, ok := secrets.AsEnv(a.opts.Secrets); ok {
		in.Env = &env
	}
	if secret == "" {
		gctx, cancel := context.WithTimeout(ctx, storeTimeout)
		stored, err := a.opts.Secrets.Get(gctx, a.opts.Profile)
		cancel()
		switch {
		case err == nil:
			in.Registration.ClientSecret = stored.ClientSecret
			in.Registration.ClientCertificate = stored.ClientCertificate
		case errors.Is(err, secrets.ErrNotFound):
			// nothing stored: the registration step names the missing secret
		default:
			in.RegistrationErr = err
		}
	}
	a.log.Info("app: checking the setup", "user", s.User, "secret_from_form", secret != "")
	return check.Run(ctx, in, progress)
}

// FindAutodiscoverServer asks Autodiscover V2 (no token needed) for the
// alternative autodiscover server of s.User, for the settings window's
// "Find autodiscover server" button; the answer can go into
// autodiscover_url.
func (a *App) FindAutodiscoverServer(ctx context.Context, s config.Settings) (string, error) {
	return check.FindAutodiscoverServer(ctx, s, nil)
}
