package autodiscover

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample reads a verbatim docs sample from testdata.
func sample(t testing.TB, prefix string) []byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", prefix+"-*.xml"))
	if err != nil || len(m) != 1 {
		t.Fatalf("sample %s: %v %v", prefix, m, err)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// realNamespaces undoes the docs' https:// look-alike namespaces and closes
// sample 45's unterminated end tag, giving what a real server sends.
func realNamespaces(b []byte) []byte {
	s := string(b)
	s = strings.ReplaceAll(s, "https://schemas.microsoft.com/exchange/", "http://schemas.microsoft.com/exchange/")
	s = strings.ReplaceAll(s, "https://schemas.xmlsoap.org/", "http://schemas.xmlsoap.org/")
	if t := strings.TrimSpace(s); strings.HasSuffix(t, "</s:Envelope") {
		s = t + ">\n"
	}
	return []byte(s)
}

func TestParseGetUserSettingsSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sample       string
		lookalikeOK  bool // the verbatim sample is well-formed
		wantCode     string
		wantRedirect string
		wantSettings map[string]string
	}{
		{"45", false, "NoError", "", map[string]string{"ExternalEwsUrl": "https://mail.contoso.com/EWS/Exchange.asmx", "GroupingInformation": "CONTOSO-1", "CasVersion": "15.01.0160.004"}},
		{"47", true, "NoError", "", map[string]string{"InternalEwsUrl": "https://server.Contoso.com/ews/exchange.asmx", "ExternalEwsUrl": "https://server.Contoso.com/ews/exchange.asmx"}},
		{"48", true, "RedirectAddress", "User1@mail.Contoso.com", map[string]string{}},
		{"50", true, "NoError", "", map[string]string{"CasVersion": "14.00.0478.000", "ExternalEwsUrl": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.sample, func(t *testing.T) {
			t.Parallel()
			variants := map[string][]byte{"real": realNamespaces(sample(t, tc.sample))}
			if tc.lookalikeOK {
				variants["lookalike"] = sample(t, tc.sample)
			} else if _, err := parseGetUserSettings(sample(t, tc.sample)); err == nil {
				t.Errorf("verbatim sample %s: got no error, want a parse error (it is not well-formed)", tc.sample)
			}
			for name, body := range variants {
				rep, err := parseGetUserSettings(body)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if rep.code != tc.wantCode || rep.redirectTarget != tc.wantRedirect {
					t.Errorf("%s: got code %q redirect %q, want %q %q", name, rep.code, rep.redirectTarget, tc.wantCode, tc.wantRedirect)
				}
				for k, v := range tc.wantSettings {
					if rep.settings[k] != v {
						t.Errorf("%s: setting %s: got %q, want %q", name, k, rep.settings[k], v)
					}
				}
			}
		})
	}
}

func TestParsePOXSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sample                     string
		wantAction, wantRedirect   string
		wantInternal, wantExternal string
		wantErr                    string
	}{
		{"52", "settings", "", "https://mail.contoso.com/EWS/Exchange.asmx", "", ""},
		{"53", "settings", "", "https://mail.contoso.com/ews/exchange.asmx", "https://mail.contoso.com/ews/exchange.asmx", ""},
		{"54", "", "", "", "", "600"},
		{"55", "redirectAddr", "elvin@mail.contoso.com", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.sample, func(t *testing.T) {
			t.Parallel()
			for name, body := range map[string][]byte{"lookalike": sample(t, tc.sample), "real": realNamespaces(sample(t, tc.sample))} {
				rep, err := parsePOX(body)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if rep.action != tc.wantAction || rep.redirect != tc.wantRedirect || rep.internal != tc.wantInternal ||
					rep.external != tc.wantExternal || rep.errCode != tc.wantErr {
					t.Errorf("%s: got %+v, want action %q redirect %q internal %q external %q error %q",
						name, rep, tc.wantAction, tc.wantRedirect, tc.wantInternal, tc.wantExternal, tc.wantErr)
				}
			}
		})
	}
}

func TestBuildGetUserSettingsEscapes(t *testing.T) {
	t.Parallel()
	body := buildGetUserSettings("https://a.example/autodiscover/autodiscover.svc?x=1&y=2", `o'brien&<x>@contoso.com`)
	got, err := parseSOAPRequestForTest([]byte(body))
	if err != nil {
		t.Fatalf("request is not well-formed: %v", err)
	}
	if got.mailbox != `o'brien&<x>@contoso.com` || got.to != "https://a.example/autodiscover/autodiscover.svc?x=1&y=2" {
		t.Errorf("round trip: got %+v", got)
	}
	if got.action != "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings" ||
		got.version != "Exchange2013" || got.bodyNS != "http://schemas.microsoft.com/exchange/2010/Autodiscover" {
		t.Errorf("headers: got %+v, want the real Autodiscover namespace and action", got)
	}
}

func FuzzParseGetUserSettings(f *testing.F) {
	for _, s := range []string{"45", "47", "48", "50"} {
		f.Add(sample(f, s))
		f.Add(realNamespaces(sample(f, s)))
	}
	f.Add([]byte(`<Envelope><Body><Fault><faultcode>a:ErrorSchemaValidation</faultcode></Fault></Body></Envelope>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := parseGetUserSettings(b)
		if err == nil && rep.code == "NoError" && rep.settings == nil {
			t.Errorf("NoError reply without a settings map")
		}
		_, _ = parsePOX(bytes.Clone(b))
	})
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, soap, pox string
	}{
		{"https://autodiscover.contoso.com", "https://autodiscover.contoso.com/autodiscover/autodiscover.svc", "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"},
		{" https://ad.contoso.com/ ", "https://ad.contoso.com/autodiscover/autodiscover.svc", "https://ad.contoso.com/autodiscover/autodiscover.xml"},
		{"https://ad.contoso.com/AutoDiscover/AutoDiscover.xml", "https://ad.contoso.com/AutoDiscover/autodiscover.svc", "https://ad.contoso.com/AutoDiscover/AutoDiscover.xml"},
		{"https://ad.contoso.com/autodiscover/autodiscover.svc", "https://ad.contoso.com/autodiscover/autodiscover.svc", "https://ad.contoso.com/autodiscover/autodiscover.xml"},
		{"https://ad.contoso.com/custom/path", "https://ad.contoso.com/custom/path", "https://ad.contoso.com/custom/path"},
	}
	for _, tt := range tests {
		if got, err := soapEndpoint(tt.raw); err != nil || got != tt.soap {
			t.Errorf("soapEndpoint(%q): got %q, %v, want %q", tt.raw, got, err, tt.soap)
		}
		if got, err := poxEndpoint(tt.raw); err != nil || got != tt.pox {
			t.Errorf("poxEndpoint(%q): got %q, %v, want %q", tt.raw, got, err, tt.pox)
		}
	}
	if _, err := soapEndpoint("http://[::1"); err == nil {
		t.Error("soapEndpoint of a bad URL: got no error, want one")
	}
}
