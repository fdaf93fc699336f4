package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// getUserSettings is a GetUserSettings request shaped like sample 56 (the
// docs sample with the real http:// namespaces).
func getUserSettings(mailbox string, settings ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion>
    <wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action>
    <wsa:To>https://autodiscover-s.outlook.com/autodiscover/autodiscover.svc</wsa:To>
  </soap:Header>
  <soap:Body>
    <a:GetUserSettingsRequestMessage xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover">
      <a:Request><a:Users><a:User><a:Mailbox>` + mailbox + `</a:Mailbox></a:User></a:Users><a:RequestedSettings>`)
	for _, s := range settings {
		b.WriteString("<a:Setting>" + s + "</a:Setting>")
	}
	b.WriteString(`</a:RequestedSettings></a:Request>
    </a:GetUserSettingsRequestMessage>
  </soap:Body>
</soap:Envelope>`)
	return b.String()
}

func (e *env) postRaw(path, contentType, body string) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.client.Post(e.ts.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAutodiscoverSOAP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[0]
	resp, body := e.postRaw("/autodiscover/autodiscover.svc", "text/xml; charset=utf-8",
		getUserSettings(mb, "ExternalEwsUrl", "InternalEwsUrl", "GroupingInformation", "NoSuchSetting"))
	if resp.StatusCode != 200 {
		t.Fatalf("status: got %d", resp.StatusCode)
	}
	root, err := parseXML(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if root.Space != nsSOAP {
		t.Errorf("envelope namespace: got %s", root.Space)
	}
	if a := root.child(nsSOAP, "Header").child(nsWSA, "Action").text(); a != "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse" {
		t.Errorf("Action: got %q", a)
	}
	ur := root.child(nsSOAP, "Body").path(nsAutod, "GetUserSettingsResponseMessage", "Response", "UserResponses", "UserResponse")
	if ur.child(nsAutod, "ErrorCode").text() != "NoError" {
		t.Fatalf("UserResponse: got %s", body)
	}
	got := map[string]string{}
	for _, s := range ur.child(nsAutod, "UserSettings").all(nsAutod, "UserSetting") {
		got[s.child(nsAutod, "Name").text()] = s.child(nsAutod, "Value").text()
	}
	want := map[string]string{
		"ExternalEwsUrl":      e.ts.URL + "/EWS/Exchange.asmx",
		"InternalEwsUrl":      e.ts.URL + "/internal/EWS/Exchange.asmx",
		"GroupingInformation": groupingOf(mb),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if n := ur.child(nsAutod, "UserSettingErrors").child(nsAutod, "UserSettingError").child(nsAutod, "SettingName").text(); n != "NoSuchSetting" {
		t.Errorf("UserSettingErrors: got %q, want NoSuchSetting", n)
	}

	// Unknown user: InvalidUser.
	_, body = e.postRaw("/autodiscover/autodiscover.svc", "text/xml; charset=utf-8", getUserSettings("ghost@contoso.onmicrosoft.com", "ExternalEwsUrl"))
	root, _ = parseXML(strings.NewReader(string(body)))
	ur = root.child(nsSOAP, "Body").path(nsAutod, "GetUserSettingsResponseMessage", "Response", "UserResponses", "UserResponse")
	if c, m := ur.child(nsAutod, "ErrorCode").text(), ur.child(nsAutod, "ErrorMessage").text(); c != "InvalidUser" || m != "Invalid user: 'ghost@contoso.onmicrosoft.com'" {
		t.Errorf("unknown user: got %q %q", c, m)
	}

	// Security defaults: 401 so the client falls back to V2.
	e.srv.SetMode(ModeAutodiscover401, true)
	resp, body = e.postRaw("/autodiscover/autodiscover.svc", "text/xml; charset=utf-8", getUserSettings(mb, "ExternalEwsUrl"))
	if resp.StatusCode != 401 || len(body) != 0 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("autodiscover-401: got %d %q %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	e.srv.SetMode(ModeAutodiscover401, false)
}

func TestAutodiscoverPOXAndV2(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[1]
	pox := func(addr string) string {
		return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>` + addr + `</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`
	}
	_, body := e.postRaw("/autodiscover/autodiscover.xml", "text/xml", pox(mb))
	root, err := parseXML(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for _, p := range root.child(nsPOXRespA, "Response").child(nsPOXRespA, "Account").all(nsPOXRespA, "Protocol") {
		urls[p.child(nsPOXRespA, "Type").text()] = p.child(nsPOXRespA, "EwsUrl").text()
	}
	if urls["EXPR"] != e.ts.URL+"/EWS/Exchange.asmx" || urls["EXCH"] != e.ts.URL+"/internal/EWS/Exchange.asmx" {
		t.Errorf("POX EwsUrl: got %v", urls)
	}
	_, body = e.postRaw("/autodiscover/autodiscover.xml", "text/xml", pox("ghost@contoso.onmicrosoft.com"))
	root, _ = parseXML(strings.NewReader(string(body)))
	if c := root.child(nsPOXResp, "Response").child(nsPOXResp, "Error").child(nsPOXResp, "ErrorCode").text(); c != "500" {
		t.Errorf("POX unknown user: got %s", body)
	}

	tests := []struct {
		query      string
		wantStatus int
		want       map[string]string
	}{
		{"?Protocol=EWS", 200, map[string]string{"Protocol": "EWS", "Url": e.ts.URL + "/EWS/Exchange.asmx"}},
		{"?Protocol=AutodiscoverV1", 200, map[string]string{"Protocol": "AutodiscoverV1", "Url": e.ts.URL + "/autodiscover/autodiscover.xml"}},
		{"?Protocol=Gopher", 400, map[string]string{"ErrorCode": "InvalidProtocol"}},
	}
	for _, tt := range tests {
		resp, err := e.client.Get(e.ts.URL + "/autodiscover/autodiscover.json/v1.0/" + mb + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status got %d, want %d", tt.query, resp.StatusCode, tt.wantStatus)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s got %q, want %q", tt.query, k, got[k], v)
			}
		}
	}
}
