package autodiscover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/auth"
)

const user = "mara@contoso.com"

func TestDiscoverSOAPSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sample, server string
		wantURL, wantServer  string
		wantGrouping         string
	}{
		{"45 external", "45", ServerExternal, "https://mail.contoso.com/EWS/Exchange.asmx", ServerExternal, "CONTOSO-1"},
		{"45 internal falls back", "45", ServerInternal, "https://mail.contoso.com/EWS/Exchange.asmx", ServerExternal, "CONTOSO-1"},
		{"47 internal", "47", ServerInternal, "https://server.Contoso.com/ews/exchange.asmx", ServerInternal, ""},
		{"47 default", "47", "", "https://server.Contoso.com/ews/exchange.asmx", ServerExternal, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := string(realNamespaces(sample(t, tc.sample)))
			srv := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 200, nil, body })
			// the user configured the on-premises EWS host, so it is trusted
			client, allowed := clientFor(srv.URL, "https://mail.contoso.com", "https://server.contoso.com")
			res, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: srv.URL, Server: tc.server, HTTPClient: client, AllowedHost: allowed})
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if res.Method != MethodSOAP || res.EWSURL != tc.wantURL || res.Server != tc.wantServer || res.GroupingInformation != tc.wantGrouping {
				t.Errorf("got %+v, want soap %s (%s) grouping %q", res, tc.wantURL, tc.wantServer, tc.wantGrouping)
			}
			reqs := srv.requests()
			if len(reqs) != 1 || reqs[0].path != "/autodiscover/autodiscover.svc" || reqs[0].auth != "Bearer "+testToken || reqs[0].user != user {
				t.Errorf("requests: got %+v, want one authenticated POST to /autodiscover/autodiscover.svc for %s", reqs, user)
			}
		})
	}
}

// An EWS URL on a host nobody configured is refused: the engine would send
// the token there.
func TestDiscoverRefusesUntrustedEWSURL(t *testing.T) {
	t.Parallel()
	body := string(realNamespaces(sample(t, "45")))
	srv := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 200, nil, body })
	client, _ := clientFor(srv.URL)
	_, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: srv.URL, HTTPClient: client})
	var re *RedirectError
	if !errors.As(err, &re) || re.Reason != ReasonUntrustedEWS || !IsRedirectRefused(err) {
		t.Fatalf("got %v, want a RedirectError %q", err, ReasonUntrustedEWS)
	}
}

func TestDiscoverRedirectAddress(t *testing.T) {
	t.Parallel()
	const second = "User1@mail.Contoso.com"
	redirect := string(realNamespaces(sample(t, "48"))) // RedirectTarget User1@mail.Contoso.com
	srv := newFake(t, func(_ *fakeServer, _ *http.Request, u string) (int, http.Header, string) {
		if u == user {
			return 200, nil, redirect
		}
		return 200, nil, soapOK(map[string]string{"ExternalEwsUrl": "https://outlook.office365.com/EWS/Exchange.asmx", "GroupingInformation": "EURP123"})
	})
	client, allowed := clientFor(srv.URL)
	res, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: srv.URL, HTTPClient: client, AllowedHost: allowed})
	if err != nil {
		t.Fatal(err)
	}
	if res.User != second || res.EWSURL != "https://outlook.office365.com/EWS/Exchange.asmx" || len(res.Hops) != 1 || res.Hops[0].Kind != "RedirectAddress" {
		t.Errorf("got %+v, want user %s after one RedirectAddress hop", res, second)
	}
	if reqs := srv.requests(); len(reqs) != 2 || reqs[1].user != second {
		t.Errorf("requests: got %+v, want a second request for %s", reqs, second)
	}
}

