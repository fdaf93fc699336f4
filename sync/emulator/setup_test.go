package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSetupModesAtTheTokenEndpoint: each Entra refusal mode answers with
// the exact status, headers and JSON body, and only after the credential
// was checked (or, for the wrong cloud, before the client is looked at).
func TestSetupModesAtTheTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"}}
	wrongSecret := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {"Wrong~secret-value-0000000000000000000"}, "scope": {"https://outlook.office365.com/.default"}}
	tests := []struct {
		name      string
		mode      Mode
		form      url.Values
		status    int
		kind      string
		code      int
		text      string // the description before the trace trailer, exactly
		suberror  string
		wantToken bool
	}{
		{name: "conditional access", mode: ModeConditionalAccess, form: good, status: 400, kind: "invalid_grant", code: 53003,
			text: "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
		{name: "wrong cloud", mode: ModeWrongCloud, form: good, status: 400, kind: "invalid_request", code: 90038,
			text: "AADSTS90038: Tenant '" + testTenantID + "' request is being redirected to the National Cloud 'microsoftonline.us'."},
		{name: "app disabled", mode: ModeAppDisabled, form: good, status: 400, kind: "unauthorized_client", code: 7000112,
			text: "AADSTS7000112: Application '" + testClientID + "'(ExoCal) is disabled."},
		{name: "consent required", mode: ModeConsentRequired, form: good, status: 400, kind: "invalid_grant", code: 65001, suberror: "consent_required",
			text: "AADSTS65001: The user or administrator has not consented to use the application with ID '" + testClientID + "' named 'ExoCal'. Send an interactive authorization request for this user and resource."},
		{name: "conditional access after a wrong secret", mode: ModeConditionalAccess, form: wrongSecret, status: 401, kind: "invalid_client", code: 7000215,
			text: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + testClientID + "'."},
		{name: "wrong cloud before a wrong secret", mode: ModeWrongCloud, form: wrongSecret, status: 400, kind: "invalid_request", code: 90038,
			text: "AADSTS90038: Tenant '" + testTenantID + "' request is being redirected to the National Cloud 'microsoftonline.us'."},
		{name: "missing role issues a token", mode: ModeMissingRole, form: good, status: 200, wantToken: true},
		{name: "consent propagating issues a token", mode: ModeConsentPropagating, form: good, status: 200, wantToken: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sequential: modes are server-wide. Switched by the admin API.
			e.adminPostQuery("mode?name=" + string(tt.mode) + "&on=true")
			defer e.adminPostQuery("mode?name=" + string(tt.mode) + "&on=false")
			resp, err := e.client.PostForm(e.tokenURL(), tt.form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache", "Pragma": "no-cache"} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if tt.wantToken {
				if body["token_type"] != "Bearer" || body["access_token"] == nil {
					t.Errorf("body: got %v, want a Bearer token", body)
				}
				return
			}
			if body["error"] != tt.kind {
				t.Errorf("error: got %v, want %s", body["error"], tt.kind)
			}
			if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(tt.code) {
				t.Errorf("error_codes: got %v, want [%d]", body["error_codes"], tt.code)
			}
			desc, _ := body["error_description"].(string)
			head, _, _ := strings.Cut(desc, "\r\nTrace ID: ")
			if head != tt.text {
				t.Errorf("error_description: got %q, want %q + trailer", head, tt.text)
			}
			if !traceTrailer.MatchString(desc) {
				t.Errorf("error_description trailer: got %q, want CRLF Trace ID/Correlation ID/Timestamp", desc)
			}
			if body["error_uri"] != "https://login.microsoftonline.com/error?code="+strconv.Itoa(tt.code) {
				t.Errorf("error_uri: got %v", body["error_uri"])
			}
			sub, has := body["suberror"]
			if tt.suberror == "" && has {
				t.Errorf("suberror: got %v, want none", sub)
			}
			if tt.suberror != "" && sub != tt.suberror {
				t.Errorf("suberror: got %v, want %s", sub, tt.suberror)
			}
		})
	}
}

