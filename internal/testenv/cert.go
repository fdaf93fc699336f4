package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// Bundle is a self-signed RSA certificate and its private key, as the tests
// of the certificate credential need them.
type Bundle struct {
	Leaf    *x509.Certificate
	Key     *rsa.PrivateKey
	CertPEM string
	KeyPEM  string // PKCS#8
	// KeyLines are the base64 lines of KeyPEM: no output may hold one.
	KeyLines []string
}

// PEM is the bundle as `exocal secret set --certificate` reads it:
// certificate, then key.
func (b Bundle) PEM() string { return b.CertPEM + b.KeyPEM }

// SelfSigned makes a 2048-bit RSA certificate for cn, valid from notBefore
// to notAfter.
func SelfSigned(t testing.TB, cn string, notBefore, notAfter time.Time) Bundle {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b := Bundle{Leaf: leaf, Key: key,
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))}
	for _, l := range strings.Split(b.KeyPEM, "\n") {
		if len(l) > 16 && !strings.HasPrefix(l, "-----") {
			b.KeyLines = append(b.KeyLines, l)
		}
	}
	return b
}
