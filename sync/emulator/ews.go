package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// ewsReq is one parsed EWS request.
type ewsReq struct {
	r        *http.Request
	header   *node // soap:Header (may be nil)
	op       *node // the operation element in soap:Body
	mailbox  string
	version  string
	anchor   string
	internal bool
}

// exchangeVersions is types.xsd ExchangeVersionType.
var exchangeVersions = []string{
	"Exchange2007", "Exchange2007_SP1", "Exchange2009", "Exchange2010", "Exchange2010_SP1",
	"Exchange2010_SP2", "Exchange2012", "Exchange2013", "Exchange2013_SP1", "Exchange2015",
	"Exchange2016", "V2015_10_05", "V2016_01_06", "V2016_04_13", "V2016_07_13", "V2016_10_10",
	"V2017_01_07", "V2017_04_14", "V2017_07_11", "V2017_10_09", "V2018_01_08",
}

// ewsOps are the operations the emulator implements.
var ewsOps = map[string]func(*Server, http.ResponseWriter, *ewsReq, Faults, bool){
	"GetFolder":          (*Server).opGetFolder,
	"SyncFolderItems":    (*Server).opSyncFolderItems,
	"GetItem":            (*Server).opGetItem,
	"FindItem":           (*Server).opFindItem,
	"Subscribe":          (*Server).opSubscribe,
	"GetStreamingEvents": (*Server).opGetStreamingEvents,
	"Unsubscribe":        (*Server).opUnsubscribe,
	"ConvertId":          (*Server).opConvertId,
}

// policyBlockedReason is the X-EWS-Policy-Reason when the app is not in
// EwsAllowedAppIDs. Microsoft's exact wording was not found; inferred.
func policyBlockedReason(appID string) string {
	return "EWS access for application " + appID + " is blocked by policy (the app is not in EwsAllowedAppIDs)"
}

