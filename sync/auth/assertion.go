package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // x5t is defined as the SHA-1 thumbprint; it identifies, it does not protect
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// ClientAssertionType is the client_assertion_type for a JWT assertion
// (RFC 7523), as the Microsoft identity platform expects it.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime keeps the assertion short-lived, as Microsoft advises
// (5-10 minutes after nbf at most).
const assertionLifetime = 10 * time.Minute

// Thumbprints returns the certificate's x5t (SHA-1) and x5t#S256 (SHA-256)
// values: base64url without padding over the DER certificate.
func (c *Certificate) Thumbprints() (x5t, x5tS256 string) {
	s1 := sha1.Sum(c.Leaf.Raw) //nolint:gosec
	s256 := sha256.Sum256(c.Leaf.Raw)
	return base64.RawURLEncoding.EncodeToString(s1[:]), base64.RawURLEncoding.EncodeToString(s256[:])
}

// assertion builds and signs the client_assertion JWT (RS256) for one token
// request: aud is the token endpoint, iss and sub the client ID, jti a fresh
// random UUID.
func (c *Certificate) assertion(clientID, tokenURL string, now time.Time) (string, error) {
	x5t, x5tS256 := c.Thumbprints()
	header := map[string]string{"alg": "RS256", "typ": "JWT", "x5t": x5t, "x5t#S256": x5tS256}
	jti, err := newUUID()
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"aud": tokenURL,
		"iss": clientID,
		"sub": clientID,
		"jti": jti,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := c.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("auth: sign client assertion: %w", err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: random jti: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
