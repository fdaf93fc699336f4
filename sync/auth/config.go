package auth

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// DefaultEarlyExpiry is how long before its expiry a cached token is
// replaced, so that no request goes out with a token about to lapse.
const DefaultEarlyExpiry = 5 * time.Minute

// Config is an app registration and where to use it. Exactly one of
// ClientSecret and Certificate is set.
type Config struct {
	// AuthorityHost defaults to the cloud's (https://login.microsoftonline.com).
	// Plain http is accepted only for loopback hosts (tests, the emulator).
	AuthorityHost string
	// Cloud names the cloud (see LookupCloud); "" derives it from AuthorityHost.
	Cloud string
	// TenantID is the directory (tenant) ID or a verified domain; not
	// "common", "organizations" or "consumers" (app-only tokens need a tenant).
	TenantID string
	// ClientID is the application (client) ID.
	ClientID string
	// ClientSecret is the secret's value (not its ID).
	ClientSecret string
	// Certificate authenticates with a signed client assertion instead of a secret.
	Certificate *Certificate
	// Scope defaults to the cloud's resource + "/.default"
	// (https://outlook.office365.com/.default).
	Scope string
	// HTTPClient talks to the token endpoint; nil uses a private client.
	HTTPClient *http.Client
	// EarlyExpiry defaults to DefaultEarlyExpiry.
	EarlyExpiry time.Duration
	// Logger receives debug records (never a secret or token); nil discards.
	Logger *slog.Logger
}

// Certificate is a certificate credential: the certificate registered on
// the app and its RSA private key.
type Certificate struct {
	Leaf *x509.Certificate
	Key  crypto.Signer
}

// CertificateFromTLS takes the leaf and key of a tls.Certificate.
func CertificateFromTLS(c tls.Certificate) (*Certificate, error) {
	if len(c.Certificate) == 0 {
		return nil, errors.New("auth: certificate: no certificate in the chain")
	}
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("auth: certificate: %w", err)
		}
	}
	key, ok := c.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("auth: certificate: private key cannot sign")
	}
	cert := &Certificate{Leaf: leaf, Key: key}
	return cert, cert.check()
}

// ParseCertificatePEM reads a PEM bundle holding the certificate and its
// private key (PKCS#8 or PKCS#1), as it would be kept in the keyring.
func ParseCertificatePEM(data []byte) (*Certificate, error) {
	var certDER, keyDER [][]byte
	var keyTypes []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certDER = append(certDER, b.Bytes)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keyDER = append(keyDER, b.Bytes)
			keyTypes = append(keyTypes, b.Type)
		}
	}
	if len(certDER) == 0 || len(keyDER) == 0 {
		return nil, errors.New("auth: certificate: PEM needs a CERTIFICATE and a PRIVATE KEY block")
	}
	tc := tls.Certificate{Certificate: certDER}
	switch keyTypes[0] {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(keyDER[0])
		if err != nil {
			return nil, errors.New("auth: certificate: cannot parse the RSA private key")
		}
		tc.PrivateKey = k
	default:
		k, err := x509.ParsePKCS8PrivateKey(keyDER[0])
		if err != nil {
			return nil, errors.New("auth: certificate: cannot parse the PKCS#8 private key")
		}
		tc.PrivateKey = k
	}
	return CertificateFromTLS(tc)
}

func (c *Certificate) check() error {
	if c == nil || c.Leaf == nil || c.Key == nil {
		return errors.New("auth: certificate: needs the certificate and its private key")
	}
	pub, ok := c.Key.Public().(*rsa.PublicKey)
	if !ok {
		return errors.New("auth: certificate: Entra client assertions need an RSA key")
	}
	if lp, ok := c.Leaf.PublicKey.(*rsa.PublicKey); !ok || !lp.Equal(pub) {
		return errors.New("auth: certificate: the private key does not belong to the certificate")
	}
	return nil
}

// ConfigError says which setting is unusable and why. Its message never
// holds a secret.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "auth: invalid " + e.Field + ": " + e.Reason
}

