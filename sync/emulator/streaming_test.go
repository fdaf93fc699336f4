package emulator

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

const subscribeCalendar = `<m:Subscribe>
  <m:StreamingSubscriptionRequest>
    <t:FolderIds><t:DistinguishedFolderId Id="calendar" /></t:FolderIds>
    <t:EventTypes>
      <t:EventType>CreatedEvent</t:EventType>
      <t:EventType>DeletedEvent</t:EventType>
      <t:EventType>ModifiedEvent</t:EventType>
    </t:EventTypes>
  </m:StreamingSubscriptionRequest>
</m:Subscribe>`

func getStreamingEvents(timeout int, ids ...string) string {
	var b strings.Builder
	b.WriteString("<m:GetStreamingEvents><m:SubscriptionIds>")
	for _, id := range ids {
		b.WriteString("<t:SubscriptionId>" + id + "</t:SubscriptionId>")
	}
	fmt.Fprintf(&b, "</m:SubscriptionIds><m:ConnectionTimeout>%d</m:ConnectionTimeout></m:GetStreamingEvents>", timeout)
	return b.String()
}

// subscribe sends a Subscribe with the affinity headers of samples 34/36.
func (e *env) subscribe(mb, anchor, cookie string) (id string, setCookie string) {
	e.t.Helper()
	hdr := []string{"X-PreferServerAffinity", "true"}
	if cookie != "" {
		hdr = append(hdr, "Cookie", "X-BackEndOverrideCookie="+cookie)
	}
	res := e.post(ewsPath, e.token, anchor, soapEnvelope(mb, subscribeCalendar), hdr...)
	msg := res.messages()[0]
	if msg.attr("ResponseClass") != "Success" {
		e.t.Fatalf("Subscribe: %s", res.body)
	}
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "X-BackEndOverrideCookie" {
			setCookie = c.Value
		}
	}
	return msg.child(nsMessages, "SubscriptionId").text(), setCookie
}

// streamEnvelopes reads a GetStreamingEvents response envelope by envelope.
type streamReader struct {
	resp *http.Response
	br   *bufio.Reader
	buf  bytes.Buffer
}

func (e *env) openStream(mb, anchor, cookie, body string) *streamReader {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+ewsPath, strings.NewReader(soapEnvelope(mb, body)))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("X-AnchorMailbox", anchor)
	req.Header.Set("X-PreferServerAffinity", "true")
	if cookie != "" {
		req.Header.Set("Cookie", "X-BackEndOverrideCookie="+cookie)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return &streamReader{resp: resp, br: bufio.NewReader(resp.Body)}
}

// next returns the next envelope, or nil at the end of the stream.
func (s *streamReader) next() *node {
	const end = "</s:Envelope>"
	for {
		if i := bytes.Index(s.buf.Bytes(), []byte(end)); i >= 0 {
			doc := append([]byte(nil), s.buf.Bytes()[:i+len(end)]...)
			s.buf.Next(i + len(end))
			n, err := parseXML(bytes.NewReader(doc))
			if err != nil {
				panic(err)
			}
			return n
		}
		chunk := make([]byte, 4096)
		n, err := s.br.Read(chunk)
		s.buf.Write(chunk[:n])
		if err == io.EOF && n == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return nil
		}
	}
}

func streamMessage(env *node) *node {
	return env.child(nsSOAP, "Body").child(nsMessages, "GetStreamingEventsResponse").child(nsMessages, "ResponseMessages").child(nsMessages, "GetStreamingEventsResponseMessage")
}

