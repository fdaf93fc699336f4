package auth

import (
	"net"
	"net/url"
	"strings"
)

// Cloud names accepted by LookupCloud and Config.Cloud.
const (
	CloudGlobal   = "global"   // Microsoft 365 worldwide (and GCC)
	CloudUSGov    = "usgov"    // GCC High
	CloudUSGovDoD = "usgovdod" // DoD
	CloudChina    = "china"    // operated by 21Vianet
	CloudCustom   = "custom"   // an authority this package does not know (the emulator, a test server)
)

// Cloud describes one Microsoft 365 cloud: where tokens come from, which
// resource they are for, where autodiscover lives, and which hosts are
// Microsoft's Exchange hosts that may receive the bearer token.
//
// The values are Microsoft's published endpoints for each national cloud
// (Exchange Online endpoints for US Government and 21Vianet); the China
// autodiscover host is the one least well documented.
type Cloud struct {
	Name string
	// AuthorityHost is the Entra login endpoint, e.g. https://login.microsoftonline.com.
	AuthorityHost string
	// Resource is the Exchange resource; the client-credentials scope is Resource + "/.default".
	Resource string
	// AutodiscoverURL is the default SOAP autodiscover server.
	AutodiscoverURL string
	// V2URL is the host of the unauthenticated Autodiscover V2 JSON endpoint.
	V2URL string
	// hosts are exact Exchange host names; suffixes match any subdomain (".outlook.com").
	hosts    []string
	suffixes []string
}

// LookupCloud returns the cloud with that name ("" means global).
func LookupCloud(name string) (Cloud, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", CloudGlobal:
		return Cloud{
			Name:            CloudGlobal,
			AuthorityHost:   "https://login.microsoftonline.com",
			Resource:        "https://outlook.office365.com",
			AutodiscoverURL: "https://autodiscover-s.outlook.com",
			V2URL:           "https://outlook.office365.com",
			hosts:           []string{"outlook.office365.com", "outlook.office.com"},
			suffixes:        []string{".outlook.com"},
		}, true
	case CloudUSGov:
		return Cloud{
			Name:            CloudUSGov,
			AuthorityHost:   "https://login.microsoftonline.us",
			Resource:        "https://outlook.office365.us",
			AutodiscoverURL: "https://autodiscover-s.office365.us",
			V2URL:           "https://outlook.office365.us",
			hosts:           []string{"outlook.office365.us"},
			suffixes:        []string{".office365.us"},
		}, true
	case CloudUSGovDoD:
		return Cloud{
			Name:            CloudUSGovDoD,
			AuthorityHost:   "https://login.microsoftonline.us",
			Resource:        "https://webmail.apps.mil",
			AutodiscoverURL: "https://autodiscover-s-dod.office365.us",
			V2URL:           "https://webmail.apps.mil",
			hosts:           []string{"webmail.apps.mil", "autodiscover-s-dod.office365.us"},
		}, true
	case CloudChina:
		return Cloud{
			Name:            CloudChina,
			AuthorityHost:   "https://login.partner.microsoftonline.cn",
			Resource:        "https://partner.outlook.cn",
			AutodiscoverURL: "https://partner.outlook.cn",
			V2URL:           "https://partner.outlook.cn",
			hosts:           []string{"partner.outlook.cn"},
			suffixes:        []string{".partner.outlook.cn"},
		}, true
	case CloudCustom:
		g, _ := LookupCloud(CloudGlobal)
		return Cloud{Name: CloudCustom, Resource: g.Resource}, true
	}
	return Cloud{}, false
}

// CloudForAuthority derives the cloud from the authority host:
// login.microsoftonline.com → global, login.microsoftonline.us → usgov (GCC
// High; DoD shares the authority and must be named explicitly),
// login.partner.microsoftonline.cn or login.chinacloudapi.cn → china.
// Any other authority (a loopback emulator, a test server) is "custom": it
// keeps the global resource, so the scope stays
// https://outlook.office365.com/.default, but no host is trusted by default.
func CloudForAuthority(authorityHost string) Cloud {
	host := authorityHost
	if u, err := url.Parse(authorityHost); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	switch strings.ToLower(strings.TrimSuffix(host, ".")) {
	case "", "login.microsoftonline.com", "login.windows.net", "login.microsoft.com":
		c, _ := LookupCloud(CloudGlobal)
		return c
	case "login.microsoftonline.us":
		c, _ := LookupCloud(CloudUSGov)
		return c
	case "login.partner.microsoftonline.cn", "login.chinacloudapi.cn":
		c, _ := LookupCloud(CloudChina)
		c.AuthorityHost = "https://" + strings.ToLower(host)
		return c
	}
	c, _ := LookupCloud(CloudCustom)
	c.AuthorityHost = strings.TrimRight(authorityHost, "/")
	return c
}

// Scope is the client-credentials scope for the cloud's Exchange resource.
func (c Cloud) Scope() string { return c.Resource + "/.default" }

// IsExchangeHost reports whether hostport (a URL's Host, port optional) is
// one of Microsoft's Exchange hosts in this cloud. Only the https default
// port matches: an explicit other port is not Microsoft's service.
func (c Cloud) IsExchangeHost(hostport string) bool {
	h, port := splitHostPort(hostport)
	if port != "" && port != "443" {
		return false
	}
	for _, x := range c.hosts {
		if h == x {
			return true
		}
	}
	for _, s := range c.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// AllowHosts returns the host policy for Transport.AllowedHosts: the cloud's
// Exchange hosts plus the hosts of the URLs the user configured (an
// autodiscover server, an EWS URL, the emulator). A configured URL with an
// explicit port trusts that port only. Empty or unparsable URLs are
// ignored.
func AllowHosts(c Cloud, configuredURLs ...string) func(hostport string) bool {
	configured := map[string]bool{}
	for _, raw := range configuredURLs {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" {
			continue
		}
		configured[canonicalHost(u.Host, u.Scheme)] = true
	}
	return func(hostport string) bool {
		if configured[canonicalHost(hostport, "")] || configured[canonicalHost(hostport, "https")] {
			return true
		}
		return c.IsExchangeHost(hostport)
	}
}

// canonicalHost lower-cases the host and drops the scheme's default port.
func canonicalHost(hostport, scheme string) string {
	h, port := splitHostPort(hostport)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") || (scheme == "" && port == "443") {
		port = ""
	}
	if port == "" {
		return h
	}
	return net.JoinHostPort(h, port)
}

func splitHostPort(hostport string) (host, port string) {
	host = hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	return host, port
}

// IsLoopback reports whether a URL host (port optional) is a loopback
// address or "localhost"; plain http is allowed only there.
func IsLoopback(hostport string) bool {
	h, _ := splitHostPort(hostport)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// CheckURL reports whether raw is an absolute URL this project may talk to:
// https anywhere, http only on loopback hosts.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, &ConfigError{Field: "url", Reason: "not a URL: " + err.Error()}
	}
	if u.Host == "" {
		return nil, &ConfigError{Field: "url", Reason: "not an absolute URL: " + raw}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Host) {
			return nil, &ConfigError{Field: "url", Reason: "plain http is allowed only for loopback hosts: " + u.Redacted()}
		}
	default:
		return nil, &ConfigError{Field: "url", Reason: "scheme must be https: " + u.Redacted()}
	}
	return u, nil
}
