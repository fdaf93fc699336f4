package ews

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGroupMailboxes(t *testing.T) {
	t.Parallel()
	var mbs []string
	for i := 250; i >= 1; i-- { // unsorted input
		mbs = append(mbs, fmt.Sprintf("user%03d@contoso.com", i))
	}
	mbs = append(mbs, "USER001@contoso.com") // a duplicate in another case
	groups := GroupMailboxes(mbs, nil, 100)
	if len(groups) != 3 {
		t.Fatalf("got %d groups, want 3", len(groups))
	}
	wantAnchors := []string{"user001@contoso.com", "user101@contoso.com", "user201@contoso.com"}
	wantSizes := []int{100, 100, 50}
	for i, g := range groups {
		if !strings.EqualFold(g.Anchor, wantAnchors[i]) || len(g.Members) != wantSizes[i] || g.Members[0] != g.Anchor {
			t.Errorf("group %d: got anchor %q size %d, want %q %d", i, g.Anchor, len(g.Members), wantAnchors[i], wantSizes[i])
		}
		if !sort.SliceIsSorted(g.Members, func(a, b int) bool { return strings.ToLower(g.Members[a]) < strings.ToLower(g.Members[b]) }) {
			t.Errorf("group %d is not sorted", i)
		}
	}

	// With affinity keys, groups never mix keys.
	key := func(m string) string {
		if strings.HasPrefix(m, "b") {
			return "SRV-B" + "https://b/EWS/Exchange.asmx"
		}
		return "SRV-A" + "https://a/EWS/Exchange.asmx"
	}
	groups = GroupMailboxes([]string{"b2@x", "a3@x", "b1@x", "a1@x", "a2@x"}, key, 2)
	var got []string
	for _, g := range groups {
		got = append(got, g.Anchor+":"+strings.Join(g.Members, ","))
	}
	want := []string{"a1@x:a1@x,a2@x", "a3@x:a3@x", "b1@x:b1@x,b2@x"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got groups %v, want %v", got, want)
	}
	if g := GroupMailboxes(mbs[:5], nil, 0); len(g) != 1 {
		t.Errorf("got %d groups with the default size, want 1", len(g))
	}
}

var (
	reImpersonated = regexp.MustCompile(`<t:PrimarySmtpAddress>([^<]+)</t:PrimarySmtpAddress>`)
	reSubID        = regexp.MustCompile(`<t:SubscriptionId>([^<]+)</t:SubscriptionId>`)
)

const (
	envOpen  = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>`
	envClose = `</s:Body></s:Envelope>`
	nsDecl   = ` xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"`
)

// fakeStreaming is an EWS double for the Watcher: Subscribe hands out
// "sub-<mailbox>-<generation>", the anchor's reply sets the back-end
// cookie, and each GetStreamingEvents gets its script.
type fakeStreaming struct {
	t        *testing.T
	mu       sync.Mutex
	gen      int
	conns    int
	problems []string
	lostOnce map[string]bool // anchors whose first connection reports ErrorSubscriptionNotFound
	dropOnce map[string]bool // mailboxes whose subscription the first connection drops (ErrorSubscriptionIds)
	unsubs   int
}

