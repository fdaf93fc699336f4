package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RoleFullAccessAsApp is the Office 365 Exchange Online application role
// EWS app-only access needs (id dc890d15-9560-4a4c-9b7f-a736ec74ec40).
const RoleFullAccessAsApp = "full_access_as_app"

// ExchangeAppID is the application ID of "Office 365 Exchange Online", the
// resourceAppId in the manifest's requiredResourceAccess; tokens for it may
// carry it as aud.
const ExchangeAppID = "00000002-0000-0ff1-ce00-000000000000"

var (
	// ErrNotJWT: the access token is not a readable JWT.
	ErrNotJWT = errors.New("auth: access token is not a JWT")
	// ErrNoRoles: the token carries no roles at all — admin consent for the
	// app's application permissions has not been granted (or not yet
	// propagated). EWS would answer 401 (x-ms-diagnostics 2000008).
	ErrNoRoles = errors.New("auth: token has no roles: admin consent for the app's application permissions is missing")
	// ErrMissingRole: the token has roles, but not the one needed — the
	// manifest lacks full_access_as_app for Office 365 Exchange Online.
	ErrMissingRole = errors.New("auth: token lacks a required application role")
	// ErrWrongAudience: the token is for another resource than Exchange.
	ErrWrongAudience = errors.New("auth: token is not for Exchange")
)

// Claims are the parts of an app-only access token that explain setup
// problems. They are read without verifying the token's signature: see the
// package documentation.
type Claims struct {
	Roles    []string
	Audience string // aud: https://outlook.office365.com or ExchangeAppID
	TenantID string // tid
	AppID    string // appid (v1 tokens) or azp (v2)
	Issuer   string
	IDType   string // idtyp: "app" for app-only tokens
	Expiry   time.Time
}

// ParseClaims reads the payload of a JWT access token.
func ParseClaims(accessToken string) (Claims, error) {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return Claims{}, ErrNotJWT
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, fmt.Errorf("%w: payload is not base64url", ErrNotJWT)
	}
	var raw struct {
		Roles []string        `json:"roles"`
		Aud   json.RawMessage `json:"aud"`
		Tid   string          `json:"tid"`
		AppID string          `json:"appid"`
		Azp   string          `json:"azp"`
		Iss   string          `json:"iss"`
		IDTyp string          `json:"idtyp"`
		Exp   json.Number     `json:"exp"`
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Claims{}, fmt.Errorf("%w: payload is not JSON", ErrNotJWT)
	}
	c := Claims{Roles: raw.Roles, TenantID: raw.Tid, AppID: raw.AppID, Issuer: raw.Iss, IDType: raw.IDTyp}
	if c.AppID == "" {
		c.AppID = raw.Azp
	}
	var aud any
	if len(raw.Aud) > 0 && json.Unmarshal(raw.Aud, &aud) == nil {
		switch a := aud.(type) {
		case string:
			c.Audience = a
		case []any:
			if len(a) > 0 {
				c.Audience, _ = a[0].(string)
			}
		}
	}
	if raw.Exp != "" {
		if f, err := raw.Exp.Float64(); err == nil {
			c.Expiry = time.Unix(int64(f), 0)
		}
	}
	return c, nil
}

// HasRole reports whether the token carries the application role.
func (c Claims) HasRole(role string) bool {
	for _, r := range c.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

// ClaimsError explains which claim check failed; errors.Is matches
// ErrNoRoles, ErrMissingRole or ErrWrongAudience.
type ClaimsError struct {
	Err      error // one of the sentinels
	Want     string
	Roles    []string
	Audience string
}

func (e *ClaimsError) Error() string {
	switch e.Err {
	case ErrNoRoles:
		return ErrNoRoles.Error() + " (grant admin consent under API permissions, then wait a few minutes and retry)"
	case ErrMissingRole:
		return fmt.Sprintf("%s: want %q, token has %v", ErrMissingRole.Error(), e.Want, e.Roles)
	case ErrWrongAudience:
		return fmt.Sprintf("%s: aud %q, want %s", ErrWrongAudience.Error(), e.Audience, e.Want)
	}
	return e.Err.Error()
}

func (e *ClaimsError) Unwrap() error { return e.Err }

// RequireRole returns nil when the token carries role, else a *ClaimsError
// matching ErrNoRoles (no roles at all) or ErrMissingRole.
func (c Claims) RequireRole(role string) error {
	if len(c.Roles) == 0 {
		return &ClaimsError{Err: ErrNoRoles, Want: role}
	}
	if !c.HasRole(role) {
		return &ClaimsError{Err: ErrMissingRole, Want: role, Roles: c.Roles}
	}
	return nil
}

// RequireEWS checks what EWS app-only access needs: a token for the
// cloud's Exchange resource carrying full_access_as_app.
func (c Claims) RequireEWS(cloud Cloud) error {
	aud := strings.TrimRight(c.Audience, "/")
	if aud != "" && aud != cloud.Resource && aud != ExchangeAppID {
		return &ClaimsError{Err: ErrWrongAudience, Want: cloud.Resource, Audience: c.Audience}
	}
	return c.RequireRole(RoleFullAccessAsApp)
}
