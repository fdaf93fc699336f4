package autodiscover

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/exocal/exocal/sync/auth"
	"golang.org/x/oauth2"
)

const testToken = "eyJ0eXAiOiJKV1QifQ.eyJyb2xlcyI6W119.test-bearer-token"

type staticSource struct{}

func (staticSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: testToken, TokenType: "Bearer"}, nil
}

// soapRequest is what the test server reads from a GetUserSettings
// request, with namespace-qualified names: the client must send the real
// namespaces.
type soapRequest struct {
	mailbox, to, action, version, bodyNS string
	settings                             []string
}

func parseSOAPRequestForTest(b []byte) (soapRequest, error) {
	var env struct {
		XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
		Header  struct {
			Version string `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover RequestedServerVersion"`
			Action  string `xml:"http://www.w3.org/2005/08/addressing Action"`
			To      string `xml:"http://www.w3.org/2005/08/addressing To"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
		Body struct {
			Msg struct {
				XMLName xml.Name `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover GetUserSettingsRequestMessage"`
				Request struct {
					Users struct {
						User []struct {
							Mailbox string `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover Mailbox"`
						} `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover User"`
					} `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover Users"`
					Settings struct {
						Setting []string `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover Setting"`
					} `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover RequestedSettings"`
				} `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover Request"`
			}
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(b, &env); err != nil {
		return soapRequest{}, err
	}
	if len(env.Body.Msg.Request.Users.User) != 1 {
		return soapRequest{}, fmt.Errorf("want one user, got %d", len(env.Body.Msg.Request.Users.User))
	}
	return soapRequest{
		mailbox: env.Body.Msg.Request.Users.User[0].Mailbox, to: env.Header.To, action: env.Header.Action,
		version: env.Header.Version, bodyNS: env.Body.Msg.XMLName.Space, settings: env.Body.Msg.Request.Settings.Setting,
	}, nil
}

// seen is one request a fake server received.
type seen struct {
	method, path, query, auth, user string
}

// fakeServer is a loopback autodiscover/V2/POX server replaying fixtures.
type fakeServer struct {
	*httptest.Server
	t     *testing.T
	mu    sync.Mutex
	reqs  []seen
	reply func(s *fakeServer, r *http.Request, user string) (int, http.Header, string)
}

func newFake(t *testing.T, reply func(s *fakeServer, r *http.Request, user string) (int, http.Header, string)) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	user := ""
	switch {
	case strings.HasSuffix(strings.ToLower(r.URL.Path), ".svc"):
		req, err := parseSOAPRequestForTest(body)
		if err != nil {
			f.t.Errorf("fake server: bad SOAP request: %v\n%s", err, body)
			http.Error(w, "bad request", 400)
			return
		}
		if req.action != "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings" ||
			req.to != "http://"+r.Host+r.URL.Path || !contains(req.settings, "ExternalEwsUrl") || !contains(req.settings, "GroupingInformation") {
			f.t.Errorf("fake server: unexpected request %+v", req)
		}
		user = req.mailbox
	case strings.HasSuffix(strings.ToLower(r.URL.Path), ".xml"):
		var a struct {
			XMLName xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006 Autodiscover"`
			Email   string   `xml:"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006 Request>EMailAddress"`
		}
		if err := xml.Unmarshal(body, &a); err != nil {
			f.t.Errorf("fake server: bad POX request: %v\n%s", err, body)
		}
		user = a.Email
	case strings.Contains(r.URL.Path, "/autodiscover.json/v1.0/"):
		user = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), user})
	f.mu.Unlock()
	status, h, out := f.reply(f, r, user)
	for k, v := range h {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (f *fakeServer) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// soapOK renders a NoError GetUserSettings reply in the shape of sample 47
// (real namespaces) with the given settings.
func soapOK(settings map[string]string) string {
	var b strings.Builder
	for _, k := range []string{"InternalEwsUrl", "ExternalEwsUrl", "GroupingInformation"} {
		if v, ok := settings[k]; ok {
			fmt.Fprintf(&b, `<UserSetting i:type="StringSetting"><Name>%s</Name><Value>%s</Value></UserSetting>`, k, v)
		}
	}
	return soapUserResponse("NoError", "No error.", "", b.String())
}

func soapUserResponse(code, msg, target, settings string) string {
	rt := `<RedirectTarget i:nil="true" />`
	if target != "" {
		rt = "<RedirectTarget>" + target + "</RedirectTarget>"
	}
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing">
  <s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action></s:Header>
  <s:Body>
    <GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover">
      <Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
        <ErrorCode>NoError</ErrorCode><ErrorMessage />
        <UserResponses><UserResponse>
          <ErrorCode>` + code + `</ErrorCode><ErrorMessage>` + msg + `</ErrorMessage>` + rt + `
          <UserSettingErrors /><UserSettings>` + settings + `</UserSettings>
        </UserResponse></UserResponses>
      </Response>
    </GetUserSettingsResponseMessage>
  </s:Body>
</s:Envelope>`
}

// clientFor is an authenticating client trusting the given URLs (and the
// global cloud's Exchange hosts), as the engine builds it.
func clientFor(urls ...string) (*http.Client, func(string) bool) {
	global, _ := auth.LookupCloud(auth.CloudGlobal)
	allowed := auth.AllowHosts(global, urls...)
	return auth.NewClient(nil, staticSource{}, allowed), allowed
}