// handleEWS serves /EWS/Exchange.asmx and the internal EWS URL.
func (s *Server) handleEWS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return
	}
	env, perr := parseXML(bytes.NewReader(raw))
	op := ""
	var body, header *node
	if perr == nil && env.Local == "Envelope" && (env.Space == nsSOAP || env.Space == nsSOAP12) {
		header = env.child(env.Space, "Header")
		body = env.child(env.Space, "Body")
		if body != nil && len(body.Children) > 0 {
			op = body.Children[0].Local
		}
	}
	f, hit := s.pickFault(op)
	if hit && s.frontDoorFault(w, f) {
		return
	}
	if p := s.checkBearer(r); p != nil {
		writeUnauthorized(w, p)
		return
	}
	if s.hasMode(ModeEWSDisabled) {
		w.Header().Set("X-EWS-Policy-Reason", "EWS is disabled for this user or tenant")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if s.hasMode(ModeNotAllowlisted) {
		w.Header().Set("X-EWS-Policy-Reason", policyBlockedReason(s.opts.ClientID))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if perr != nil || body == nil || len(body.Children) != 1 {
		s.writeFault(w, r, "ErrorSchemaValidation", "The request failed schema validation: the request is not a SOAP envelope with one operation in its body.", nil, f, hit)
		return
	}
	req := &ewsReq{r: r, header: header, op: body.Children[0], internal: strings.EqualFold(r.URL.Path, internalEWSPath)}
	if req.op.Space != nsMessages {
		s.writeFault(w, r, "ErrorSchemaValidation", fmt.Sprintf("The request failed schema validation: The element '%s' in namespace '%s' is not an EWS operation.", req.op.Local, req.op.Space), nil, f, hit)
		return
	}
	// RequestServerVersion: required and one of ExchangeVersionType.
	rsv := header.child(nsTypes, "RequestServerVersion")
	req.version = rsv.attr("Version")
	if rsv == nil || !slices.Contains(exchangeVersions, req.version) {
		s.writeFault(w, r, "ErrorInvalidServerVersion", "The specified server version is invalid.", nil, f, hit)
		return
	}
	// ExchangeImpersonation: required with app-only tokens.
	imp := header.child(nsTypes, "ExchangeImpersonation")
	if imp == nil {
		s.writeFault(w, r, "ErrorInvalidExchangeImpersonationHeaderData", "ExchangeImpersonation SOAP header must be present for this type of OAuth token.", nil, f, hit)
		return
	}
	sid := imp.child(nsTypes, "ConnectingSID")
	addr := ""
	for _, k := range []string{"PrimarySmtpAddress", "SmtpAddress", "PrincipalName"} {
		if v := sid.child(nsTypes, k).text(); v != "" {
			addr = v
			break
		}
	}
	if addr == "" {
		if sid.child(nsTypes, "SID").text() != "" {
			// SIDs are not resolvable here; the emulator has none.
			s.writeFault(w, r, "ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.", nil, f, hit)
			return
		}
		s.writeFault(w, r, "ErrorInvalidExchangeImpersonationHeaderData", "The impersonation header data is invalid: the ConnectingSID has no PrimarySmtpAddress, SmtpAddress, PrincipalName or SID.", nil, f, hit)
		return
	}
	mb, ok := s.mailbox(addr)
	if !ok {
		_, domain, _ := strings.Cut(addr, "@")
		if !strings.EqualFold(domain, s.t.Domain()) {
			s.writeFault(w, r, "ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.", nil, f, hit)
			return
		}
		s.writeFault(w, r, "ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.", [][2]string{{"SmtpAddress", addr}}, f, hit)
		return
	}
	if s.mailboxRefusal(w, r, mb, f, hit) {
		return
	}
	req.mailbox = mb
	req.anchor = r.Header.Get("X-AnchorMailbox")
	if req.anchor == "" {
		// Required for app-only impersonation; Exchange Online still serves
		// the request, slower or misrouted. Counted so tests can insist.
		s.stats.missingAnchor.Add(1)
	}
	if hit && f.Kind == FaultServerBusy {
		s.writeServerBusy(w, r, f)
		return
	}
	h, ok := ewsOps[req.op.Local]
	if !ok {
		s.writeFault(w, r, "ErrorInvalidRequest", fmt.Sprintf("The request is invalid: the emulator does not implement %s.", req.op.Local), nil, f, hit)
		return
	}
	h(s, w, req, f, hit)
}

// mailbox returns the canonical address of a mailbox (case-insensitive).
func (s *Server) mailbox(addr string) (string, bool) {
	addr = strings.TrimSpace(addr)
	if !s.t.HasMailbox(addr) {
		return "", false
	}
	for _, m := range s.t.Mailboxes() {
		if strings.EqualFold(m, addr) {
			return m, true
		}
	}
	return addr, true
}

// --- envelopes --------------------------------------------------------------

// serverVersionInfo is what Exchange Online sends (15.20, "V2018_01_08").
const serverVersionInfo = `<h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="8769" MinorBuildNumber="21" Version="V2018_01_08" xmlns:h="` + nsTypes + `" xmlns="` + nsTypes + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="` + nsXSI + `"/>`

// envelope wraps a response element (written by body) as Exchange does in
// the samples: s: envelope, h:ServerVersionInfo, m:/t: on the response.
func envelope(decl bool, name string, body func(w *xw)) []byte {
	var w xw
	if decl {
		w.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	}
	w.WriteString(`<s:Envelope xmlns:s="` + nsSOAP + `"><s:Header>` + serverVersionInfo + `</s:Header>`)
	w.WriteString(`<s:Body xmlns:xsi="` + nsXSI + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`)
	w.open("m:"+name, "xmlns:m", nsMessages, "xmlns:t", nsTypes)
	w.open("m:ResponseMessages")
	body(&w)
	w.close("m:ResponseMessages")
	w.close("m:" + name)
	w.WriteString(`</s:Body></s:Envelope>`)
	return w.Bytes()
}

