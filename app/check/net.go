package check

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// dateRecorder is a RoundTripper that remembers the Date header of the
// last answer from each host, so that the token step can compare Entra's
// clock with the local one without an extra request.
type dateRecorder struct {
	base http.RoundTripper

	mu    sync.Mutex
	dates map[string]time.Time
}

func (d *dateRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := d.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		d.mu.Lock()
		if d.dates == nil {
			d.dates = map[string]time.Time{}
		}
		d.dates[strings.ToLower(req.URL.Host)] = t
		d.mu.Unlock()
	}
	return resp, nil
}

// serverDate is the Date of the last answer from host (host[:port]).
func (d *dateRecorder) serverDate(host string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.dates[strings.ToLower(host)]
	return t, ok
}

// newBaseClient copies the caller's client (or makes a private one) and
// puts the date recorder under it. It never touches http.DefaultTransport.
func newBaseClient(c *http.Client, timeout time.Duration) (*http.Client, *dateRecorder) {
	var hc http.Client
	if c != nil {
		hc = *c
	}
	base := hc.Transport
	if base == nil {
		base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          10,
			IdleConnTimeout:       30 * time.Second,
			TLSHandshakeTimeout:   15 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	d := &dateRecorder{base: base}
	hc.Transport = d
	if hc.Timeout == 0 {
		hc.Timeout = timeout
	}
	return &hc, d
}

// hostOf returns the host[:port] of a URL ("" if it has none).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// proxyFromEnv returns the proxy setting (HTTPS_PROXY, then https_proxy,
// ALL_PROXY) with any user:password removed, or "".
func proxyFromEnv(getenv func(string) string) (name, value string) {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			if u, err := url.Parse(v); err == nil && u.User != nil {
				u.User = nil
				v = u.String()
			}
			return k, v
		}
	}
	return "", ""
}
