package ews

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// streamFixtures is one chunked reply made of several envelopes: a
// heartbeat, Microsoft's notification sample, a per-subscription error in
// the wire form (m:SubscriptionId), and the closing heartbeat.
func streamFixtures(t *testing.T) [][]byte {
	closed := bytes.Replace(fixture(t, "examples/getstreamingevents-heartbeat.xml"),
		[]byte("<m:ConnectionStatus>OK<"), []byte("<m:ConnectionStatus>Closed<"), 1)
	return [][]byte{
		fixture(t, "examples/getstreamingevents-heartbeat.xml"),
		fixture(t, "msdocs/27-getstreamingevents-response.xml"),
		fixture(t, "examples/getstreamingevents-error-wire-form.xml"),
		closed,
	}
}

func TestGetStreamingEventsSeveralEnvelopes(t *testing.T) {
	t.Parallel()
	parts := streamFixtures(t)
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(200)
		for i, p := range parts {
			w.Write(p)
			w.(http.Flusher).Flush()
			if i == 1 {
				<-release // the client must have seen the first two envelopes already
			}
		}
	})
	c := f.client(Config{})
	var got []StreamResponse
	err := c.GetStreamingEvents(context.Background(), nil, "a@contoso.com", []string{"s1"}, 30*time.Minute, func(r StreamResponse) {
		got = append(got, r)
		if len(got) == 2 {
			close(release)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d responses, want 4", len(got))
	}
	if !got[0].Heartbeat() || got[0].ConnectionStatus != "OK" {
		t.Errorf("got first %+v, want a heartbeat with status OK", got[0])
	}
	if got[1].Heartbeat() || len(got[1].Notifications) != 1 {
		t.Fatalf("got second %+v, want one notification", got[1])
	}
	n := got[1].Notifications[0]
	if !strings.HasPrefix(n.SubscriptionID, "JgBibjFw") || len(n.Events) != 3 ||
		n.Events[0].Kind != "CreatedEvent" || n.Events[1].Kind != "NewMailEvent" || n.Events[2].Kind != "ModifiedEvent" {
		t.Errorf("got notification %+v", n)
	}
	if !n.Events[0].TimeStamp.Equal(time.Date(2013, 9, 16, 4, 31, 29, 0, time.UTC)) || !strings.HasPrefix(n.Events[0].ItemID, "AAMkADkz") {
		t.Errorf("got event %+v", n.Events[0])
	}
	if got[2].Err == nil || !IsSubscriptionNotFound(got[2].Err) || len(got[2].ErrorSubscriptionIDs) != 1 ||
		!strings.HasPrefix(got[2].ErrorSubscriptionIDs[0], "JgBjbzFw") {
		t.Errorf("got third %+v, want ErrorSubscriptionNotFound for one id", got[2])
	}
	if got[3].ConnectionStatus != "Closed" {
		t.Errorf("got last status %q, want Closed", got[3].ConnectionStatus)
	}
	body := string(f.requests()[0].Body)
	if !strings.Contains(body, "<m:SubscriptionIds><t:SubscriptionId>s1</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>30</m:ConnectionTimeout>") {
		t.Errorf("got request %s", body)
	}
}

func TestGetStreamingEventsRequestError(t *testing.T) {
	t.Parallel()
	f := newFake(t, byOp(t, map[string]string{"GetStreamingEvents": "msdocs/30-getstreamingevents-ref-error-connectionstatus-closed.xml"}))
	err := f.client(Config{}).GetStreamingEvents(context.Background(), nil, "a@contoso.com", []string{"s1"}, time.Minute, func(StreamResponse) {})
	if !IsSubscriptionNotFound(err) {
		t.Errorf("got %v, want ErrorInvalidSubscription as a lost subscription", err)
	}
}

func TestGetStreamingEventsSilentServer(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		w.WriteHeader(200)
		w.Write(fixture(t, "examples/getstreamingevents-heartbeat.xml"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then silence
	})
	c := f.client(Config{HeartbeatTimeout: 200 * time.Millisecond})
	beats := 0
	err := c.GetStreamingEvents(context.Background(), nil, "a@contoso.com", []string{"s1"}, time.Minute, func(StreamResponse) { beats++ })
	if !IsTransient(err) || beats != 1 {
		t.Errorf("got %v after %d heartbeats, want a transient error after 1", err, beats)
	}
}

func TestParseStreamTruncated(t *testing.T) {
	t.Parallel()
	all := bytes.Join(streamFixtures(t), nil)
	n := 0
	err := parseStream(bytes.NewReader(all[:len(all)-40]), func(*streamingEnvelope) error { n++; return nil })
	if err == nil || n != 3 {
		t.Errorf("got %v after %d envelopes, want an error after 3", err, n)
	}
}

func TestGetStreamingEventsDebugLog(t *testing.T) {
	t.Parallel()
	parts := streamFixtures(t)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		http.SetCookie(w, &http.Cookie{Name: "X-BackEndOverrideCookie", Value: "secret-backend~42"})
		w.WriteHeader(200)
		for _, p := range parts {
			w.Write(p)
			w.(http.Flusher).Flush()
		}
	})
	path := t.TempDir() + "/sub/ews.log"
	log, err := OpenDebugLog(path, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(Config{Debug: log})
	n := 0
	if err := c.GetStreamingEvents(context.Background(), nil, "a@contoso.com", []string{"s1"}, time.Minute, func(StreamResponse) { n++ }); err != nil {
		t.Fatal(err)
	}
	log.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(b, []byte("GetStreamingEventsResponse ")); got != 4 || n != 4 {
		t.Errorf("got %d envelopes in the log and %d delivered, want 4 and 4", got, n)
	}
	if !bytes.Contains(b, []byte("<m:GetStreamingEvents>")) || !bytes.Contains(b, []byte("<t:CreatedEvent>")) {
		t.Errorf("log lacks the request or the events:\n%s", b)
	}
	if bytes.Contains(b, []byte("secret-backend")) {
		t.Errorf("log holds the back-end cookie value")
	}
}

