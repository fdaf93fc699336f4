// Package autodiscover finds a mailbox's EWS URL the ways Exchange Online
// offers, with the bearer token sent only where it belongs.
//
// Methods, in the order Discover tries them:
//
//   - SOAP Autodiscover GetUserSettings (soap.go): POST
//     {server}/autodiscover/autodiscover.svc with WS-Addressing Action/To and
//     RequestedServerVersion, asking for ExternalEwsUrl, InternalEwsUrl and
//     GroupingInformation (EWS docs "Get user settings from Exchange by
//     using Autodiscover", "Use Autodiscover to find connection points",
//     and the GetUserSettings operation reference). Replies are parsed by
//     local name, so both the real namespace
//     http://schemas.microsoft.com/exchange/2010/Autodiscover and the docs'
//     https:// look-alike are accepted. RedirectAddress and RedirectUrl
//     ("Handling Autodiscover error messages") are followed.
//   - Autodiscover V2 JSON (v2.go), when the SOAP endpoint refuses the token
//     (HTTP 401/403, as tenants with security defaults do): GET
//     {v2}/autodiscover/autodiscover.json/v1.0/{user}?Protocol=EWS answers
//     {"Protocol":"EWS","Url":"…"}; Protocol=AutodiscoverV1 names the
//     POX autodiscover server. V2 needs no authentication and is sent
//     without the token.
//   - POX Autodiscover (pox.go) at the server V2 named: POST
//     …/autodiscover/autodiscover.xml with the outlook requestschema/2006,
//     reading EwsUrl/ASUrl of the EXCH/EXPR protocols ("POX Autodiscover
//     request/response for Exchange").
//   - A configured EWS URL (Request.EWSURL) skips all of this.
//
// Security: the token may only reach hosts the user configured and
// Microsoft's Exchange hosts of the cloud in use (auth.AllowHosts). Every
// redirect — an HTTP 3xx, a RedirectUrl in a reply — must be https (plain
// http only on loopback), at most MaxHops (10) long, loop-free, and, when
// the next request carries the token, to an allowed host; otherwise
// Discover stops with a *RedirectError instead of following it. The EWS URL
// finally returned is held to the same rule, since the engine sends the
// token there. The auth.Transport under Request.HTTPClient enforces the
// host rule a second time per request.
package autodiscover