// TestTokenRoleModesAtEWS: a token without full_access_as_app (missing
// role) and a right token before consent reached Exchange (consent
// propagating) are both refused by EWS with 401 and 2000008.
func TestTokenRoleModesAtEWS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[0]
	const wwwAuth = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`
	tests := []struct {
		mode      Mode
		wantRoles []any
	}{
		{ModeMissingRole, []any{"Calendars.Read"}},
		{ModeConsentPropagating, []any{"full_access_as_app"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			e.srv.SetMode(tt.mode, true)
			defer e.srv.SetMode(tt.mode, false)
			tok := e.getToken()
			_, claims, _, _, err := parseJWT(tok)
			if err != nil {
				t.Fatal(err)
			}
			if roles, _ := claims["roles"].([]any); !slices.Equal(roles, tt.wantRoles) {
				t.Errorf("roles: got %v, want %v", claims["roles"], tt.wantRoles)
			}
			res := e.post(ewsPath, tok, mb, soapEnvelope(mb, getFolderCalendar))
			if res.status != 401 {
				t.Fatalf("status: got %d, want 401 (%s)", res.status, res.body)
			}
			for k, v := range map[string]string{"x-ms-diagnostics": noPermissionsDiag, "WWW-Authenticate": wwwAuth, "Content-Length": "0"} {
				if got := res.header.Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			if len(res.body) != 0 {
				t.Errorf("body: got %q, want empty", res.body)
			}
		})
	}
	// Once consent has reached Exchange, the same kind of token works.
	e.srv.SetMode(ModeConsentPropagating, true)
	tok := e.getToken()
	e.srv.SetMode(ModeConsentPropagating, false)
	if res := e.post(ewsPath, tok, mb, soapEnvelope(mb, getFolderCalendar)); res.status != 200 {
		t.Errorf("after propagation: got %d, want 200", res.status)
	}
}

// adminPost posts JSON to the admin API and wants 204.
func (e *env) adminPost(path string, v any) {
	e.t.Helper()
	b, _ := json.Marshal(v)
	resp, err := e.client.Post(e.ts.URL+"/_emulator/"+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("admin %s: got %d, want 204", path, resp.StatusCode)
	}
}

func (e *env) adminState() State {
	e.t.Helper()
	resp, err := e.client.Get(e.ts.URL + "/_emulator/state")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

// TestPerMailboxRefusals: mailboxes set through the admin API as
// unlicensed or out of scope are refused; the others are served.
func TestPerMailboxRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mbs := e.srv.Tenant().Mailboxes()
	unlicensed, outside := mbs[1], mbs[2]
	e.adminPost("unlicensed", []string{strings.ToUpper(unlicensed)})
	e.adminPost("out-of-scope", []string{outside})
	if st := e.adminState(); !slices.Equal(st.Unlicensed, []string{strings.ToLower(unlicensed)}) || !slices.Equal(st.OutOfScope, []string{strings.ToLower(outside)}) {
		t.Errorf("state: got %+v, want unlicensed [%s] and out of scope [%s]", st, unlicensed, outside)
	}
	const accessDenied = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>` +
		`<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorAccessDenied</faultcode>` +
		`<faultstring xml:lang="en-US">Access is denied. Check credentials and try again.</faultstring><detail>` +
		`<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorAccessDenied</e:ResponseCode>` +
		`<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">Access is denied. Check credentials and try again.</e:Message>` +
		`</detail></s:Fault></s:Body></s:Envelope>`
	tests := []struct {
		name    string
		mailbox string
		status  int
		header  map[string]string
		body    string
	}{
		{"other mailbox", mbs[0], 200, nil, ""},
		{"no EWS licence", unlicensed, 403, map[string]string{"Content-Length": "0", "X-EWS-Policy-Reason": ""}, ""},
		{"outside the app's scope", outside, 500, map[string]string{"Content-Type": "text/xml; charset=utf-8", "Content-Length": strconv.Itoa(len(accessDenied))}, accessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.ews(tt.mailbox, getFolderCalendar)
			if res.status != tt.status {
				t.Fatalf("status: got %d, want %d (%s)", res.status, tt.status, res.body)
			}
			for k, v := range tt.header {
				if got := res.header.Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			if tt.status != 200 && string(res.body) != tt.body {
				t.Errorf("body: got %q, want %q", res.body, tt.body)
			}
		})
	}
	// Another mailbox's folder named while impersonating an allowed one:
	// an ErrorAccessDenied response message for the out-of-scope mailbox.
	other := `<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>` + outside + `</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>`
	for _, op := range []struct{ name, body string }{
		{"GetFolder", getFolderCalendar},
		{"SyncFolderItems", syncRequest("", 10, "IdOnly")},
		{"FindItem", calendarViewRequest(testNow, testNow.AddDate(0, 0, 7), 0)},
	} {
		t.Run(op.name+" on an out-of-scope mailbox's folder", func(t *testing.T) {
			body := strings.Replace(op.body, `<t:DistinguishedFolderId Id="calendar" />`, other, 1)
			res := e.ews(mbs[0], body)
			if res.status != 200 || len(res.messages()) != 1 {
				t.Fatalf("got %d, want 200 with one response message:\n%s", res.status, res.body)
			}
			msg := res.messages()[0]
			if msg.attr("ResponseClass") != "Error" || msg.child(nsMessages, "ResponseCode").text() != "ErrorAccessDenied" ||
				msg.child(nsMessages, "MessageText").text() != accessDeniedText {
				t.Errorf("response message: got %s %s %q, want Error ErrorAccessDenied %q", msg.attr("ResponseClass"),
					msg.child(nsMessages, "ResponseCode").text(), msg.child(nsMessages, "MessageText").text(), accessDeniedText)
			}
		})
	}
	// Clearing the lists serves every mailbox again.
	e.adminPost("unlicensed", []string{})
	e.adminPost("out-of-scope", []string{})
	for _, mb := range []string{unlicensed, outside} {
		if res := e.ews(mb, getFolderCalendar); res.status != 200 {
			t.Errorf("%s after clearing: got %d, want 200", mb, res.status)
		}
	}
}

