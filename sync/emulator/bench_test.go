package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

var (
	benchOnce   sync.Once
	benchTenant *tenant.Tenant
)

// BenchmarkFullSync measures the emulator under the issue's load: 200
// mailboxes × 500 items, 25 ms added latency. One op is one mailbox's full
// sync as ExoCal does it (SyncFolderItems IdOnly pages of 512, then GetItem
// in batches of 10), many mailboxes in parallel. It reports the emulator's
// own cost per request: handler time (latency and stream waits excluded)
// and the process's CPU time (server and in-process client together, so an
// upper bound). Report, don't assert.
//
//	go test ./sync/emulator -run '^$' -bench FullSync -benchtime 200x
func BenchmarkFullSync(b *testing.B) {
	benchOnce.Do(func() {
		benchTenant = tenant.Generate(tenant.Config{Seed: 3, Mailboxes: 200, Events: 500, Now: testNow})
	})
	srv := New(Options{Tenant: benchTenant, TenantID: testTenantID, ClientID: testClientID, ClientSecret: testSecret,
		Latency: 25 * time.Millisecond, Seed: 3})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	resp, err := client.PostForm(srv.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {"https://outlook.office365.com/.default"}})
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	boxes := benchTenant.Mailboxes()
	post := func(mb, body string) *node {
		req, _ := http.NewRequest(http.MethodPost, srv.EWSURL(), strings.NewReader(soapEnvelope(mb, body)))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("X-AnchorMailbox", mb)
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		root, err := parseXML(bytes.NewReader(raw))
		if err != nil || resp.StatusCode != 200 {
			b.Errorf("status %d: %v", resp.StatusCode, err)
			return nil
		}
		return root
	}
	var next, items atomic.Int64
	before := srv.Stats()
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.SetParallelism(8) // × GOMAXPROCS concurrent mailboxes, as an engine would run them
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mb := boxes[int(next.Add(1))%len(boxes)]
			state := ""
			var ids []string
			for {
				root := post(mb, syncRequest(state, 512, "IdOnly"))
				if root == nil {
					return
				}
				msg := ewsResult{root: root}.messages()[0]
				for _, c := range msg.child(nsMessages, "Changes").Children {
					if ci := c.child(nsTypes, "CalendarItem"); ci != nil {
						ids = append(ids, itemIDXML(ci.child(nsTypes, "ItemId").attr("Id")))
					}
				}
				state = msg.child(nsMessages, "SyncState").text()
				if msg.child(nsMessages, "IncludesLastItemInRange").text() == "true" {
					break
				}
			}
			for i := 0; i < len(ids); i += 10 {
				post(mb, getItemRequest(ids[i:min(i+10, len(ids))]...))
			}
			items.Add(int64(len(ids)))
		}
	})
	b.StopTimer()
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	after := srv.Stats()
	reqs := after.EWSExternal - before.EWSExternal
	if reqs == 0 {
		return
	}
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(after.HandlerNanos-before.HandlerNanos)/float64(reqs)/1e3, "handler-µs/req")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(reqs)/1e3, "process-cpu-µs/req")
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(items.Load())/float64(b.N), "items/mailbox")
}

// BenchmarkHandler measures the emulator's own cost per request, without
// network, latency or client: ServeHTTP on a recorder, 200 × 500 tenant.
func BenchmarkHandler(b *testing.B) {
	benchOnce.Do(func() {
		benchTenant = tenant.Generate(tenant.Config{Seed: 3, Mailboxes: 200, Events: 500, Now: testNow})
	})
	srv := New(Options{Tenant: benchTenant, TenantID: testTenantID, ClientID: testClientID, ClientSecret: testSecret, Seed: 3})
	defer srv.Close()
	tok, _ := srv.issueToken("1")
	mb := benchTenant.Mailboxes()[17]
	var ids []string
	for _, it := range benchTenant.Items(mb)[:10] {
		ids = append(ids, itemIDXML(it.ID))
	}
	start := testNow
	for _, bc := range []struct{ name, body string }{
		{"SyncFolderItems512", syncRequest("", 512, "IdOnly")},
		{"GetItem10", getItemRequest(ids...)},
		{"CalendarView1Month", calendarViewRequest(start, start.AddDate(0, 1, 0), 0)},
		{"GetFolder", getFolderCalendar},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := soapEnvelope(mb, bc.body)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, ewsPath, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("X-AnchorMailbox", mb)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
