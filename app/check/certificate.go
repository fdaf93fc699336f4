package check

import (
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/exocal/exocal/app/secrets"
)

// checkCertificate finishes the registration step when the credential is a
// client certificate (preferred over a secret stored alongside it): the
// bundle must parse, the key must be the certificate's, and the
// certificate must be valid now; within secrets.CertificateWarnDays of its
// expiry the step warns.
func (r *runner) checkCertificate(st *Step, reg secrets.Registration, source string) {
	cert, info, err := secrets.ParseCertificate(reg.ClientCertificate)
	if err != nil {
		st.fail(finding{CauseCertificateInvalid, "The client certificate ExoCal holds cannot be used.", certificateFix(r.f)}, err)
		return
	}
	r.f.cert, r.f.certInfo = cert, info
	now := r.in.Now()
	switch {
	case !now.Before(info.NotAfter):
		st.fail(finding{CauseCertificateExpired,
			"The client certificate (" + info.String() + ") has expired.", newCertificateFix(r.f)}, nil)
		return
	case now.Before(info.NotBefore):
		st.fail(finding{CauseCertificateInvalid,
			"The client certificate (" + info.String() + ") is not valid before " + info.NotBefore.UTC().Format(time.DateOnly) + ": Entra refuses it until then.",
			"Wait until then, or check this computer's clock, or store another certificate:\n" + r.f.setCertificate()}, nil)
		return
	}
	st.State = StateOK
	st.Finding = fmt.Sprintf("Tenant %s, Client ID %s, client certificate set (%s; %s).", reg.TenantID, reg.ClientID, info, source)
	if info.ExpiresWithin(now, secrets.CertificateWarnDays*24*time.Hour) {
		days := int(info.NotAfter.Sub(now).Hours() / 24)
		st.warn(finding{CauseCertificateExpiring,
			fmt.Sprintf("The client certificate (thumbprint %s) expires on %s (in %d day(s)).", info.Thumbprint, info.NotAfter.UTC().Format(time.DateOnly), days),
			newCertificateFix(r.f)}, nil)
	}
}

// certificateFix says how to store a usable certificate bundle.
func certificateFix(f facts) string {
	headless := "or set EXOCAL_CLIENT_CERTIFICATE to that PEM text for headless use. "
	if f.env.cert {
		headless = ""
	}
	return "Store one PEM file holding the certificate (BEGIN CERTIFICATE) and its unencrypted RSA private key\n" +
		"(BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY):\n" +
		f.setCertificate() + "\n" +
		headless + "The certificate's public part must be\n" +
		"uploaded in " + f.appPage("Certificates & secrets > Certificates") + "."
}

// newCertificateFix says how to replace an expiring or expired certificate.
func newCertificateFix(f facts) string {
	return "1. Create a new certificate and key, e.g.:\n" +
		"     openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 -subj /CN=ExoCal -keyout key.pem -out cert.pem\n" +
		"2. Upload cert.pem (the public part only) in " + f.appPage("Certificates & secrets > Certificates > Upload certificate") + ".\n" +
		"3. Store both in ExoCal (cat cert.pem key.pem > bundle.pem):\n" + indent(f.setCertificate(), "   ") + "\n" +
		"4. Once ExoCal works with it, delete the old certificate in Entra."
}

// invalidCertificateFinding is AADSTS700027: Entra does not know the
// certificate the assertion was signed with (or the signature is wrong).
func invalidCertificateFinding(f facts) finding {
	thumb := "the thumbprint `exocal config show` prints"
	what := "the client certificate ExoCal holds"
	if f.certInfo.Thumbprint != "" {
		thumb = f.certInfo.Thumbprint
		what = "the client certificate (thumbprint " + thumb + ")"
	}
	return finding{CauseInvalidCertificate,
		"Entra rejected the client assertion signed with " + what + " (AADSTS700027): the certificate is not registered on app " + f.client() + ".",
		"1. Open " + f.appPage("Certificates & secrets > Certificates") + ".\n" +
			"2. Look for a certificate with thumbprint " + thumb + ".\n" +
			"   - Not listed: click \"Upload certificate\" and upload the certificate's public part (a .cer, .pem or .crt file\n" +
			"     holding only BEGIN CERTIFICATE, never the private key), e.g. made with\n" +
			"       openssl x509 -in bundle.pem -out exocal.cer\n" +
			"   - Another thumbprint listed: ExoCal holds a different certificate; store the matching one:\n" +
			indent(f.setCertificate(), "     ") + "\n" +
			"3. Check that this is the app with Client ID " + f.client() + ", wait a minute, then run the check again."}
}

// certScrub lists what of a certificate bundle must never appear in an
// output: the bundle and every line of its private key.
func certScrub(bundle string) []string {
	out := []string{bundle}
	data := []byte(bundle)
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})), "\n") {
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
	}
	return out
}
