package autodiscover

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/exocal/exocal/sync/internal/debughdr"
)

// The protocol debug log (the settings' "EWS protocol debugging"): when
// Request.Debug is set, every autodiscover exchange — SOAP GetUserSettings,
// POX, Autodiscover V2, each redirect hop — is written to it as one record
// for the request and one for the reply, in the same shape as the EWS
// client's records. Credential headers are redacted here; the writer (an
// ews.DebugLog) redacts tokens and secrets in the text as well.

func (r *run) debugRequest(op string, req *http.Request, body string) {
	if r.req.Debug == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s autodiscover %s request\n%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), op, req.Method, req.URL)
	debughdr.Write(&b, req.Header)
	b.WriteString("\n")
	b.WriteString(body)
	b.WriteString("\n")
	r.req.Debug.Write(b.Bytes())
}

func (r *run) debugResponse(op string, resp *http.Response, body []byte) {
	if r.req.Debug == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "==== %s autodiscover %s response\n%s\n", time.Now().UTC().Format(time.RFC3339Nano), op, resp.Status)
	debughdr.Write(&b, resp.Header)
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	r.req.Debug.Write(b.Bytes())
}

func (r *run) debugFailure(op string, req *http.Request, err error) {
	if r.req.Debug == nil {
		return
	}
	fmt.Fprintf(r.req.Debug, "==== %s autodiscover %s failed\n%s %s\n%v\n", time.Now().UTC().Format(time.RFC3339Nano), op, req.Method, req.URL, err)
}