func TestStreamingWithAffinity(t *testing.T) {
	t.Parallel()
	// A 3 s "minute": the event must arrive before ConnectionTimeout ends
	// the stream, even on a loaded machine.
	e := newEnv(t, func(o *Options) { o.StreamMinute = 3 * time.Second })
	e.token = e.getToken()
	ten := e.srv.Tenant()
	boxes := ten.Mailboxes()
	anchor, member := boxes[0], boxes[1]

	// Sample 34/35: the anchor's Subscribe gets the override cookie.
	anchorSub, cookie := e.subscribe(anchor, anchor, "")
	if cookie == "" || !strings.Contains(cookie, "~") {
		t.Fatalf("anchor Subscribe: got cookie %q, want X-BackEndOverrideCookie=backend~n", cookie)
	}
	// Sample 36/37: the member keeps the anchor and sends the cookie; no new cookie.
	memberSub, again := e.subscribe(member, anchor, cookie)
	if again != "" {
		t.Errorf("member Subscribe: got a new cookie %q, want none (sample 37)", again)
	}

	// Sample 38: one GetStreamingEvents for the group.
	st := e.openStream(anchor, anchor, cookie, getStreamingEvents(1, anchorSub, memberSub))
	if st.resp.StatusCode != 200 {
		t.Fatalf("GetStreamingEvents: status %d", st.resp.StatusCode)
	}
	first := st.next()
	if got := streamMessage(first).child(nsMessages, "ConnectionStatus").text(); got != "OK" {
		t.Fatalf("first envelope: ConnectionStatus %q, want OK", got)
	}
	if n := e.srv.Stats().StreamsOpen; n != 1 {
		t.Errorf("open streams: got %d, want 1", n)
	}
	added, err := ten.Add(member, tenant.Item{Subject: "Streamed", Start: testNow.Add(72 * time.Hour), End: testNow.Add(73 * time.Hour),
		StartTimeZone: "UTC", EndTimeZone: "UTC", FreeBusy: "Busy", Sensitivity: "Normal"})
	if err != nil {
		t.Fatal(err)
	}
	var gotEvent *node
	var closed bool
	for envl := st.next(); envl != nil; envl = st.next() {
		msg := streamMessage(envl)
		for _, n := range msg.child(nsMessages, "Notifications").all(nsMessages, "Notification") {
			if n.child(nsTypes, "SubscriptionId").text() == memberSub && n.child(nsTypes, "CreatedEvent") != nil {
				gotEvent = n.child(nsTypes, "CreatedEvent")
			}
			if n.child(nsTypes, "SubscriptionId").text() == anchorSub {
				t.Errorf("anchor subscription got an event for the member's mailbox")
			}
		}
		if msg.child(nsMessages, "ConnectionStatus").text() == "Closed" {
			closed = true
			break
		}
	}
	if gotEvent == nil {
		t.Fatal("no CreatedEvent for the member's subscription")
	}
	if id := gotEvent.child(nsTypes, "ItemId").attr("Id"); id != added.ID {
		t.Errorf("CreatedEvent ItemId: got %s, want %s", id, added.ID)
	}
	if pf := gotEvent.child(nsTypes, "ParentFolderId").attr("Id"); pf != e.srv.calendarFolderID(member) {
		t.Errorf("ParentFolderId: got %s, want the member's calendar", pf)
	}
	if !closed {
		t.Error("stream ended without ConnectionStatus Closed")
	}

	// Unknown ids: ErrorSubscriptionNotFound with the id (wire form m:SubscriptionId).
	res := e.post(ewsPath, e.token, anchor, soapEnvelope(anchor, getStreamingEvents(1, "bm9zdWNoc3Vic2NyaXB0aW9u")), "X-PreferServerAffinity", "true", "Cookie", "X-BackEndOverrideCookie="+cookie)
	msg := res.messages()[0]
	if msg.child(nsMessages, "ResponseCode").text() != "ErrorSubscriptionNotFound" ||
		msg.child(nsMessages, "ErrorSubscriptionIds").child(nsMessages, "SubscriptionId").text() != "bm9zdWNoc3Vic2NyaXB0aW9u" ||
		msg.child(nsMessages, "ConnectionStatus").text() != "Closed" {
		t.Errorf("unknown subscription: got %s", res.body)
	}
	// More than 200 ids in one request.
	ids := make([]string, 201)
	for i := range ids {
		ids[i] = anchorSub
	}
	res = e.post(ewsPath, e.token, anchor, soapEnvelope(anchor, getStreamingEvents(1, ids...)), "X-PreferServerAffinity", "true", "Cookie", "X-BackEndOverrideCookie="+cookie)
	if msg := res.messages()[0]; msg.attr("ResponseClass") != "Error" {
		t.Errorf("201 ids: got %s, want an error", res.body)
	}
	// ConnectionTimeout outside 1..30 is a schema error.
	res = e.post(ewsPath, e.token, anchor, soapEnvelope(anchor, getStreamingEvents(31, anchorSub)))
	if res.status != 500 || res.faultCode() != "ErrorSchemaValidation" {
		t.Errorf("ConnectionTimeout 31: got %d %s", res.status, res.body)
	}
	// Unsubscribe: once ok (sample 32), then ErrorSubscriptionNotFound (sample 33).
	for i, want := range []string{"NoError", "ErrorSubscriptionNotFound"} {
		res := e.post(ewsPath, e.token, anchor, soapEnvelope(anchor, `<m:Unsubscribe><m:SubscriptionId>`+anchorSub+`</m:SubscriptionId></m:Unsubscribe>`), "X-PreferServerAffinity", "true", "Cookie", "X-BackEndOverrideCookie="+cookie)
		if got := res.messages()[0].child(nsMessages, "ResponseCode").text(); got != want {
			t.Errorf("Unsubscribe %d: got %s, want %s", i, got, want)
		}
	}
	if st := e.srv.Stats(); st.StreamsTotal < 1 || st.StreamsOpen != 0 {
		t.Errorf("stream counters: got total %d open %d", st.StreamsTotal, st.StreamsOpen)
	}
}

func TestStreamingWithoutAffinityLosesSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.token = e.getToken()
	boxes := e.srv.Tenant().Mailboxes()
	// Find two mailboxes on different backends.
	var a, b string
	for _, x := range boxes {
		for _, y := range boxes {
			if backendOf(x) != backendOf(y) {
				a, b = x, y
			}
		}
	}
	if a == "" {
		t.Skip("all generated mailboxes share one backend")
	}
	// b subscribes routed by its own anchor; the group's stream goes to a's server.
	sub, _ := e.subscribe(b, b, "")
	res := e.post(ewsPath, e.token, a, soapEnvelope(a, getStreamingEvents(1, sub)))
	if got := res.messages()[0].child(nsMessages, "ResponseCode").text(); got != "ErrorSubscriptionNotFound" {
		t.Errorf("GetStreamingEvents on another backend: got %s, want ErrorSubscriptionNotFound", got)
	}
}

func TestStreamingLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StreamMinute = 5 * time.Second; o.Heartbeat = time.Second })
	e.token = e.getToken()
	mb := e.srv.Tenant().Mailboxes()[0]
	var ids []string
	for range maxSubscriptionsPerMailbox {
		id, _ := e.subscribe(mb, mb, "")
		ids = append(ids, id)
	}
	// EWSMaxSubscriptions: the 21st subscription on one mailbox fails.
	res := e.post(ewsPath, e.token, mb, soapEnvelope(mb, subscribeCalendar))
	if got := res.messages()[0].child(nsMessages, "ResponseCode").text(); got != "ErrorExceededSubscriptionCount" {
		t.Errorf("21st Subscribe: got %s, want ErrorExceededSubscriptionCount", got)
	}
	// HangingConnectionLimit: ten open streams per account, the 11th fails.
	for i := range maxStreamsPerAccount {
		st := e.openStream(mb, mb, "", getStreamingEvents(1, ids[i]))
		if env := st.next(); env == nil || streamMessage(env).child(nsMessages, "ConnectionStatus").text() != "OK" {
			t.Fatalf("stream %d did not open", i)
		}
	}
	res = e.post(ewsPath, e.token, mb, soapEnvelope(mb, getStreamingEvents(1, ids[10])))
	if got := res.messages()[0].child(nsMessages, "ResponseCode").text(); got != "ErrorExceededConnectionCount" {
		t.Errorf("11th stream: got %s, want ErrorExceededConnectionCount", got)
	}
	if n := e.srv.Stats().StreamsOpen; n != maxStreamsPerAccount {
		t.Errorf("open streams: got %d, want %d", n, maxStreamsPerAccount)
	}
	// A subscription moved to a newer connection closes it on the old one
	// (other accounts impersonated: mb's connection budget is used up).
	others := e.srv.Tenant().Mailboxes()[1:3]
	old := e.openStream(others[0], mb, "", getStreamingEvents(1, ids[12]))
	old.next()
	_ = e.openStream(others[1], mb, "", getStreamingEvents(1, ids[12]))
	var status string
	for env := old.next(); env != nil; env = old.next() {
		status = streamMessage(env).child(nsMessages, "ConnectionStatus").text()
	}
	if status != "Closed" {
		t.Errorf("old connection after takeover: last status %q, want Closed", status)
	}
}
