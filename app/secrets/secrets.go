// Package secrets keeps ExoCal's app registration (tenant ID, client ID,
// client secret and/or client certificate) in the OS keyring through
// go-keyring, with a timeout on every call, read-only EXOCAL_* environment
// overrides for headless use, and an in-memory store for tests. It never
// falls back to a plaintext file: the certificate's PEM bundle, private key
// included, lives only in the keyring entry (or EXOCAL_CLIENT_CERTIFICATE).
package secrets

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/sync/auth"
)

// Registration is what Entra gives an administrator for an app-only app.
// ClientSecret is the secret's Value, never its ID. ClientCertificate is
// the PEM bundle of a certificate registered on the app and its private
// key (the credential Microsoft recommends over a secret). When both are
// present the certificate is used (see Credential): a user who adds a
// certificate need not delete the secret first, and the secret stays as a
// fallback they can return to with `exocal secret clear-certificate`.
type Registration struct {
	TenantID          string `json:"tenant_id"`
	ClientID          string `json:"client_id"`
	ClientSecret      string `json:"client_secret"`
	ClientCertificate string `json:"client_certificate,omitempty"`
}

// Complete reports whether the IDs and a credential (secret or
// certificate) are present.
func (r Registration) Complete() bool {
	return r.TenantID != "" && r.ClientID != "" && (r.ClientSecret != "" || r.ClientCertificate != "")
}

// UsesCertificate reports whether the certificate is the credential in use.
func (r Registration) UsesCertificate() bool { return r.ClientCertificate != "" }

// Credential returns what the token request authenticates with: the
// parsed certificate when one is present (the secret is then ignored),
// else the secret.
func (r Registration) Credential() (secret string, cert *auth.Certificate, err error) {
	if r.ClientCertificate == "" {
		return r.ClientSecret, nil, nil
	}
	cert, _, err = ParseCertificate(r.ClientCertificate)
	if err != nil {
		return "", nil, err
	}
	return "", cert, nil
}

// String never shows the secret or the certificate's key.
func (r Registration) String() string {
	s := "missing"
	if r.ClientSecret != "" {
		s = "set"
	}
	out := "tenant " + r.TenantID + ", client " + r.ClientID + ", secret " + s
	if r.ClientCertificate != "" {
		out += ", certificate set"
	}
	return out
}

// GoString keeps %#v from printing the secret too.
func (r Registration) GoString() string { return "secrets.Registration{" + r.String() + "}" }

// DefaultProfile is the profile used until ExoCal supports several.
const DefaultProfile = "default"

// ErrNotFound means the store holds no registration for the profile.
var ErrNotFound = errors.New("secrets: no registration stored")

// Store keeps one Registration per profile.
type Store interface {
	Get(ctx context.Context, profile string) (Registration, error)
	Set(ctx context.Context, profile string, r Registration) error
	Delete(ctx context.Context, profile string) error
}

// Memory is a Store for tests. The zero value is ready to use.
type Memory struct {
	mu sync.Mutex
	m  map[string]Registration
}

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory { return &Memory{} }

// Get implements Store.
func (m *Memory) Get(_ context.Context, profile string) (Registration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.m[profile]
	if !ok {
		return Registration{}, ErrNotFound
	}
	return r, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, profile string, r Registration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]Registration{}
	}
	m.m[profile] = r
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, profile string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[profile]; !ok {
		return ErrNotFound
	}
	delete(m.m, profile)
	return nil
}

// Environment variables that override the stored registration.
const (
	EnvTenantID     = "EXOCAL_TENANT_ID"
	EnvClientID     = "EXOCAL_CLIENT_ID"
	EnvClientSecret = "EXOCAL_CLIENT_SECRET"
	// EnvClientCertificate holds the PEM bundle itself (certificate and
	// private key), never a file name: secrets are never read from files.
	EnvClientCertificate = "EXOCAL_CLIENT_CERTIFICATE"
)

// Env overlays the EXOCAL_* environment variables on a base Store. Each
// variable that is set replaces that value from the base; they are read,
// never written: Set and Delete go to the base only.
type Env struct {
	Base   Store
	Getenv func(string) string // os.Getenv when nil
}

// AsEnv returns the EXOCAL_* overlay when s is one (secrets.Default's
// store, a value or a pointer), so callers can tell which values the
// environment supplies.
func AsEnv(s Store) (Env, bool) {
	switch e := s.(type) {
	case Env:
		return e, true
	case *Env:
		if e != nil {
			return *e, true
		}
	}
	return Env{}, false
}

func (e Env) env() Registration {
	get := e.Getenv
	if get == nil {
		get = os.Getenv
	}
	return Registration{
		TenantID:          strings.TrimSpace(get(EnvTenantID)),
		ClientID:          strings.TrimSpace(get(EnvClientID)),
		ClientSecret:      strings.TrimSpace(get(EnvClientSecret)),
		ClientCertificate: strings.TrimSpace(get(EnvClientCertificate)),
	}
}

// Overridden reports which values come from the environment.
func (e Env) Overridden() (tenant, client, secret bool) {
	r := e.env()
	return r.TenantID != "", r.ClientID != "", r.ClientSecret != ""
}

// CertificateOverridden reports whether EXOCAL_CLIENT_CERTIFICATE is set.
func (e Env) CertificateOverridden() bool { return e.env().ClientCertificate != "" }

// Get returns the base's registration with the environment's values on top.
// When the environment supplies the IDs and a credential (secret or
// certificate) the base is not asked, so headless use works without any
// keyring.
func (e Env) Get(ctx context.Context, profile string) (Registration, error) {
	env := e.env()
	if env.Complete() {
		return env, nil
	}
	var r Registration
	if e.Base != nil {
		var err error
		r, err = e.Base.Get(ctx, profile)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Registration{}, err
		}
		if errors.Is(err, ErrNotFound) && env == (Registration{}) {
			return Registration{}, err
		}
	} else if env == (Registration{}) {
		return Registration{}, ErrNotFound
	}
	if env.TenantID != "" {
		r.TenantID = env.TenantID
	}
	if env.ClientID != "" {
		r.ClientID = env.ClientID
	}
	if env.ClientSecret != "" {
		r.ClientSecret = env.ClientSecret
	}
	if env.ClientCertificate != "" {
		r.ClientCertificate = env.ClientCertificate
	}
	return r, nil
}

// Set writes to the base store; the environment is never written.
func (e Env) Set(ctx context.Context, profile string, r Registration) error {
	if e.Base == nil {
		return errors.New("secrets: no keyring to write to; the EXOCAL_* environment variables are read-only")
	}
	return e.Base.Set(ctx, profile, r)
}

// Delete deletes from the base store.
func (e Env) Delete(ctx context.Context, profile string) error {
	if e.Base == nil {
		return ErrNotFound
	}
	return e.Base.Delete(ctx, profile)
}

// NormalizeSecret trims the whitespace a paste tends to bring along and
// returns a warning (for people) when the value looks like the secret's ID
// (a GUID) rather than its Value.
func NormalizeSecret(s string) (string, string) {
	s = strings.TrimSpace(s)
	if config.IsGUID(s) {
		return s, "this looks like the secret's ID, not its Value: in Entra > Certificates & secrets copy the Value column (it is shown only right after the secret is created)."
	}
	return s, ""
}

// Default returns the store ExoCal uses: the OS keyring under the EXOCAL_*
// environment overrides.
func Default() Store { return Env{Base: NewKeyring()} }
