package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app/secrets"
)

// Certifier is optionally implemented by the Store (as Diagnoser is): it
// tells the form about the client certificate the registration holds, so
// the form can say "Client certificate: stored (thumbprint …, expires …)"
// under the client secret. The form never sets a certificate: people pipe
// the PEM bundle into `exocal secret set --certificate`.
type Certifier interface {
	// ClientCertificate returns the stored certificate's thumbprint and
	// validity; stored is false when the registration holds none. err
	// says a stored certificate cannot be read. Never the PEM or its key.
	ClientCertificate() (info secrets.CertificateInfo, stored bool, err error)
}

// Words of the certificate lines under the client secret.
const (
	CertificatePrefix = "Client certificate: stored"
	CertificateHint   = "Certificates are set with: exocal secret set --certificate"
)

// certificateLine is the read-only line under the client secret: empty
// when store is no Certifier or no certificate is stored.
func certificateLine(store Store) string {
	c, ok := store.(Certifier)
	if !ok {
		return ""
	}
	info, stored, err := c.ClientCertificate()
	switch {
	case !stored:
		return ""
	case err != nil:
		// Not the error itself: it may quote what the keyring returned.
		return CertificatePrefix + ", but it cannot be used; set it again"
	}
	return CertificatePrefix + " (" + info.String() + ")"
}

func infoLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}

// loadCertificate shows the stored certificate, or hides the line.
func (f *Form) loadCertificate() {
	line := certificateLine(f.store)
	f.certificate.SetText(line)
	if line == "" {
		f.certificate.Hide()
	} else {
		f.certificate.Show()
	}
}

// Certificate is the certificate line under the client secret ("" when hidden).
func (f *Form) Certificate() string {
	if !f.certificate.Visible() {
		return ""
	}
	return f.certificate.Text
}