// Redirects (RedirectUrl in the reply, or HTTP 302) to a host nobody
// configured are refused before any request goes there: the token cannot
// leak to it.
func TestDiscoverRedirectURLPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		trustTarget bool
		viaHTTP     bool
		target      func(target *fakeServer) string
		wantReason  string
	}{
		{"RedirectUrl to configured host", true, false, func(s *fakeServer) string { return s.URL + "/autodiscover/autodiscover.svc" }, ""},
		{"RedirectUrl to unknown host", false, false, func(s *fakeServer) string { return s.URL + "/autodiscover/autodiscover.svc" }, ReasonUntrustedHost},
		{"HTTP 302 to configured host", true, true, func(s *fakeServer) string { return s.URL + "/autodiscover/autodiscover.svc" }, ""},
		{"HTTP 302 to unknown host", false, true, func(s *fakeServer) string { return s.URL + "/autodiscover/autodiscover.svc" }, ReasonUntrustedHost},
		{"RedirectUrl to plain http", true, false, func(*fakeServer) string { return "http://autodiscover.contoso.com/autodiscover/autodiscover.svc" }, ReasonNotHTTPS},
		{"HTTP 302 to plain http", true, true, func(*fakeServer) string { return "http://autodiscover.contoso.com/autodiscover/autodiscover.svc" }, ReasonNotHTTPS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) {
				return 200, nil, soapOK(map[string]string{"ExternalEwsUrl": "https://outlook.office365.com/EWS/Exchange.asmx"})
			})
			to := tc.target(target)
			first := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) {
				if tc.viaHTTP {
					return http.StatusFound, http.Header{"Location": {to}}, ""
				}
				return 200, nil, soapUserResponse("RedirectUrl", "Redirection URL.", to, "")
			})
			trusted := []string{first.URL, "http://autodiscover.contoso.com"}
			if tc.trustTarget {
				trusted = append(trusted, target.URL)
			}
			client, allowed := clientFor(trusted...)
			res, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: first.URL, HTTPClient: client, AllowedHost: allowed})
			if tc.wantReason == "" {
				if err != nil || res.Endpoint != target.URL+"/autodiscover/autodiscover.svc" || len(res.Hops) != 1 {
					t.Fatalf("got %+v, %v; want an answer from the redirect target after one hop", res, err)
				}
				if reqs := target.requests(); len(reqs) != 1 || reqs[0].auth != "Bearer "+testToken {
					t.Errorf("target requests: got %+v, want one authenticated", reqs)
				}
				return
			}
			var re *RedirectError
			if !errors.As(err, &re) || re.Reason != tc.wantReason {
				t.Fatalf("got %v, want RedirectError %q", err, tc.wantReason)
			}
			if reqs := target.requests(); len(reqs) != 0 {
				t.Errorf("refused target got %d requests (%+v), want none", len(reqs), reqs)
			}
		})
	}
}

func TestDiscoverHopLimitAndLoops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		hops       int // RedirectAddress hops before an answer; -1 = loop
		wantReason string
	}{
		{"10 hops", 10, ""},
		{"11 hops", 11, ReasonTooManyHops},
		{"address loop", -1, ReasonLoop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, func(_ *fakeServer, _ *http.Request, u string) (int, http.Header, string) {
				var n int
				fmt.Sscanf(u, "u%d@contoso.com", &n)
				if tc.hops < 0 {
					return 200, nil, soapUserResponse("RedirectAddress", "", fmt.Sprintf("u%d@contoso.com", (n+1)%3), "")
				}
				if n < tc.hops {
					return 200, nil, soapUserResponse("RedirectAddress", "", fmt.Sprintf("u%d@contoso.com", n+1), "")
				}
				return 200, nil, soapOK(map[string]string{"ExternalEwsUrl": "https://outlook.office365.com/EWS/Exchange.asmx"})
			})
			client, allowed := clientFor(srv.URL)
			res, err := Discover(context.Background(), Request{User: "u0@contoso.com", AutodiscoverURL: srv.URL, HTTPClient: client, AllowedHost: allowed})
			if tc.wantReason == "" {
				if err != nil || len(res.Hops) != tc.hops {
					t.Fatalf("got %d hops, %v; want %d hops, nil", len(res.Hops), err, tc.hops)
				}
				return
			}
			var re *RedirectError
			if !errors.As(err, &re) || re.Reason != tc.wantReason {
				t.Fatalf("got %v, want RedirectError %q", err, tc.wantReason)
			}
			if n := len(srv.requests()); n > DefaultMaxHops+1 {
				t.Errorf("requests: got %d, want at most %d", n, DefaultMaxHops+1)
			}
		})
	}
}