// okMessage opens a Success response message.
func okMessage(w *xw, name string) {
	w.open("m:"+name, "ResponseClass", "Success")
	w.elem("m:ResponseCode", "NoError")
}

// errMessage writes the head of an Error response message (the caller
// closes it, after any operation-specific elements).
func errMessage(w *xw, name, code, text string) {
	w.open("m:"+name, "ResponseClass", "Error")
	w.elem("m:MessageText", text)
	w.elem("m:ResponseCode", code)
	w.elem("m:DescriptiveLinkKey", "0")
}

// writeXML sends a 200 text/xml answer (with the request's fault applied).
func writeXML(w http.ResponseWriter, r *http.Request, body []byte, f Faults, hit bool) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	writeBody(w, r, http.StatusOK, body, f, hit)
}

// writeFault sends an HTTP 500 SOAP fault with an EWS ResponseCode, the
// shape EWS uses for request-level errors (see serverbusy-fault.xml in
// ../shared/ews-schema/examples).
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, code, msg string, values [][2]string, f Faults, hit bool) {
	var b xw
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="` + nsSOAP + `"><s:Body><s:Fault>`)
	b.WriteString(`<faultcode xmlns:a="` + nsTypes + `">a:` + code + `</faultcode>`)
	b.WriteString(`<faultstring xml:lang="en-US">` + esc(msg) + `</faultstring><detail>`)
	b.WriteString(`<e:ResponseCode xmlns:e="` + nsErrors + `">` + code + `</e:ResponseCode>`)
	b.WriteString(`<e:Message xmlns:e="` + nsErrors + `">` + esc(msg) + `</e:Message>`)
	if len(values) > 0 {
		b.WriteString(`<t:MessageXml xmlns:t="` + nsTypes + `">`)
		for _, v := range values {
			b.WriteString(`<t:Value Name="` + escAttr(v[0]) + `">` + esc(v[1]) + `</t:Value>`)
		}
		b.WriteString(`</t:MessageXml>`)
	}
	b.WriteString(`</detail></s:Fault></s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	writeBody(w, r, http.StatusInternalServerError, b.Bytes(), f, false)
}

// writeServerBusy sends the throttling fault with BackOffMilliseconds.
func (s *Server) writeServerBusy(w http.ResponseWriter, r *http.Request, f Faults) {
	ms := f.BackOff.Milliseconds()
	if ms <= 0 {
		ms = 2000
	}
	s.writeFault(w, r, "ErrorServerBusy", "The server cannot service this request right now. Try again later.",
		[][2]string{{"BackOffMilliseconds", fmt.Sprint(ms)}}, f, false)
}

// --- GetFolder ----------------------------------------------------------------

// calendarFolderID is the mailbox's calendar folder id (stable, opaque).
func (s *Server) calendarFolderID(mailbox string) string {
	return opaqueID("folder", mailbox, "calendar")
}

// opaqueID builds an Exchange-looking base64 id from parts.
func opaqueID(parts ...string) string {
	return b64std.EncodeToString([]byte("AAMk" + strings.Join(parts, "\x00")))
}

// folderTarget resolves a DistinguishedFolderId/FolderId to the mailbox's
// calendar. ok is false for anything else.
func (s *Server) folderTarget(req *ewsReq, n *node) (mailbox string, ok bool) {
	if n == nil {
		return "", false
	}
	switch n.Local {
	case "DistinguishedFolderId":
		mb := req.mailbox
		if m := n.child(nsTypes, "Mailbox"); m != nil {
			if a := m.child(nsTypes, "EmailAddress").text(); a != "" {
				c, found := s.mailbox(a)
				if !found {
					return "", false
				}
				mb = c
			}
		}
		return mb, n.attr("Id") == "calendar"
	case "FolderId":
		for _, m := range s.t.Mailboxes() {
			if n.attr("Id") == s.calendarFolderID(m) {
				return m, true
			}
		}
	}
	return "", false
}