func TestPerMailboxOptions(t *testing.T) {
	t.Parallel()
	ten := newEnv(t).srv.Tenant().Mailboxes() // the same seed gives the same addresses
	e := newEnv(t, func(o *Options) {
		o.UnlicensedMailboxes = []string{ten[3]}
		o.OutOfScopeMailboxes = []string{ten[0]}
	})
	if res := e.ews(ten[3], getFolderCalendar); res.status != 403 {
		t.Errorf("unlicensed by Options: got %d, want 403", res.status)
	}
	if res := e.ews(ten[0], getFolderCalendar); res.status != 500 || res.faultCode() != "ErrorAccessDenied" {
		t.Errorf("out of scope by Options: got %d %q, want 500 ErrorAccessDenied", res.status, res.faultCode())
	}
	if res := e.ews(ten[1], getFolderCalendar); res.status != 200 {
		t.Errorf("other mailbox: got %d, want 200", res.status)
	}
}

// TestSkewedDate: in ModeSkewedDate every token endpoint answer carries a
// Date off by the skew (10 minutes by default); EWS keeps the real Date.
func TestSkewedDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Now = func() time.Time { return testNow }
		o.Modes = []Mode{ModeSkewedDate}
		o.DateSkew = -7 * time.Minute
	})
	dateOf := func(form url.Values) (int, string) {
		resp, err := e.client.PostForm(e.tokenURL(), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Date")
	}
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"}}
	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {"nope"}, "scope": {"https://outlook.office365.com/.default"}}
	if status, d := dateOf(good); status != 200 || d != "Fri, 27 Nov 2026 08:53:00 GMT" {
		t.Errorf("token: got %d Date %q, want 200 and Fri, 27 Nov 2026 08:53:00 GMT", status, d)
	}
	if status, d := dateOf(bad); status != 401 || d != "Fri, 27 Nov 2026 08:53:00 GMT" {
		t.Errorf("error: got %d Date %q, want 401 and Fri, 27 Nov 2026 08:53:00 GMT", status, d)
	}
	e.adminPostQuery("date-skew?d=0s")
	if _, d := dateOf(good); d != "Fri, 27 Nov 2026 09:10:00 GMT" {
		t.Errorf("default skew: got Date %q, want Fri, 27 Nov 2026 09:10:00 GMT", d)
	}
	if st := e.adminState(); st.DateSkew != "10m0s" || !slices.Contains(st.Modes, ModeSkewedDate) {
		t.Errorf("state: got %+v, want skewed-date on with 10m0s", st)
	}
	mb := e.srv.Tenant().Mailboxes()[0]
	if res := e.ews(mb, getFolderCalendar); res.status != 200 || strings.Contains(res.header.Get("Date"), "27 Nov 2026 09:10:00") {
		t.Errorf("EWS: got %d Date %q, want 200 and the real Date", res.status, res.header.Get("Date"))
	}
	e.srv.SetMode(ModeSkewedDate, false)
	if _, d := dateOf(good); d == "Fri, 27 Nov 2026 09:10:00 GMT" || d == "" {
		t.Errorf("mode off: got Date %q, want the real Date", d)
	}
}

// adminPostQuery posts to the admin API without a body and wants 204.
func (e *env) adminPostQuery(pathAndQuery string) {
	e.t.Helper()
	resp, err := e.client.Post(e.ts.URL+"/_emulator/"+pathAndQuery, "", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("admin %s: got %d, want 204", pathAndQuery, resp.StatusCode)
	}
}

func TestAdminRefusesUnknownMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := e.client.Post(e.ts.URL+"/_emulator/mode?name=conditonal-access&on=true", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown mode: got %d, want 400", resp.StatusCode)
	}
	if st := e.adminState(); len(st.Modes) != 0 {
		t.Errorf("modes: got %v, want none", st.Modes)
	}
}

func TestAdminFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		body     string
		want     int
		wantText string
	}{
		{`{"Kind":"busy","EveryN":1}`, http.StatusBadRequest, `unknown fault kind "busy"; known kinds: [server-busy`},
		{`{"Kind":"server-busy"}`, http.StatusBadRequest, "would never hit"},
		{`{"Kind":"reset","Probability":2}`, http.StatusBadRequest, "over 1"},
		{`{"Kind":"reset","EveryN":1,"Every":2}`, http.StatusBadRequest, `unknown field "Every"`},
		{`{"Kind":"reset","EveryN":1,"Operations":["GetItm"]}`, http.StatusBadRequest, `unknown EWS operation "GetItm"`},
		{`{"Kind":"reset","EveryN":1,"Operations":["GetItem"]}`, http.StatusNoContent, ""},
		{`{"Kind":"server-busy","EveryN":3}`, http.StatusNoContent, ""},
		{`{"Kind":""}`, http.StatusNoContent, ""},
	} {
		resp, err := e.client.Post(e.ts.URL+"/_emulator/faults", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !strings.Contains(string(b), tt.wantText) {
			t.Errorf("POST faults %s: got %d %q, want %d saying %q", tt.body, resp.StatusCode, b, tt.want, tt.wantText)
		}
	}
}
