package secrets

import (
	"crypto/sha1" //nolint:gosec // the thumbprint Entra shows is SHA-1; it identifies, it does not protect
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/auth"
)

// CertificateWarnDays is how long before a client certificate's expiry
// `exocal secret set --certificate` and `exocal check` warn.
const CertificateWarnDays = 30

// CertificateInfo is what people compare with Entra's "Certificates &
// secrets" page: never the private key.
type CertificateInfo struct {
	// Thumbprint is the SHA-1 thumbprint in upper-case hex, as Entra lists it.
	Thumbprint string
	Subject    string
	NotBefore  time.Time
	NotAfter   time.Time
}

// String is "thumbprint …, expires YYYY-MM-DD".
func (c CertificateInfo) String() string {
	return "thumbprint " + c.Thumbprint + ", expires " + c.NotAfter.UTC().Format(time.DateOnly)
}

// ExpiresWithin reports whether the certificate expires within d of now.
func (c CertificateInfo) ExpiresWithin(now time.Time, d time.Duration) bool {
	return c.NotAfter.Sub(now) <= d
}

// Errors of a certificate bundle, for errors.Is; the messages say what to do.
var (
	ErrCertificateInvalid   = errors.New("secrets: invalid client certificate")
	ErrCertificateExpired   = errors.New("secrets: client certificate expired")
	ErrCertificateEncrypted = errors.New("secrets: client certificate key is encrypted")
)

// certError wraps one of the sentinels above with a sentence for people.
type certError struct {
	kind error
	msg  string
}

func (e *certError) Error() string { return "secrets: " + e.msg }
func (e *certError) Unwrap() error { return e.kind }

// ParseCertificate reads a PEM bundle (the certificate and its unencrypted
// RSA private key, PKCS#8 or PKCS#1) into the credential sync/auth signs
// client assertions with, and the facts people compare with Entra. Errors
// never quote the bundle.
func ParseCertificate(bundle string) (*auth.Certificate, CertificateInfo, error) {
	data := []byte(bundle)
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return nil, CertificateInfo{}, &certError{ErrCertificateEncrypted,
				"the private key is password-protected; ExoCal needs it unencrypted (the OS keyring protects it): convert it with `openssl pkey -in key.pem -out key-plain.pem` and pipe the certificate and that key in"}
		}
	}
	cert, err := auth.ParseCertificatePEM(data)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), "auth: certificate: ")
		return nil, CertificateInfo{}, &certError{ErrCertificateInvalid,
			"the client certificate cannot be used: " + reason + "; pipe in one PEM file holding the certificate (BEGIN CERTIFICATE) and its RSA private key (BEGIN PRIVATE KEY)"}
	}
	return cert, Describe(cert.Leaf), nil
}

// Describe returns a certificate's thumbprint, subject and validity.
func Describe(c *x509.Certificate) CertificateInfo {
	sum := sha1.Sum(c.Raw) //nolint:gosec
	return CertificateInfo{
		Thumbprint: strings.ToUpper(hex.EncodeToString(sum[:])),
		Subject:    c.Subject.String(),
		NotBefore:  c.NotBefore,
		NotAfter:   c.NotAfter,
	}
}

// NormalizeCertificate validates a PEM bundle read from stdin for storing:
// it must parse, the key must belong to the certificate, and the
// certificate must be valid now. It returns the bundle reduced to its
// CERTIFICATE and PRIVATE KEY blocks (no bag attributes or comments), the
// facts to show, and a warning (for people) when the certificate expires
// within CertificateWarnDays or is not valid yet.
func NormalizeCertificate(bundle string, now time.Time) (string, CertificateInfo, string, error) {
	_, info, err := ParseCertificate(bundle)
	if err != nil {
		return "", CertificateInfo{}, "", err
	}
	if !now.Before(info.NotAfter) {
		return "", info, "", &certError{ErrCertificateExpired,
			"the client certificate (" + info.String() + ") has expired; create a new one, upload its public part in Entra > Certificates & secrets > Certificates, and pipe the new bundle in"}
	}
	var b strings.Builder
	data := []byte(bundle)
	keys := 0
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		switch {
		case blk.Type == "CERTIFICATE":
		case strings.HasSuffix(blk.Type, "PRIVATE KEY") && keys == 0:
			keys++
		default:
			continue
		}
		b.Write(pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: blk.Bytes}))
	}
	warning := ""
	switch {
	case now.Before(info.NotBefore):
		warning = "the certificate is not valid before " + info.NotBefore.UTC().Format(time.DateOnly) + "; Entra refuses it until then."
	case info.ExpiresWithin(now, CertificateWarnDays*24*time.Hour):
		days := int(info.NotAfter.Sub(now).Hours() / 24)
		warning = fmt.Sprintf("the certificate expires on %s (in %d day(s)): create a new one soon and upload it in Entra > Certificates & secrets.",
			info.NotAfter.UTC().Format(time.DateOnly), days)
	}
	return b.String(), info, warning, nil
}
