package autodiscover

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/exocal/exocal/sync/auth"
)

// v2Reply is Autodiscover V2's JSON: {"Protocol":"EWS","Url":"…"} or, on
// failure, {"ErrorCode":"…","ErrorMessage":"…"}.
type v2Reply struct {
	Protocol     string `json:"Protocol"`
	URL          string `json:"Url"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// v2URL builds {V2URL}/autodiscover/autodiscover.json/v1.0/{user}?Protocol=…
func (r *run) v2URL(protocol string) (string, error) {
	base, err := auth.CheckURL(r.req.V2URL)
	if err != nil {
		return "", err
	}
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + "/autodiscover/autodiscover.json/v1.0/" + r.req.User
	u.RawPath = ""
	u.RawQuery = url.Values{"Protocol": {protocol}}.Encode()
	return u.String(), nil
}

// v2Lookup asks Autodiscover V2 for protocol's URL. The endpoint needs no
// authentication, so the request goes without the token (auth.WithoutToken)
// and its HTTP redirects may go to any https host.
func (r *run) v2Lookup(ctx context.Context, protocol string) (string, error) {
	target, err := r.v2URL(protocol)
	if err != nil {
		return "", &Error{Op: MethodV2, URL: r.req.V2URL, Err: err}
	}
	ctx = auth.WithoutToken(ctx)
	visited := map[string]bool{}
	h := http.Header{}
	h.Set("Accept", "application/json")
	for {
		if visited[target] {
			return "", &RedirectError{Op: MethodV2, From: target, To: target, Reason: ReasonLoop, Hops: len(r.hops)}
		}
		visited[target] = true
		resp, err := r.do(ctx, MethodV2, http.MethodGet, target, "", h)
		if err != nil {
			return "", err
		}
		if resp.location != "" {
			if err := r.follow(MethodV2, "http", target, resp.location, false); err != nil {
				return "", err
			}
			target = resp.location
			continue
		}
		var rep v2Reply
		jerr := json.Unmarshal(resp.body, &rep)
		if resp.status != http.StatusOK {
			return "", httpError(MethodV2, target, resp, rep.ErrorCode, rep.ErrorMessage)
		}
		if jerr != nil {
			return "", &Error{Op: MethodV2, URL: target, HTTPStatus: resp.status, Err: jerr}
		}
		if rep.ErrorCode != "" {
			return "", &Error{Op: MethodV2, URL: target, HTTPStatus: resp.status, Code: rep.ErrorCode, Message: rep.ErrorMessage}
		}
		if !strings.EqualFold(rep.Protocol, protocol) || rep.URL == "" {
			return "", &Error{Op: MethodV2, URL: target, HTTPStatus: resp.status, Code: "UnexpectedReply",
				Message: "want Protocol " + protocol + " with a Url, got Protocol " + rep.Protocol}
		}
		return strings.TrimSpace(rep.URL), nil
	}
}

// v2EWS is the V2 fallback: the EWS URL straight from Autodiscover V2.
func (r *run) v2EWS(ctx context.Context) (Result, error) {
	ews, err := r.v2Lookup(ctx, "EWS")
	if err != nil {
		return Result{}, err
	}
	endpoint, _ := r.v2URL("EWS")
	checked, err := r.checkEWS(MethodV2, endpoint, ews)
	if err != nil {
		return Result{}, err
	}
	return Result{Method: MethodV2, EWSURL: checked, Server: ServerExternal, ExternalEWSURL: checked,
		User: r.req.User, Endpoint: endpoint, Hops: r.hops}, nil
}

// v2POX asks V2 for the alternative (POX) autodiscover server and runs POX
// there, with the token only if that server is trusted.
func (r *run) v2POX(ctx context.Context) (Result, error) {
	alt, err := r.v2Lookup(ctx, "AutodiscoverV1")
	if err != nil {
		return Result{}, err
	}
	from, _ := r.v2URL("AutodiscoverV1")
	if _, err := r.checkTarget(MethodPOX, from, alt, true); err != nil {
		return Result{}, err
	}
	if err := r.hop(MethodV2, "v2-alternative", from, alt); err != nil {
		return Result{}, err
	}
	return r.pox(ctx, alt)
}
