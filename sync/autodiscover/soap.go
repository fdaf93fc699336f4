package autodiscover

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// Wire constants of SOAP Autodiscover, with the real http:// namespaces
// (the docs' https:// look-alikes are wrong; see ews-reference INDEX.md and
// sample 56, the one sample with the real ones).
const (
	nsAutodiscover        = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	actionGetUserSettings = nsAutodiscover + "/Autodiscover/GetUserSettings"
	// requestedServerVersion: GroupingInformation is an Exchange 2013
	// setting, and sample 44 asks for it with Exchange2013.
	requestedServerVersion = "Exchange2013"
)

// requestedSettings are the settings asked for.
var requestedSettings = []string{"ExternalEwsUrl", "InternalEwsUrl", "GroupingInformation"}

// soapEndpoint turns a configured server into the SOAP .svc URL (see
// endpointOf).
func soapEndpoint(raw string) (string, error) {
	return endpointOf(raw, "autodiscover.svc", "autodiscover.xml")
}

// buildGetUserSettings renders the GetUserSettings request (shape of
// samples 44/46/56).
func buildGetUserSettings(endpoint, user string) string {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:a="` + nsAutodiscover + `" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <a:RequestedServerVersion>` + requestedServerVersion + `</a:RequestedServerVersion>
    <wsa:Action>` + actionGetUserSettings + `</wsa:Action>
    <wsa:To>` + esc(endpoint) + `</wsa:To>
  </soap:Header>
  <soap:Body>
    <a:GetUserSettingsRequestMessage xmlns:a="` + nsAutodiscover + `">
      <a:Request>
        <a:Users>
          <a:User>
            <a:Mailbox>` + esc(user) + `</a:Mailbox>
          </a:User>
        </a:Users>
        <a:RequestedSettings>
`)
	for _, s := range requestedSettings {
		b.WriteString("          <a:Setting>" + s + "</a:Setting>\n")
	}
	b.WriteString(`        </a:RequestedSettings>
      </a:Request>
    </a:GetUserSettingsRequestMessage>
  </soap:Body>
</soap:Envelope>
`)
	return b.String()
}

// Reply types, matched by local name only (encoding/xml tags without a
// namespace match any namespace).
type soapEnvelope struct {
	XMLName xml.Name
	Body    struct {
		Fault *struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
			Detail struct {
				ErrorCode    string `xml:"ErrorCode"`
				ErrorMessage string `xml:"ErrorMessage"`
			} `xml:"detail"`
		} `xml:"Fault"`
		Message *struct {
			Response struct {
				ErrorCode     string         `xml:"ErrorCode"`
				ErrorMessage  string         `xml:"ErrorMessage"`
				UserResponses []userResponse `xml:"UserResponses>UserResponse"`
			} `xml:"Response"`
		} `xml:"GetUserSettingsResponseMessage"`
	} `xml:"Body"`
}

type userResponse struct {
	ErrorCode         string `xml:"ErrorCode"`
	ErrorMessage      string `xml:"ErrorMessage"`
	RedirectTarget    string `xml:"RedirectTarget"`
	UserSettingErrors []struct {
		ErrorCode   string `xml:"ErrorCode"`
		SettingName string `xml:"SettingName"`
	} `xml:"UserSettingErrors>UserSettingError"`
	UserSettings []struct {
		Name  string `xml:"Name"`
		Value string `xml:"Value"`
	} `xml:"UserSettings>UserSetting"`
}

// soapReply is a parsed GetUserSettings answer for one user.
type soapReply struct {
	code, message, redirectTarget string
	settings                      map[string]string
}

// parseGetUserSettings reads a GetUserSettings reply (or SOAP fault).
func parseGetUserSettings(body []byte) (soapReply, error) {
	var env soapEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return soapReply{}, fmt.Errorf("not a SOAP reply: %w", err)
	}
	if env.XMLName.Local != "Envelope" {
		return soapReply{}, fmt.Errorf("not a SOAP envelope: <%s>", env.XMLName.Local)
	}
	if f := env.Body.Fault; f != nil {
		code := strings.TrimSpace(f.Detail.ErrorCode)
		if code == "" {
			code = strings.TrimSpace(f.Code)
		}
		msg := strings.TrimSpace(f.String)
		if msg == "" {
			msg = strings.TrimSpace(f.Detail.ErrorMessage)
		}
		return soapReply{code: code, message: "SOAP fault: " + msg}, nil
	}
	m := env.Body.Message
	if m == nil {
		return soapReply{}, fmt.Errorf("no GetUserSettingsResponseMessage in the reply")
	}
	if c := strings.TrimSpace(m.Response.ErrorCode); c != "" && c != "NoError" {
		return soapReply{code: c, message: strings.TrimSpace(m.Response.ErrorMessage)}, nil
	}
	if len(m.Response.UserResponses) != 1 {
		return soapReply{}, fmt.Errorf("want one UserResponse, got %d", len(m.Response.UserResponses))
	}
	ur := m.Response.UserResponses[0]
	rep := soapReply{
		code:           strings.TrimSpace(ur.ErrorCode),
		message:        strings.TrimSpace(ur.ErrorMessage),
		redirectTarget: strings.TrimSpace(ur.RedirectTarget),
		settings:       map[string]string{},
	}
	for _, s := range ur.UserSettings {
		rep.settings[strings.TrimSpace(s.Name)] = strings.TrimSpace(s.Value)
	}
	return rep, nil
}

// soap runs GetUserSettings, following HTTP redirects, RedirectAddress and
// RedirectUrl under the package's rules.
func (r *run) soap(ctx context.Context) (Result, error) {
	endpoint, err := soapEndpoint(r.req.AutodiscoverURL)
	if err != nil {
		return Result{}, &Error{Op: MethodSOAP, URL: r.req.AutodiscoverURL, Err: err}
	}
	if _, err := r.checkTarget(MethodSOAP, "configuration", endpoint, true); err != nil {
		return Result{}, err
	}
	user := r.req.User
	visited := map[string]bool{}
	for {
		if err := r.visit(MethodSOAP, visited, endpoint, user); err != nil {
			return Result{}, err
		}
		h := http.Header{}
		h.Set("Content-Type", "text/xml; charset=utf-8")
		h.Set("Accept", "text/xml")
		h.Set("SOAPAction", `"`+actionGetUserSettings+`"`)
		h.Set("X-AnchorMailbox", user)
		resp, err := r.do(ctx, MethodSOAP, http.MethodPost, endpoint, buildGetUserSettings(endpoint, user), h)
		if err != nil {
			return Result{}, err
		}
		if resp.location != "" {
			if err := r.follow(MethodSOAP, "http", endpoint, resp.location, true); err != nil {
				return Result{}, err
			}
			endpoint = resp.location
			continue
		}
		rep, perr := parseGetUserSettings(resp.body)
		if resp.status != http.StatusOK {
			code, msg := "", ""
			if perr == nil {
				code, msg = rep.code, rep.message
			}
			return Result{}, httpError(MethodSOAP, endpoint, resp, code, msg)
		}
		if perr != nil {
			return Result{}, &Error{Op: MethodSOAP, URL: endpoint, HTTPStatus: resp.status, Err: perr}
		}
		switch rep.code {
		case "NoError", "":
			res, err := r.settingsResult(MethodSOAP, endpoint, resp.status, user,
				rep.settings["ExternalEwsUrl"], rep.settings["InternalEwsUrl"],
				"autodiscover returned neither ExternalEwsUrl nor InternalEwsUrl")
			if err != nil {
				return Result{}, err
			}
			res.GroupingInformation = rep.settings["GroupingInformation"]
			return res, nil
		case "RedirectAddress":
			if err := r.redirectUser(MethodSOAP, "RedirectAddress", endpoint, user, rep.redirectTarget); err != nil {
				return Result{}, err
			}
			user = rep.redirectTarget
		case "RedirectUrl":
			if endpoint, err = r.redirectURL(MethodSOAP, "RedirectUrl", endpoint, rep.redirectTarget, soapEndpoint); err != nil {
				return Result{}, err
			}
		default:
			return Result{}, &Error{Op: MethodSOAP, URL: endpoint, HTTPStatus: resp.status, Code: rep.code, Message: rep.message}
		}
	}
}