// Security defaults: SOAP answers 401; Discover falls back to V2, which is
// asked without the token.
func TestDiscoverFallsBackToV2OnAuthError(t *testing.T) {
	t.Parallel()
	for _, status := range []int{401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			soap := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) {
				return status, http.Header{"Www-Authenticate": {`Bearer client_id="00000002-0000-0ff1-ce00-000000000000", error="invalid_token"`},
					"X-Ms-Diagnostics": {"2000001;reason=\"The token has no roles\";error_category=\"invalid_token\""}}, ""
			})
			v2 := newFake(t, func(_ *fakeServer, r *http.Request, u string) (int, http.Header, string) {
				if r.Method != http.MethodGet || r.URL.Path != "/autodiscover/autodiscover.json/v1.0/"+user || r.URL.Query().Get("Protocol") != "EWS" {
					return 400, http.Header{"Content-Type": {"application/json"}}, `{"ErrorCode":"InvalidProtocol","ErrorMessage":"bad"}`
				}
				return 200, http.Header{"Content-Type": {"application/json"}}, `{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}`
			})
			client, allowed := clientFor(soap.URL, v2.URL) // v2 host is trusted, yet gets no token
			res, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: soap.URL, V2URL: v2.URL, HTTPClient: client, AllowedHost: allowed})
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if res.Method != MethodV2 || res.EWSURL != "https://outlook.office365.com/EWS/Exchange.asmx" {
				t.Errorf("got %+v, want v2 with the Exchange Online URL", res)
			}
			var ae *Error
			if !IsAuth(res.SOAPError) || !errors.As(res.SOAPError, &ae) || ae.HTTPStatus != status || !strings.Contains(ae.Diagnostics, "2000001") {
				t.Errorf("SOAPError: got %v, want HTTP %d with diagnostics", res.SOAPError, status)
			}
			if reqs := v2.requests(); len(reqs) != 1 || reqs[0].auth != "" {
				t.Errorf("v2 requests: got %+v, want one without Authorization", reqs)
			}
			if reqs := soap.requests(); len(reqs) != 1 || reqs[0].auth == "" {
				t.Errorf("soap requests: got %+v, want one with the token", reqs)
			}
		})
	}
}

// V2's unauthenticated redirects may go anywhere https/loopback; they never
// carry the token.
func TestV2RedirectCarriesNoToken(t *testing.T) {
	t.Parallel()
	elsewhere := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) {
		return 200, http.Header{"Content-Type": {"application/json"}}, `{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}`
	})
	v2 := newFake(t, func(_ *fakeServer, r *http.Request, _ string) (int, http.Header, string) {
		return http.StatusFound, http.Header{"Location": {elsewhere.URL + r.URL.Path + "?" + r.URL.RawQuery}}, ""
	})
	soap := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 401, nil, "" })
	client, allowed := clientFor(soap.URL, v2.URL, elsewhere.URL)
	res, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: soap.URL, V2URL: v2.URL, HTTPClient: client, AllowedHost: allowed})
	if err != nil || res.Method != MethodV2 || len(res.Hops) != 1 {
		t.Fatalf("got %+v, %v; want v2 after one hop", res, err)
	}
	for _, r := range append(v2.requests(), elsewhere.requests()...) {
		if r.auth != "" {
			t.Errorf("v2 request %s carried Authorization", r.path)
		}
	}
}

