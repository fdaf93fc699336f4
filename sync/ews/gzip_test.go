package ews

import (
	"compress/gzip"
	"context"
	"net/http"
	"testing"
)

// TestGzipReplies: the Client leaves Accept-Encoding to the transport, so
// Go's http.Transport asks for gzip (Exchange Online compresses EWS
// replies when asked) and decompresses the reply transparently. Setting
// the header by hand would turn that off.
func TestGzipReplies(t *testing.T) {
	t.Parallel()
	raw := fixture(t, "handwritten/getitem-master-response.xml")
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("got Accept-Encoding %q, want gzip (added by the transport)", r.Header.Get("Accept-Encoding"))
			writeReply(w, raw)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(raw)
		zw.Close()
	})
	c := f.client(Config{})
	res, err := c.GetItem(context.Background(), nil, "alfred@contoso.com", []string{"MASTER1", "ALLDAY1", "GONE1"}, 1, DetailFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Err != nil || res[0].Event == nil || res[0].Event.ItemID != "MASTER1" {
		t.Fatalf("got %+v, want MASTER1 decoded from the gzip reply", res)
	}
}