func (f *fakeStreaming) handle(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	imp := reImpersonated.FindStringSubmatch(string(body))[1]
	anchor := r.Header.Get("X-AnchorMailbox")
	cookie, _ := r.Cookie("X-BackEndOverrideCookie")
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("X-PreferServerAffinity") != "true" {
		f.problems = append(f.problems, op+" without X-PreferServerAffinity")
	}
	switch op {
	case "Subscribe":
		if imp == anchor {
			http.SetCookie(w, &http.Cookie{Name: "X-BackEndOverrideCookie", Value: "be-" + anchor, Path: "/", Secure: true, HttpOnly: true})
		} else if cookie == nil || cookie.Value != "be-"+anchor {
			f.problems = append(f.problems, fmt.Sprintf("member %s subscribed without the anchor's cookie (anchor %s, cookie %v)", imp, anchor, cookie))
		}
		f.gen++
		writeReply(w, []byte(envOpen+`<m:SubscribeResponse`+nsDecl+`><m:ResponseMessages><m:SubscribeResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:SubscriptionId>`+
			fmt.Sprintf("sub-%s-%d", imp, f.gen)+`</m:SubscriptionId></m:SubscribeResponseMessage></m:ResponseMessages></m:SubscribeResponse>`+envClose))
	case "GetStreamingEvents":
		if cookie == nil || cookie.Value != "be-"+anchor {
			f.problems = append(f.problems, "GetStreamingEvents without the group's cookie")
		}
		f.conns++
		ids := reSubID.FindAllStringSubmatch(string(body), -1)
		for _, id := range ids {
			mb := strings.Join(strings.Split(id[1], "-")[1:2], "")
			if f.dropOnce[mb] {
				delete(f.dropOnce, mb)
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				w.WriteHeader(200)
				fmt.Fprint(w, envOpen+`<m:GetStreamingEventsResponse`+nsDecl+`><m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass="Error"><m:MessageText>The specified subscription was not found.</m:MessageText><m:ResponseCode>ErrorSubscriptionNotFound</m:ResponseCode><m:ErrorSubscriptionIds><m:SubscriptionId>`+id[1]+`</m:SubscriptionId></m:ErrorSubscriptionIds></m:GetStreamingEventsResponseMessage></m:ResponseMessages></m:GetStreamingEventsResponse>`+envClose)
				w.(http.Flusher).Flush()
				f.mu.Unlock()
				<-r.Context().Done()
				f.mu.Lock()
				return
			}
		}
		if f.lostOnce[anchor] {
			delete(f.lostOnce, anchor)
			writeReply(w, fixture(f.t, "msdocs/30-getstreamingevents-ref-error-connectionstatus-closed.xml"))
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(200)
		fmt.Fprint(w, envOpen+`<m:GetStreamingEventsResponse`+nsDecl+`><m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Notifications>`)
		for _, id := range ids {
			fmt.Fprintf(w, `<m:Notification><t:SubscriptionId>%s</t:SubscriptionId><t:ModifiedEvent><t:TimeStamp>2024-01-01T00:00:00Z</t:TimeStamp><t:ItemId Id="i" ChangeKey="c"/><t:ParentFolderId Id="p" ChangeKey="c"/></t:ModifiedEvent></m:Notification>`, id[1])
		}
		fmt.Fprint(w, `</m:Notifications><m:ConnectionStatus>OK</m:ConnectionStatus></m:GetStreamingEventsResponseMessage></m:ResponseMessages></m:GetStreamingEventsResponse>`+envClose)
		w.(http.Flusher).Flush()
		f.mu.Unlock()
		<-r.Context().Done() // hold the connection open
		f.mu.Lock()
	case "Unsubscribe":
		f.unsubs++
		writeReply(w, fixture(f.t, "msdocs/32-unsubscribe-response.xml"))
	}
}

func TestWatcher(t *testing.T) {
	t.Parallel()
	fs := &fakeStreaming{t: t, lostOnce: map[string]bool{"m3@contoso.com": true}, dropOnce: map[string]bool{"m5@contoso.com": true}}
	f := newFake(t, fs.handle)
	c := f.client(Config{})
	mbs := []string{"m5@contoso.com", "m1@contoso.com", "m4@contoso.com", "m2@contoso.com", "m3@contoso.com"}
	w := &Watcher{Client: c, MaxPerConnection: 2, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	all := make(chan struct{})
	closed := false
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, mbs, func(mb string) {
			mu.Lock()
			defer mu.Unlock()
			seen[mb]++
			if len(seen) == len(mbs) && seen["m3@contoso.com"] >= 2 && seen["m5@contoso.com"] >= 2 && !closed {
				close(all)
				closed = true
			}
		})
	}()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		t.Fatalf("timed out; changed calls %v", seen)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("got Watch error %v, want nil after cancel", err)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, p := range fs.problems {
		t.Error(p)
	}
	// groups: m1,m2 | m3,m4 (all lost once: a second connection) | m5
	// (dropped once by ErrorSubscriptionIds: a second connection).
	if fs.conns != 5 {
		t.Errorf("got %d streaming connections, want 5 (3 groups, two reconnects)", fs.conns)
	}
	// m3, m4 and m5 were subscribed twice, m1 and m2 once.
	if fs.gen != 8 {
		t.Errorf("got %d subscriptions, want 8", fs.gen)
	}
	if fs.unsubs != 5 {
		t.Errorf("got %d Unsubscribe on stop, want 5 (one per live subscription)", fs.unsubs)
	}
}

func TestWatcherStopsOnAuthFailure(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		w.Header().Set("X-Ms-Diagnostics", "2000008;reason=\"no permissions\"")
		w.WriteHeader(401)
	})
	w := &Watcher{Client: f.client(Config{}), MinBackoff: time.Millisecond}
	err := w.Watch(context.Background(), []string{"a@x", "b@x"}, func(string) {})
	if !IsMissingConsent(err) {
		t.Errorf("got %v, want the 401 with 2000008", err)
	}
}