func TestV2UntrustedEWSURLRefused(t *testing.T) {
	t.Parallel()
	soap := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 401, nil, "" })
	v2 := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) {
		return 200, http.Header{"Content-Type": {"application/json"}}, `{"Protocol":"EWS","Url":"https://ews.attacker.example/EWS/Exchange.asmx"}`
	})
	client, allowed := clientFor(soap.URL, v2.URL)
	_, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: soap.URL, V2URL: v2.URL, HTTPClient: client, AllowedHost: allowed})
	if !IsRedirectRefused(err) || !IsAuth(err) {
		t.Fatalf("got %v, want the SOAP auth error joined with a refused EWS URL", err)
	}
}

// V2 has no EWS answer; its AutodiscoverV1 answer names a POX server.
func TestDiscoverV2ToPOX(t *testing.T) {
	t.Parallel()
	pox52 := string(realNamespaces(sample(t, "52")))
	redirect55 := strings.Replace(string(realNamespaces(sample(t, "55"))), "elvin@mail.contoso.com", "elvin@contoso.com", 1)
	pox := newFake(t, func(_ *fakeServer, _ *http.Request, u string) (int, http.Header, string) {
		if u == user {
			return 200, nil, redirect55
		}
		return 200, nil, pox52
	})
	soap := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 401, nil, "" })
	v2 := newFake(t, func(_ *fakeServer, r *http.Request, _ string) (int, http.Header, string) {
		js := http.Header{"Content-Type": {"application/json"}}
		if r.URL.Query().Get("Protocol") == "AutodiscoverV1" {
			return 200, js, `{"Protocol":"AutodiscoverV1","Url":"` + pox.URL + `/autodiscover/autodiscover.xml"}`
		}
		return 404, js, `{"ErrorCode":"NotFound","ErrorMessage":"no EWS"}`
	})
	client, allowed := clientFor(soap.URL, v2.URL, pox.URL, "https://mail.contoso.com")
	res, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: soap.URL, V2URL: v2.URL, HTTPClient: client, AllowedHost: allowed})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if res.Method != MethodPOX || res.EWSURL != "https://mail.contoso.com/EWS/Exchange.asmx" || res.User != "elvin@contoso.com" {
		t.Errorf("got %+v, want pox with sample 52's EwsUrl for elvin", res)
	}
	if reqs := pox.requests(); len(reqs) != 2 || reqs[0].auth != "Bearer "+testToken {
		t.Errorf("pox requests: got %+v, want two authenticated", reqs)
	}
	found, err := FindAutodiscoverServer(context.Background(), Request{User: user, V2URL: v2.URL, AutodiscoverURL: soap.URL, HTTPClient: client})
	if err != nil || found != pox.URL+"/autodiscover/autodiscover.xml" {
		t.Errorf("FindAutodiscoverServer: got %q, %v; want the POX URL", found, err)
	}
}