// TestGetStreamingEventsOutlivesClientTimeout: a quiet stream that the
// server keeps open (heartbeats only) for several times the http.Client's
// Timeout is not cut by it; request/response operations still are, and the
// caller's client is left as it was.
func TestGetStreamingEventsOutlivesClientTimeout(t *testing.T) {
	t.Parallel()
	const clientTimeout = 300 * time.Millisecond
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		if op != "GetStreamingEvents" {
			select { // slower than the client's Timeout
			case <-time.After(5 * clientTimeout):
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(200)
		beat := fixture(t, "examples/getstreamingevents-heartbeat.xml")
		for range 8 { // 8 × 150 ms = 4 client timeouts
			w.Write(beat)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(150 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		w.Write(bytes.Replace(beat, []byte("<m:ConnectionStatus>OK<"), []byte("<m:ConnectionStatus>Closed<"), 1))
	})
	hc := f.srv.Client()
	hc.Timeout = clientTimeout
	c := f.client(Config{HTTPClient: hc})
	var got []StreamResponse
	err := c.GetStreamingEvents(context.Background(), nil, "a@contoso.com", []string{"s1"}, time.Minute, func(r StreamResponse) { got = append(got, r) })
	if err != nil {
		t.Fatalf("GetStreamingEvents: got %v, want nil (a normal end)", err)
	}
	if len(got) != 9 || got[8].ConnectionStatus != "Closed" {
		t.Errorf("got %d responses (last %+v), want 9 ending with Closed", len(got), got[len(got)-1])
	}
	if _, err := c.Subscribe(context.Background(), nil, "a@contoso.com"); err == nil || !IsTransient(err) {
		t.Errorf("Subscribe slower than the client's Timeout: got %v, want a transient error", err)
	}
	if hc.Timeout != clientTimeout || hc.Jar != nil {
		t.Errorf("caller's client: got Timeout %v, want %v (unchanged)", hc.Timeout, clientTimeout)
	}
}

// TestGetStreamingEventsOverdue: a server that keeps sending heartbeats
// past ConnectionTimeout plus the margin is dropped, as a failure.
func TestGetStreamingEventsOverdue(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		w.WriteHeader(200)
		beat := fixture(t, "examples/getstreamingevents-heartbeat.xml")
		for {
			w.Write(beat)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(20 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	})
	c := f.client(Config{})
	c.minute, c.margin = 100*time.Millisecond, 100*time.Millisecond
	err := c.GetStreamingEvents(context.Background(), nil, "a@contoso.com", []string{"s1"}, time.Minute, func(StreamResponse) {})
	if !IsTransient(err) || !errors.Is(err, errOverdue) {
		t.Errorf("got %v, want a transient error: not ended after ConnectionTimeout", err)
	}
}