// flakyStreaming is an EWS double whose streaming can be broken: Subscribe
// always works; GetStreamingEvents sends one heartbeat and stays open, or,
// while broken, answers with the failure (dropping open connections).
type flakyStreaming struct {
	t       *testing.T
	mu      sync.Mutex
	gen     int
	failure func(w http.ResponseWriter) // nil: streaming works
	drop    chan struct{}               // closed to end open connections
}

func (f *flakyStreaming) setFailure(fail func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failure = fail
	if fail != nil {
		close(f.drop)
		f.drop = make(chan struct{})
	}
}

func (f *flakyStreaming) handle(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	f.mu.Lock()
	fail, drop := f.failure, f.drop
	switch op {
	case "Subscribe":
		f.gen++
		id := fmt.Sprintf("sub-%d", f.gen)
		f.mu.Unlock()
		writeReply(w, []byte(envOpen+`<m:SubscribeResponse`+nsDecl+`><m:ResponseMessages><m:SubscribeResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:SubscriptionId>`+
			id+`</m:SubscriptionId></m:SubscribeResponseMessage></m:ResponseMessages></m:SubscribeResponse>`+envClose))
		return
	case "GetStreamingEvents":
		f.mu.Unlock()
		if fail != nil {
			fail(w)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(200)
		fmt.Fprint(w, envOpen+`<m:GetStreamingEventsResponse`+nsDecl+`><m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:ConnectionStatus>OK</m:ConnectionStatus></m:GetStreamingEventsResponseMessage></m:ResponseMessages></m:GetStreamingEventsResponse>`+envClose)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-drop:
		}
		return
	}
	f.mu.Unlock()
	writeReply(w, fixture(f.t, "msdocs/32-unsubscribe-response.xml"))
}

// TestWatcherHealth: each group's stream is reported up, down (once, with
// the reason) while streaming fails, and up again when it works.
func TestWatcherHealth(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		failure func(w http.ResponseWriter)
		is      func(error) bool
	}{
		{"http 503", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, IsThrottled},
		{"subscriptions not found", func(w http.ResponseWriter) {
			writeReply(w, []byte(envOpen+`<m:GetStreamingEventsResponse`+nsDecl+`><m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass="Error"><m:MessageText>The specified subscription was not found.</m:MessageText><m:ResponseCode>ErrorSubscriptionNotFound</m:ResponseCode></m:GetStreamingEventsResponseMessage></m:ResponseMessages></m:GetStreamingEventsResponse>`+envClose))
		}, IsSubscriptionNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := &flakyStreaming{t: t, drop: make(chan struct{})}
			f := newFake(t, fs.handle)
			// UpAfter is long: "up" comes from the heartbeat the fake sends.
			w := &Watcher{Client: f.client(Config{}), MaxPerConnection: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, UpAfter: time.Hour}
			mbs := []string{"a@contoso.com", "b@contoso.com", "c@contoso.com"} // groups a,b | c

			var mu sync.Mutex
			state := map[string]bool{}
			var errs []error
			reports := 0
			wait := func(what string, ok func() bool) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for {
					mu.Lock()
					done := ok()
					mu.Unlock()
					if done {
						return
					}
					if time.Now().After(deadline) {
						mu.Lock()
						defer mu.Unlock()
						t.Fatalf("timed out waiting for %s; state %v", what, state)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			all := func(up bool) func() bool {
				return func() bool {
					for _, mb := range mbs {
						if v, ok := state[mb]; !ok || v != up {
							return false
						}
					}
					return true
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- w.WatchHealth(ctx, mbs, func(string) {}, func(ms []string, up bool, err error) {
					mu.Lock()
					defer mu.Unlock()
					reports++
					for _, mb := range ms {
						state[mb] = up
					}
					if (err != nil) == up {
						t.Errorf("got up %v with err %v, want an error exactly when down", up, err)
					}
					if err != nil {
						errs = append(errs, err)
					}
				})
			}()
			wait("every group up", all(true))
			fs.setFailure(tt.failure)
			wait("every group down", all(false))
			mu.Lock()
			for _, err := range errs {
				if !tt.is(err) {
					t.Errorf("got down reason %v, want the %s", err, tt.name)
				}
			}
			mu.Unlock()
			time.Sleep(50 * time.Millisecond) // retries go on (every ≤5 ms), unreported
			mu.Lock()
			if reports != 4 {
				t.Errorf("got %d health reports, want 4 (2 groups up, then down once each)", reports)
			}
			mu.Unlock()
			fs.setFailure(nil)
			wait("every group up again", all(true))
			cancel()
			if err := <-done; err != nil {
				t.Errorf("got WatchHealth error %v, want nil after cancel", err)
			}
		})
	}
}
