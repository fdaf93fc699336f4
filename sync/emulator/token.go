package emulator

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The Microsoft Entra token endpoint (v2.0, client credentials grant), as
// documented at learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
// and in the AADSTS error-code reference. Error wording was checked against
// published Entra responses; where a code's exact text could not be found it
// is marked "inferred" next to it.

const (
	// ewsResource is Exchange Online's resource (audience) for EWS tokens.
	ewsResource = "https://outlook.office365.com"
	// exoAppID is the well-known application id of "Office 365 Exchange Online".
	exoAppID        = "00000002-0000-0ff1-ce00-000000000000"
	assertionType   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	fullAccessAsApp = "full_access_as_app"
	// otherExchangeRole is an Office 365 Exchange Online application
	// permission that is not full_access_as_app (ModeMissingRole).
	otherExchangeRole = "Calendars.Read"
	// appDisplayName is the registered app's name in tokens and errors.
	appDisplayName     = "ExoCal"
	defaultTokenExpiry = 3599 * time.Second
)

// aadError is an Entra error response body.
type aadError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	ErrorCodes    []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
	Suberror      string `json:"suberror,omitempty"`
}

// writeAADError answers like Entra: status, JSON body with the AADSTS code
// and the trace/correlation/timestamp trailer in error_description.
func (s *Server) writeAADError(w http.ResponseWriter, r *http.Request, status int, kind string, code int, msg string) {
	s.writeAADErrorSub(w, r, status, kind, code, "", msg)
}

// writeAADErrorSub is writeAADError with a suberror (e.g. consent_required).
func (s *Server) writeAADErrorSub(w http.ResponseWriter, r *http.Request, status int, kind string, code int, sub, msg string) {
	now := s.now().UTC()
	ts := now.Format("2006-01-02 15:04:05Z")
	trace := s.guid()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = s.guid()
	}
	body := aadError{
		Error:         kind,
		Description:   fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", code, msg, trace, corr, ts),
		ErrorCodes:    []int{code},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
		Suberror:      sub,
	}
	// Entra separates the trailer with CRLF.
	body.Description = strings.Replace(body.Description, " Trace ID: ", "\r\nTrace ID: ", 1)
	body.Description = strings.Replace(body.Description, " Correlation ID: ", "\r\nCorrelation ID: ", 1)
	body.Description = strings.Replace(body.Description, " Timestamp: ", "\r\nTimestamp: ", 1)
	setNoStoreJSON(w.Header())
	w.Header().Set("x-ms-request-id", trace)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeMissingParam answers like Entra for a request without parameter name
// (AADSTS900144).
func (s *Server) writeMissingParam(w http.ResponseWriter, r *http.Request, name string) {
	s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 900144,
		fmt.Sprintf("The request body must contain the following parameter: '%s'.", name))
}

// setNoStoreJSON sets the headers Entra sends on every token endpoint answer.
func setNoStoreJSON(h http.Header) {
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
}

