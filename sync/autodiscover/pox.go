package autodiscover

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// POX namespaces (real http:// forms, as in sample 59; the docs' samples
// 51-55 use https:// look-alikes, which the parser accepts too).
const (
	nsPOXRequest  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsPOXResponse = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// poxEndpoint turns a server into the POX .xml URL (see endpointOf).
func poxEndpoint(raw string) (string, error) {
	return endpointOf(raw, "autodiscover.xml", "autodiscover.svc")
}

func buildPOXRequest(user string) string {
	var e bytes.Buffer
	_ = xml.EscapeText(&e, []byte(user))
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="` + nsPOXRequest + `">
  <Request>
    <EMailAddress>` + e.String() + `</EMailAddress>
    <AcceptableResponseSchema>` + nsPOXResponse + `</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`
}

type poxAutodiscover struct {
	XMLName  xml.Name
	Response struct {
		Error *struct {
			ErrorCode string `xml:"ErrorCode"`
			Message   string `xml:"Message"`
		} `xml:"Error"`
		Account struct {
			Action       string `xml:"Action"`
			RedirectAddr string `xml:"RedirectAddr"`
			RedirectURL  string `xml:"RedirectUrl"`
			Protocols    []struct {
				Type   string `xml:"Type"`
				EwsURL string `xml:"EwsUrl"`
				ASURL  string `xml:"ASUrl"`
			} `xml:"Protocol"`
		} `xml:"Account"`
	} `xml:"Response"`
}

// poxReply is a parsed POX answer.
type poxReply struct {
	errCode, errMessage string
	action              string
	redirect            string
	internal, external  string // EXCH and EXPR EWS URLs
}

func parsePOX(body []byte) (poxReply, error) {
	var a poxAutodiscover
	if err := xml.Unmarshal(body, &a); err != nil {
		return poxReply{}, fmt.Errorf("not a POX autodiscover reply: %w", err)
	}
	if a.XMLName.Local != "Autodiscover" {
		return poxReply{}, fmt.Errorf("not a POX autodiscover reply: <%s>", a.XMLName.Local)
	}
	if e := a.Response.Error; e != nil {
		return poxReply{errCode: strings.TrimSpace(e.ErrorCode), errMessage: strings.TrimSpace(e.Message)}, nil
	}
	acc := a.Response.Account
	rep := poxReply{action: strings.TrimSpace(acc.Action)}
	switch strings.ToLower(rep.action) {
	case "redirectaddr":
		rep.redirect = strings.TrimSpace(acc.RedirectAddr)
	case "redirecturl":
		rep.redirect = strings.TrimSpace(acc.RedirectURL)
	}
	for _, p := range acc.Protocols {
		u := strings.TrimSpace(p.EwsURL)
		if u == "" {
			u = strings.TrimSpace(p.ASURL)
		}
		switch strings.ToUpper(strings.TrimSpace(p.Type)) {
		case "EXCH":
			if rep.internal == "" {
				rep.internal = u
			}
		case "EXPR":
			if rep.external == "" {
				rep.external = u
			}
		}
	}
	return rep, nil
}

// pox runs POX autodiscover at endpoint, following redirects under the
// package's rules.
func (r *run) pox(ctx context.Context, server string) (Result, error) {
	endpoint, err := poxEndpoint(server)
	if err != nil {
		return Result{}, &Error{Op: MethodPOX, URL: server, Err: err}
	}
	user := r.req.User
	visited := map[string]bool{}
	h := http.Header{}
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Accept", "text/xml")
	for {
		if err := r.visit(MethodPOX, visited, endpoint, user); err != nil {
			return Result{}, err
		}
		h.Set("X-AnchorMailbox", user)
		resp, err := r.do(ctx, MethodPOX, http.MethodPost, endpoint, buildPOXRequest(user), h)
		if err != nil {
			return Result{}, err
		}
		if resp.location != "" {
			if err := r.follow(MethodPOX, "http", endpoint, resp.location, true); err != nil {
				return Result{}, err
			}
			endpoint = resp.location
			continue
		}
		if resp.status != http.StatusOK {
			return Result{}, httpError(MethodPOX, endpoint, resp, "", "")
		}
		rep, err := parsePOX(resp.body)
		if err != nil {
			return Result{}, &Error{Op: MethodPOX, URL: endpoint, HTTPStatus: resp.status, Err: err}
		}
		if rep.errCode != "" {
			return Result{}, &Error{Op: MethodPOX, URL: endpoint, HTTPStatus: resp.status, Code: rep.errCode, Message: rep.errMessage}
		}
		switch strings.ToLower(rep.action) {
		case "settings":
			return r.settingsResult(MethodPOX, endpoint, resp.status, user, rep.external, rep.internal,
				"no EXCH or EXPR protocol with an EWS URL")
		case "redirectaddr":
			if err := r.redirectUser(MethodPOX, "redirectAddr", endpoint, user, rep.redirect); err != nil {
				return Result{}, err
			}
			user = rep.redirect
		case "redirecturl":
			if endpoint, err = r.redirectURL(MethodPOX, "redirectUrl", endpoint, rep.redirect, poxEndpoint); err != nil {
				return Result{}, err
			}
		default:
			return Result{}, &Error{Op: MethodPOX, URL: endpoint, HTTPStatus: resp.status, Code: "UnexpectedAction", Message: "Action " + rep.action}
		}
	}
}
