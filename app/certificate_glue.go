package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/exocal/exocal/app/secrets"
)

// ClientCertificate reports the client certificate the registration holds
// (ui/settings.Certifier): its thumbprint and validity, stored false when
// there is none. It reads the secret store each time, so a certificate set
// with `exocal secret set --certificate` while the app runs shows at the
// next opening of the settings. It never returns the PEM bundle or key.
func (a *App) ClientCertificate() (secrets.CertificateInfo, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	r, err := a.opts.Secrets.Get(ctx, a.opts.Profile)
	if errors.Is(err, secrets.ErrNotFound) {
		return secrets.CertificateInfo{}, false, nil
	}
	if err != nil {
		return secrets.CertificateInfo{}, false, fmt.Errorf("app: reading the registration: %w", err)
	}
	if !r.UsesCertificate() {
		return secrets.CertificateInfo{}, false, nil
	}
	_, info, err := secrets.ParseCertificate(r.ClientCertificate)
	if err != nil {
		return secrets.CertificateInfo{}, true, fmt.Errorf("app: the stored client certificate: %w", err)
	}
	return info, true, nil
}