func (s *Server) opGetFolder(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	ids := req.op.child(nsMessages, "FolderIds")
	if ids == nil || len(ids.Children) == 0 {
		s.writeFault(w, req.r, "ErrorSchemaValidation", "The request failed schema validation: FolderIds is missing.", nil, f, hit)
		return
	}
	shape := req.op.path(nsMessages, "FolderShape").child(nsTypes, "BaseShape").text()
	body := envelope(true, "GetFolderResponse", func(w *xw) {
		for _, id := range ids.Children {
			mb, ok := s.folderTarget(req, id)
			if ok && s.outsideScope(mb) {
				errMessage(w, "GetFolderResponseMessage", "ErrorAccessDenied", accessDeniedText)
				w.close("m:GetFolderResponseMessage")
				continue
			}
			if !ok {
				if id.Local == "DistinguishedFolderId" {
					// Other well-known folders exist in a real mailbox, but
					// this tenant only models calendars.
					s.writeGenericFolder(w, req, id.attr("Id"), shape)
					continue
				}
				errMessage(w, "GetFolderResponseMessage", "ErrorFolderNotFound", "The specified folder could not be found in the store.")
				w.close("m:GetFolderResponseMessage")
				continue
			}
			okMessage(w, "GetFolderResponseMessage")
			w.open("m:Folders")
			w.open("t:CalendarFolder")
			w.empty("t:FolderId", "Id", s.calendarFolderID(mb), "ChangeKey", "AgAAABYAAAA=")
			if shape != "IdOnly" {
				w.empty("t:ParentFolderId", "Id", opaqueID("folder", mb, "msgfolderroot"), "ChangeKey", "AQAAAA==")
				w.elem("t:FolderClass", "IPF.Appointment")
				w.elem("t:DisplayName", "Calendar")
				w.elem("t:TotalCount", fmt.Sprint(len(s.t.Items(mb))))
				w.elem("t:ChildFolderCount", "0")
			}
			w.close("t:CalendarFolder")
			w.close("m:Folders")
			w.close("m:GetFolderResponseMessage")
		}
	})
	writeXML(w, req.r, body, f, hit)
}

// writeGenericFolder answers GetFolder for a well-known non-calendar folder
// (exchangelib asks for msgfolderroot/root before it finds the calendar).
func (s *Server) writeGenericFolder(w *xw, req *ewsReq, name, shape string) {
	known := map[string]string{"root": "", "msgfolderroot": "Top of Information Store", "inbox": "Inbox"}
	display, ok := known[name]
	if !ok {
		errMessage(w, "GetFolderResponseMessage", "ErrorFolderNotFound", "The specified folder could not be found in the store.")
		w.close("m:GetFolderResponseMessage")
		return
	}
	okMessage(w, "GetFolderResponseMessage")
	w.open("m:Folders")
	w.open("t:Folder")
	w.empty("t:FolderId", "Id", opaqueID("folder", req.mailbox, name), "ChangeKey", "AQAAAA==")
	if shape != "IdOnly" {
		if name != "root" {
			w.empty("t:ParentFolderId", "Id", opaqueID("folder", req.mailbox, "root"), "ChangeKey", "AQAAAA==")
		}
		w.elem("t:FolderClass", "IPF.Note")
		w.elem("t:DisplayName", display)
		w.elem("t:TotalCount", "0")
		w.elem("t:ChildFolderCount", "0")
	}
	w.close("t:Folder")
	w.close("m:Folders")
	w.close("m:GetFolderResponseMessage")
}

// opConvertId answers the one ConvertId exchangelib sends to learn the
// server version: every id is malformed, but the header says the version.
func (s *Server) opConvertId(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	ids := req.op.child(nsMessages, "SourceIds")
	n := max(1, len(ids.Children))
	body := envelope(true, "ConvertIdResponse", func(w *xw) {
		for range n {
			errMessage(w, "ConvertIdResponseMessage", "ErrorInvalidIdMalformed", "Id is malformed.")
			w.close("m:ConvertIdResponseMessage")
		}
	})
	writeXML(w, req.r, body, f, hit)
}