// handleToken serves POST /{tenant}/oauth2/v2.0/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	s.setTokenDate(w)
	if r.Method != http.MethodPost {
		// Entra answers a GET on the token endpoint with AADSTS900561.
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 900561,
			"The endpoint only accepts POST requests. Received a GET request.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeMissingParam(w, r, "grant_type")
		return
	}
	s.stats.tokenRequests.Add(1)
	if !s.knownTenant(tenantSeg) {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenantSeg))
		return
	}
	if s.tenantRefusal(w, r, tenantSeg) {
		return
	}
	grant := r.PostForm.Get("grant_type")
	if grant == "" {
		s.writeMissingParam(w, r, "grant_type")
		return
	}
	if grant != "client_credentials" {
		s.writeAADError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
		return
	}
	clientID := r.PostForm.Get("client_id")
	if clientID == "" {
		s.writeMissingParam(w, r, "client_id")
		return
	}
	if !strings.EqualFold(clientID, s.opts.ClientID) {
		s.writeAADError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, s.tenantName()))
		return
	}
	scope := r.PostForm.Get("scope")
	if scope == "" {
		s.writeMissingParam(w, r, "scope")
		return
	}
	if code, kind, msg := checkScope(scope, s.tenantName()); code != 0 {
		s.writeAADError(w, r, http.StatusBadRequest, kind, code, msg)
		return
	}
	secret, assertion := r.PostForm.Get("client_secret"), r.PostForm.Get("client_assertion")
	var appidacr string
	switch {
	case secret != "":
		if subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
			s.writeAADError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", s.opts.ClientID))
			return
		}
		if s.hasMode(ModeExpiredSecret) {
			s.writeAADError(w, r, http.StatusUnauthorized, "invalid_client", 7000222,
				fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", s.opts.ClientID))
			return
		}
		appidacr = "1"
	case assertion != "":
		if r.PostForm.Get("client_assertion_type") != assertionType {
			s.writeMissingParam(w, r, "client_assertion_type")
			return
		}
		if status, kind, code, msg := s.checkAssertion(r, assertion); code != 0 {
			s.writeAADError(w, r, status, kind, code, msg)
			return
		}
		appidacr = "2"
	default:
		s.writeAADError(w, r, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if s.appRefusal(w, r) {
		return
	}
	tok, exp := s.issueToken(appidacr)
	secs := int(exp.Round(time.Second) / time.Second)
	setNoStoreJSON(w.Header())
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

// checkScope enforces the client-credentials rule: one resource, "/.default".
func checkScope(scope, tenantName string) (code int, kind, msg string) {
	for _, sc := range strings.Fields(scope) {
		if !strings.HasSuffix(sc, "/.default") {
			return 1002012, "invalid_scope", fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
		}
		res := strings.TrimSuffix(sc, "/.default")
		switch strings.ToLower(strings.TrimSuffix(res, "/")) {
		case "https://outlook.office365.com", "https://outlook.office.com", exoAppID:
		default:
			// 500011: resource principal unknown in the tenant.
			return 500011, "invalid_resource", fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", res, tenantName)
		}
	}
	if len(strings.Fields(scope)) != 1 {
		return 70011, "invalid_scope", fmt.Sprintf("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)
	}
	return 0, "", ""
}

func (s *Server) knownTenant(seg string) bool {
	return strings.EqualFold(seg, s.opts.TenantID) || (s.t != nil && strings.EqualFold(seg, s.t.Domain()))
}

func (s *Server) tenantName() string {
	if s.t != nil {
		return "Contoso (" + s.opts.TenantID + ")"
	}
	return s.opts.TenantID
}

// --- JWT ------------------------------------------------------------------

var b64url = base64.RawURLEncoding

func signJWT(key *rsa.PrivateKey, header, claims map[string]any) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64url.EncodeToString(hb) + "." + b64url.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64url.EncodeToString(sig), nil
}

// parseJWT splits and decodes a compact JWS without verifying it.
func parseJWT(tok string) (header, claims map[string]any, signing string, sig []byte, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, "", nil, errors.New("emulator: jwt: not three parts")
	}
	hb, err1 := b64url.DecodeString(parts[0])
	cb, err2 := b64url.DecodeString(parts[1])
	sig, err3 := b64url.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, nil, "", nil, fmt.Errorf("emulator: jwt: %w", err)
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, nil, "", nil, fmt.Errorf("emulator: jwt header: %w", err)
	}
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, nil, "", nil, fmt.Errorf("emulator: jwt claims: %w", err)
	}
	return header, claims, parts[0] + "." + parts[1], sig, nil
}

func verifyRS256(pub *rsa.PublicKey, signing string, sig []byte) bool {
	sum := sha256.Sum256([]byte(signing))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

func numClaim(c map[string]any, name string) (int64, bool) {
	f, ok := c[name].(float64)
	return int64(f), ok
}

func strClaim(c map[string]any, name string) string {
	s, _ := c[name].(string)
	return s
}

// certThumbprints returns the x5t (base64url SHA-1) and the hex thumbprint
// Entra shows for a certificate.
func certThumbprints(cert *x509.Certificate) (x5t, hexThumb string) {
	sum := sha1.Sum(cert.Raw)
	return b64url.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:]))
}

