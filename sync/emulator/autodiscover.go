package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Autodiscover: SOAP GetUserSettings (samples 44-50, 56; namespaces as in
// 56, the one sample with the real http:// ones), POX (samples 51-55, 59)
// and Autodiscover V2 JSON.

func baseOf(r *http.Request) string { return "http://" + r.Host }

// soapUserSettings are the settings the emulator knows, per mailbox.
func (s *Server) userSettings(r *http.Request, mailbox string) map[string]string {
	base := baseOf(r)
	return map[string]string{
		"UserDisplayName":         s.displayName(mailbox),
		"UserDN":                  "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + strings.ReplaceAll(mailbox, "@", "."),
		"UserDeploymentId":        s.guidFrom("deployment:" + s.opts.TenantID),
		"AutoDiscoverSMTPAddress": mailbox,
		"CasVersion":              "15.20.8769.21",
		"EwsSupportedSchemas":     "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2015, Exchange2016",
		"ExternalEwsUrl":          base + ewsPath,
		"InternalEwsUrl":          base + internalEWSPath,
		"GroupingInformation":     groupingOf(mailbox),
		"ExternalMailboxServer":   "outlook.office365.com",
		"InternalMailboxServer":   backendOf(mailbox),
		"MailboxDN":               "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=" + backendOf(mailbox) + "/cn=Microsoft Private MDB",
	}
}

func (s *Server) displayName(mailbox string) string {
	local, _, _ := strings.Cut(mailbox, "@")
	return local
}

func (s *Server) handleAutodiscoverSOAP(w http.ResponseWriter, r *http.Request) {
	if s.hasMode(ModeAutodiscover401) {
		// Security defaults: no legacy/SOAP autodiscover for this tenant.
		writeUnauthorized(w, &tokenProblem{})
		return
	}
	if r.Header.Get("Authorization") != "" {
		if p := s.checkBearer(r); p != nil && p.diag != "" && !strings.HasPrefix(p.diag, "2000008") {
			writeUnauthorized(w, p)
			return
		}
	}
	if r.Method != http.MethodPost {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	env, err := parseXML(io.LimitReader(r.Body, 1<<20))
	var req *node
	if err == nil {
		req = env.child("", "Body").child(nsAutod, "GetUserSettingsRequestMessage").child(nsAutod, "Request")
	}
	if req == nil {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var b xw
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<s:Envelope xmlns:s="` + nsSOAP + `" xmlns:a="` + nsWSA + `"><s:Header>`)
	b.WriteString(`<a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action>`)
	b.WriteString(`<h:ServerVersionInfo xmlns:h="` + nsAutod + `" xmlns:i="` + nsXSI + `"><h:MajorVersion>15</h:MajorVersion><h:MinorVersion>20</h:MinorVersion><h:MajorBuildNumber>8769</h:MajorBuildNumber><h:MinorBuildNumber>21</h:MinorBuildNumber><h:Version>Exchange2015</h:Version></h:ServerVersionInfo>`)
	b.WriteString(`</s:Header><s:Body>`)
	b.WriteString(`<GetUserSettingsResponseMessage xmlns="` + nsAutod + `"><Response xmlns:i="` + nsXSI + `">`)
	b.elem("ErrorCode", "NoError")
	b.WriteString("<ErrorMessage/>")
	b.open("UserResponses")
	var requested []string
	for _, st := range req.child(nsAutod, "RequestedSettings").all(nsAutod, "Setting") {
		requested = append(requested, st.text())
	}
	for _, u := range req.child(nsAutod, "Users").all(nsAutod, "User") {
		addr := u.child(nsAutod, "Mailbox").text()
		b.open("UserResponse")
		mb, ok := s.mailbox(addr)
		if !ok {
			b.elem("ErrorCode", "InvalidUser")
			b.elem("ErrorMessage", fmt.Sprintf("Invalid user: '%s'", addr))
			b.WriteString(`<RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings/>`)
			b.close("UserResponse")
			continue
		}
		b.elem("ErrorCode", "NoError")
		b.elem("ErrorMessage", "No error.")
		b.WriteString(`<RedirectTarget i:nil="true"/>`)
		known := s.userSettings(r, mb)
		var errs, oks []string
		for _, name := range requested {
			if _, ok := known[name]; ok {
				oks = append(oks, name)
			} else {
				errs = append(errs, name)
			}
		}
		if len(errs) == 0 {
			b.WriteString("<UserSettingErrors/>")
		} else {
			b.open("UserSettingErrors")
			for _, name := range errs {
				b.open("UserSettingError")
				b.elem("ErrorCode", "InvalidSetting")
				b.elem("ErrorMessage", "The requested setting is invalid.")
				b.elem("SettingName", name)
				b.close("UserSettingError")
			}
			b.close("UserSettingErrors")
		}
		b.open("UserSettings")
		for _, name := range oks {
			b.open("UserSetting", "i:type", "StringSetting")
			b.elem("Name", name)
			b.elem("Value", known[name])
			b.close("UserSetting")
		}
		b.close("UserSettings")
		b.close("UserResponse")
	}
	b.close("UserResponses")
	b.WriteString(`</Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Server) handleAutodiscoverPOX(w http.ResponseWriter, r *http.Request) {
	doc, err := parseXML(io.LimitReader(r.Body, 1<<20))
	addr := ""
	if err == nil {
		addr = doc.child(nsPOXReq, "Request").child(nsPOXReq, "EMailAddress").text()
	}
	var b xw
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.open("Autodiscover", "xmlns", nsPOXResp)
	if addr == "" {
		s.writePOXError(w, &b, "600", "Invalid Request")
		return
	}
	mb, ok := s.mailbox(addr)
	if !ok {
		s.writePOXError(w, &b, "500", "The email address can't be found.")
		return
	}
	set := s.userSettings(r, mb)
	b.open("Response", "xmlns", nsPOXRespA)
	b.open("User")
	b.elem("DisplayName", set["UserDisplayName"])
	b.elem("LegacyDN", set["UserDN"])
	b.elem("AutoDiscoverSMTPAddress", mb)
	b.elem("DeploymentId", set["UserDeploymentId"])
	b.close("User")
	b.open("Account")
	b.elem("AccountType", "email")
	b.elem("Action", "settings")
	b.elem("MicrosoftOnline", "True")
	b.open("Protocol")
	b.elem("Type", "EXCH")
	b.elem("Server", backendOf(mb))
	poxServiceURLs(&b, set["InternalEwsUrl"])
	b.close("Protocol")
	b.open("Protocol")
	b.elem("Type", "EXPR")
	b.elem("Server", "outlook.office365.com")
	b.elem("SSL", "On")
	b.elem("AuthPackage", "Basic")
	poxServiceURLs(&b, set["ExternalEwsUrl"])
	b.close("Protocol")
	b.close("Account")
	b.close("Response")
	b.close("Autodiscover")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b.Bytes())
}

// poxServiceURLs writes a POX Protocol's service URLs (elements of samples
// 52 and 53), all one EWS URL in Exchange Online.
func poxServiceURLs(b *xw, ews string) {
	for _, name := range []string{"ASUrl", "EwsUrl", "EmwsUrl", "OOFUrl"} {
		b.elem(name, ews)
	}
}

// writePOXError finishes b, opened at <Autodiscover>, with the POX error
// form of sample 54 and sends it.
func (s *Server) writePOXError(w http.ResponseWriter, b *xw, code, message string) {
	b.open("Response", "xmlns", nsPOXResp)
	b.open("Error", "Time", s.now().UTC().Format("15:04:05.0000000"), "Id", fmt.Sprint(hashString(s.guid())))
	b.elem("ErrorCode", code)
	b.elem("Message", message)
	b.WriteString("<DebugData/>")
	b.close("Error")
	b.close("Response")
	b.close("Autodiscover")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b.Bytes())
}

// handleAutodiscoverV2 serves /autodiscover/autodiscover.json/v1.0/{email}?Protocol=…
func (s *Server) handleAutodiscoverV2(w http.ResponseWriter, r *http.Request, email string) {
	email, _ = url.PathUnescape(email)
	proto := ""
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "Protocol") && len(v) > 0 {
			proto = v[0]
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	base := baseOf(r)
	var out map[string]string
	switch strings.ToLower(proto) {
	case "ews":
		out = map[string]string{"Protocol": "EWS", "Url": base + ewsPath}
	case "autodiscoverv1":
		out = map[string]string{"Protocol": "AutodiscoverV1", "Url": base + "/autodiscover/autodiscover.xml"}
	default:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{
			"ErrorCode":    "InvalidProtocol",
			"ErrorMessage": fmt.Sprintf("The given protocol value '%s' is invalid. Supported values are 'ActiveSync,AutodiscoverV1,Ews,Rest,Substrate,SubstrateSearchService,SubstrateNotificationService,OutlookMeetingScheduler,OutlookPay,Actions,Connectors,ConnectorsProcessors,ConnectorsWebhook,NotesClient,OwaPoweredExperience,ToDo,Weve,OutlookLocationsService,OutlookCloudSettingsService,OutlookTailoredExperiences,OwaPoweredExperienceV2,Speedway,SpeechAndLanguagePersonalization,SubstrateSignalService,CompliancePolicyService'", proto),
		})
		return
	}
	_ = email // V2 answers for any address in Exchange Online
	json.NewEncoder(w).Encode(out)
}