// IsConfig reports whether err is a configuration error (nothing was sent).
func IsConfig(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// IsTenantAlias reports whether the tenant was given as common,
// organizations or consumers, which app-only tokens cannot use.
func IsTenantAlias(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce) && ce.Field == "tenant_id" && strings.Contains(ce.Reason, "alias")
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// LooksLikeSecretID reports whether a "secret" has the shape of a GUID: the
// secret's ID (shown next to its value in the portal) rather than the value.
func LooksLikeSecretID(secret string) bool { return guidRE.MatchString(strings.TrimSpace(secret)) }

// resolved is a validated Config with defaults applied.
type resolved struct {
	cloud    Cloud
	tokenURL string
	scope    string
	tenantID string
	clientID string
	secret   string
	cert     *Certificate
	early    time.Duration
	client   *http.Client
	log      *slog.Logger
}

// Validate checks the configuration without contacting anyone.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

func (c Config) resolve() (resolved, error) {
	var r resolved
	if c.Cloud != "" {
		cl, ok := LookupCloud(c.Cloud)
		if !ok {
			return r, &ConfigError{Field: "cloud", Reason: fmt.Sprintf("unknown cloud %q (want global, usgov, usgovdod, china)", c.Cloud)}
		}
		r.cloud = cl
		if c.AuthorityHost != "" {
			r.cloud.AuthorityHost = c.AuthorityHost
		}
	} else {
		r.cloud = CloudForAuthority(c.AuthorityHost)
	}
	authority := strings.TrimRight(strings.TrimSpace(r.cloud.AuthorityHost), "/")
	u, err := CheckURL(authority)
	if err != nil {
		return r, &ConfigError{Field: "authority_host", Reason: err.(*ConfigError).Reason}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return r, &ConfigError{Field: "authority_host", Reason: "must not carry a query or fragment"}
	}
	tenant := strings.TrimSpace(c.TenantID)
	switch strings.ToLower(tenant) {
	case "":
		return r, &ConfigError{Field: "tenant_id", Reason: "missing: copy the Directory (tenant) ID from the app's Overview page"}
	case "common", "organizations", "consumers":
		return r, &ConfigError{Field: "tenant_id", Reason: fmt.Sprintf("%q is an alias, not a tenant: app-only tokens need the Directory (tenant) ID", tenant)}
	}
	if !guidRE.MatchString(tenant) && !domainRE.MatchString(tenant) {
		return r, &ConfigError{Field: "tenant_id", Reason: "must be a GUID (Directory (tenant) ID) or a verified domain"}
	}
	r.tenantID = tenant
	r.clientID = strings.TrimSpace(c.ClientID)
	if r.clientID == "" {
		return r, &ConfigError{Field: "client_id", Reason: "missing: copy the Application (client) ID from the app's Overview page"}
	}
	if !guidRE.MatchString(r.clientID) {
		return r, &ConfigError{Field: "client_id", Reason: "must be a GUID: the Application (client) ID"}
	}
	r.secret = c.ClientSecret
	r.cert = c.Certificate
	switch {
	case r.secret == "" && r.cert == nil:
		return r, &ConfigError{Field: "client_secret", Reason: "missing: set the client secret's value or a certificate"}
	case r.secret != "" && r.cert != nil:
		return r, &ConfigError{Field: "client_secret", Reason: "set either a client secret or a certificate, not both"}
	case r.cert != nil:
		if err := r.cert.check(); err != nil {
			return r, &ConfigError{Field: "certificate", Reason: strings.TrimPrefix(err.Error(), "auth: certificate: ")}
		}
	}
	r.tokenURL = authority + "/" + tenant + "/oauth2/v2.0/token"
	r.scope = strings.TrimSpace(c.Scope)
	if r.scope == "" {
		r.scope = r.cloud.Scope()
	}
	r.early = c.EarlyExpiry
	if r.early <= 0 {
		r.early = DefaultEarlyExpiry
	}
	r.client = c.HTTPClient
	if r.client == nil {
		r.client = newDefaultClient()
	}
	r.log = c.Logger
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// newDefaultClient is a private client: it never shares or touches
// http.DefaultTransport. Its Timeout bounds whole request/response calls;
// long-lived streaming requests must not run under it (ews.Client uses a
// copy without it for GetStreamingEvents).
func newDefaultClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   15 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
}