// checkAssertion verifies a certificate client assertion as Entra does.
func (s *Server) checkAssertion(r *http.Request, assertion string) (status int, kind string, code int, msg string) {
	header, claims, signing, sig, err := parseJWT(assertion)
	if err != nil {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	if header["alg"] != "RS256" && header["alg"] != "PS256" {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	cert := s.opts.Certificate
	x5t, hexThumb := "", ""
	if cert != nil {
		x5t, hexThumb = certThumbprints(cert)
	}
	presented := strClaim(header, "x5t")
	if presented == "" {
		presented = strClaim(header, "kid")
	}
	if cert == nil || (presented != x5t && !strings.EqualFold(presented, hexThumb)) {
		return http.StatusUnauthorized, "invalid_client", 700027,
			fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", presented, s.opts.ClientID)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || header["alg"] != "RS256" || !verifyRS256(pub, signing, sig) {
		return http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation."
	}
	if iss, sub := strClaim(claims, "iss"), strClaim(claims, "sub"); !strings.EqualFold(iss, s.opts.ClientID) || !strings.EqualFold(sub, s.opts.ClientID) {
		// inferred wording
		return http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
	}
	aud := strClaim(claims, "aud")
	if !s.validAssertionAudience(r, aud) {
		return http.StatusUnauthorized, "invalid_client", 700023,
			"Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials ."
	}
	now := s.now()
	exp, okE := numClaim(claims, "exp")
	nbf, okN := numClaim(claims, "nbf")
	const skew = 5 * 60
	if !okE || now.Unix() > exp+skew || (okN && now.Unix()+skew < nbf) {
		return http.StatusUnauthorized, "invalid_client", 700024,
			fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
				now.UTC().Format("2006-01-02T15:04:05.0000000Z"), time.Unix(nbf, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"),
				time.Unix(exp, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"))
	}
	return 0, "", 0, ""
}

// validAssertionAudience accepts the token endpoint the client posted to
// (the emulator's own URL) or Entra's public one for the tenant.
func (s *Server) validAssertionAudience(r *http.Request, aud string) bool {
	self := "http://" + r.Host + r.URL.Path
	tenants := []string{s.opts.TenantID}
	if s.t != nil {
		tenants = append(tenants, s.t.Domain())
	}
	cands := []string{self}
	for _, t := range tenants {
		cands = append(cands, "https://login.microsoftonline.com/"+t+"/oauth2/v2.0/token")
	}
	return slices.ContainsFunc(cands, func(c string) bool { return strings.EqualFold(c, aud) })
}

// issueToken mints an Exchange Online app-only access token (a v1 JWT, as
// Entra issues for the outlook.office365.com resource).
func (s *Server) issueToken(appidacr string) (string, time.Duration) {
	life := s.tokenLifetime()
	now := s.now()
	s.mu.Lock()
	s.tokenSerial++
	serial := s.tokenSerial
	s.mu.Unlock()
	claims := map[string]any{
		"aud":             ewsResource,
		"iss":             "https://sts.windows.net/" + s.opts.TenantID + "/",
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(life).Unix(),
		"app_displayname": appDisplayName,
		"appid":           s.opts.ClientID,
		"appidacr":        appidacr,
		"idp":             "https://sts.windows.net/" + s.opts.TenantID + "/",
		"oid":             s.servicePrincipalID(),
		"sub":             s.servicePrincipalID(),
		"tid":             s.opts.TenantID,
		"uti":             fmt.Sprintf("emu%d", serial),
		"ver":             "1.0",
	}
	switch {
	case s.hasMode(ModeNoConsent):
	case s.hasMode(ModeMissingRole):
		claims["roles"] = []string{otherExchangeRole}
	default:
		claims["roles"] = []string{fullAccessAsApp}
	}
	header := map[string]any{"typ": "JWT", "alg": "RS256", "x5t": s.keyID, "kid": s.keyID}
	tok, err := signJWT(s.key, header, claims)
	if err != nil {
		panic("emulator: sign token: " + err.Error()) // only on a broken key
	}
	return tok, life
}

func (s *Server) servicePrincipalID() string {
	return s.guidFrom("sp:" + s.opts.ClientID)
}

// noPermissionsDiag is Exchange Online's x-ms-diagnostics for a token
// without (understood) permissions.
const noPermissionsDiag = `2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"`

// tokenProblem is why EWS refuses a bearer token.
type tokenProblem struct {
	diag string // x-ms-diagnostics value
}

// checkBearer validates an EWS request's Authorization header. It returns
// nil when the token is good and carries full_access_as_app.
func (s *Server) checkBearer(r *http.Request) *tokenProblem {
	h := r.Header.Get("Authorization")
	const pfx = "bearer "
	if len(h) <= len(pfx) || !strings.EqualFold(h[:len(pfx)], pfx) {
		return &tokenProblem{}
	}
	tok := strings.TrimSpace(h[len(pfx):])
	header, claims, signing, sig, err := parseJWT(tok)
	if err != nil || header["alg"] != "RS256" || !verifyRS256(&s.key.PublicKey, signing, sig) {
		return &tokenProblem{diag: `2000001;reason="The token is invalid.";error_category="invalid_token"`}
	}
	if aud := strClaim(claims, "aud"); !strings.EqualFold(strings.TrimSuffix(aud, "/"), ewsResource) && aud != exoAppID {
		return &tokenProblem{diag: fmt.Sprintf(`2000003;reason="The audience claim value is invalid '%s'.";error_category="invalid_resource"`, aud)}
	}
	exp, _ := numClaim(claims, "exp")
	nbf, _ := numClaim(claims, "nbf")
	now := s.now().Unix()
	if now >= exp || now+300 < nbf {
		return &tokenProblem{diag: `2000001;reason="The token has expired.";error_category="invalid_token"`}
	}
	if !strings.EqualFold(strClaim(claims, "tid"), s.opts.TenantID) {
		return &tokenProblem{diag: `2000001;reason="The token is invalid.";error_category="invalid_token"`}
	}
	var serial uint64
	fmt.Sscanf(strClaim(claims, "uti"), "emu%d", &serial)
	s.mu.Lock()
	revoked := serial <= s.revokedUpTo
	s.mu.Unlock()
	if revoked {
		return &tokenProblem{diag: `2000001;reason="The token has been revoked.";error_category="invalid_token"`}
	}
	roles, _ := claims["roles"].([]any)
	if !slices.Contains(roles, any(fullAccessAsApp)) || s.hasMode(ModeConsentPropagating) {
		// With ModeConsentPropagating the token is right, but Exchange has
		// not yet learnt of the consent.
		return &tokenProblem{diag: noPermissionsDiag}
	}
	return nil
}

// writeUnauthorized answers 401 as Exchange Online does for bearer tokens.
func writeUnauthorized(w http.ResponseWriter, p *tokenProblem) {
	h := w.Header()
	h.Set("WWW-Authenticate", `Bearer client_id="`+exoAppID+`", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`)
	if p.diag != "" {
		h.Set("x-ms-diagnostics", p.diag)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}
