// Package auth obtains app-only access tokens for Exchange Online from
// Microsoft Entra ID (the OAuth 2.0 client-credentials grant of the
// Microsoft identity platform) and decorates HTTP clients with them.
//
// What it implements, and where it was read:
//
//   - The token request: POST {authority}/{tenant}/oauth2/v2.0/token with
//     grant_type=client_credentials, client_id, scope={resource}/.default and
//     either client_secret or client_assertion_type=
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer plus
//     client_assertion (Microsoft identity platform, "OAuth 2.0 client
//     credentials flow"; EWS "Authenticate an EWS application by using
//     OAuth": scope https://outlook.office365.com/.default).
//   - The client assertion for certificate credentials: a JWT signed RS256
//     whose header carries x5t (base64url SHA-1 thumbprint of the DER
//     certificate) and x5t#S256 (SHA-256), and whose claims are
//     aud = the token endpoint, iss = sub = the client ID, a fresh jti, nbf,
//     iat and a short exp (Microsoft identity platform, "application
//     authentication certificate credentials").
//   - Error responses: JSON with error, error_description, error_codes,
//     timestamp, trace_id, correlation_id and error_uri; the AADSTS number is
//     error_codes[0] and the "AADSTSnnnn:" prefix of the description
//     ("Microsoft Entra authentication and authorization error codes").
//     They are decoded into *EntraError with predicates (IsInvalidSecret,
//     IsSecretExpired, IsAppNotFound, ...). Microsoft says the codes may
//     change; the predicates are hints for people, never control flow that
//     could lose data.
//   - Token claims (roles, aud, tid, appid/azp, exp) are read from the JWT
//     payload without verifying its signature: the token came straight from
//     the token endpoint over TLS and the client only reads it to explain a
//     missing full_access_as_app role before any EWS call; Exchange, the
//     resource, is the party that validates it.
//
// Tokens are cached and refreshed a few minutes before they expire
// (oauth2.ReuseTokenSourceWithExpiry), so a request never fails for an
// expired token it could have known about. The secret, the private key and
// the access token never appear in an error string or a log record.
//
// Sovereign clouds: the resource (and so the scope), the default
// autodiscover endpoints and the set of Exchange hosts that may receive the
// token come from a Cloud, chosen by name or derived from the authority
// host (see LookupCloud and CloudForAuthority).
package auth