func TestDiscoverErrors(t *testing.T) {
	t.Parallel()
	invalidUser := soapUserResponse("InvalidUser", "Invalid user: 'nobody@contoso.com'", "", "")
	busy := soapUserResponse("ServerBusy", "busy", "", "")
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"invalid user", 200, invalidUser, IsNotFound},
		{"server busy", 200, busy, IsServerBusy},
		{"html instead of soap", 200, "<html><body>hello</body></html>", func(err error) bool { var e *Error; return errors.As(err, &e) && e.Op == MethodSOAP }},
		{"500 fault", 500, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>bad</faultstring></s:Fault></s:Body></s:Envelope>`,
			func(err error) bool {
				var e *Error
				return errors.As(err, &e) && e.HTTPStatus == 500 && e.Code == "s:Client"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return tc.status, nil, tc.body })
			client, allowed := clientFor(srv.URL)
			_, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: srv.URL, HTTPClient: client, AllowedHost: allowed})
			if err == nil || !tc.check(err) {
				t.Fatalf("got %v, want a matching error", err)
			}
			if IsAuth(err) || IsNetwork(err) {
				t.Errorf("got IsAuth/IsNetwork true for %v", err)
			}
		})
	}
}

func TestDiscoverNetworkError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	client, allowed := clientFor(dead)
	_, err = Discover(context.Background(), Request{User: user, AutodiscoverURL: dead, HTTPClient: client, AllowedHost: allowed})
	if !IsNetwork(err) || IsAuth(err) {
		t.Fatalf("got %v, want a network error", err)
	}
}

// A token failure is reported as such: no fallback hides it.
func TestDiscoverTokenFailureNoFallback(t *testing.T) {
	t.Parallel()
	soap := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 200, nil, "" })
	v2 := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) { return 200, nil, "{}" })
	global, _ := auth.LookupCloud(auth.CloudGlobal)
	allowed := auth.AllowHosts(global, soap.URL, v2.URL)
	ts := auth.NewTokenSource(context.Background(), auth.Config{TenantID: "common", ClientID: "x", ClientSecret: "s"})
	client := auth.NewClient(nil, ts, allowed)
	_, err := Discover(context.Background(), Request{User: user, AutodiscoverURL: soap.URL, V2URL: v2.URL, HTTPClient: client, AllowedHost: allowed})
	if !auth.IsConfig(err) || IsAuth(err) {
		t.Fatalf("got %v, want the auth config error", err)
	}
	if n := len(soap.requests()) + len(v2.requests()); n != 0 {
		t.Errorf("requests sent: got %d, want 0", n)
	}
}

func TestDiscoverConfiguredAndValidation(t *testing.T) {
	t.Parallel()
	client, _ := clientFor()
	res, err := Discover(context.Background(), Request{User: user, EWSURL: "https://outlook.office365.com/EWS/Exchange.asmx", HTTPClient: client})
	if err != nil || res.Method != MethodConfigured || res.EWSURL != "https://outlook.office365.com/EWS/Exchange.asmx" {
		t.Errorf("configured: got %+v, %v", res, err)
	}
	for _, req := range []Request{
		{User: "not-an-address", HTTPClient: client},
		{User: user, HTTPClient: client, AutodiscoverURL: "http://autodiscover.contoso.com"},
		{User: user, HTTPClient: client, Server: "sideways"},
		{User: user},
		{User: user, HTTPClient: client, EWSURL: "http://outlook.office365.com/EWS/Exchange.asmx"},
	} {
		if _, err := Discover(context.Background(), req); err == nil {
			t.Errorf("Discover(%+v): got nil error, want a validation error", req)
		}
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := newFake(t, func(*fakeServer, *http.Request, string) (int, http.Header, string) {
		n.Add(1)
		return 200, nil, soapOK(map[string]string{"ExternalEwsUrl": "https://outlook.office365.com/EWS/Exchange.asmx"})
	})
	client, allowed := clientFor(srv.URL)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := NewCache(time.Hour, func() time.Time { return now })
	req := Request{User: user, AutodiscoverURL: srv.URL, HTTPClient: client, AllowedHost: allowed}
	steps := []struct {
		advance    time.Duration
		invalidate bool
		wantCalls  int32
		wantCached bool
	}{
		{0, false, 1, false},
		{30 * time.Minute, false, 1, true},
		{31 * time.Minute, false, 2, false},
		{0, false, 2, true},
		{0, true, 3, false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if s.invalidate {
			c.Invalidate(strings.ToUpper(user))
		}
		res, err := c.Discover(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if n.Load() != s.wantCalls || res.Cached != s.wantCached {
			t.Errorf("step %d: got %d server calls, cached %t; want %d, %t", i, n.Load(), res.Cached, s.wantCalls, s.wantCached)
		}
	}
	other := req
	other.Server = ServerInternal
	if _, ok := c.Get(other); ok {
		t.Errorf("cache hit for other settings, want a miss")
	}
}
