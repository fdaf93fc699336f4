package emulator

import (
	"errors"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[0]
	e.token = e.getToken()
	body := soapEnvelope(mb, getFolderCalendar)
	send := func() (*http.Response, []byte, error) {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+ewsPath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("X-AnchorMailbox", mb)
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := e.client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	// statuses sends n requests and returns their HTTP statuses.
	statuses := func(t *testing.T, n int) []int {
		t.Helper()
		var got []int
		for range n {
			resp, _, err := send()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, resp.StatusCode)
		}
		return got
	}
	t.Run("server busy", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: FaultServerBusy, EveryN: 1, BackOff: 1500 * time.Millisecond})
		defer e.srv.SetFaults(Faults{})
		resp, b, err := send()
		if err != nil {
			t.Fatal(err)
		}
		root, _ := parseXML(strings.NewReader(string(b)))
		res := ewsResult{root: root}
		if resp.StatusCode != 500 || res.faultCode() != "ErrorServerBusy" {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
		v := root.path(nsSOAP, "Body", "Fault").child("", "detail").child(nsTypes, "MessageXml").child(nsTypes, "Value")
		if v.attr("Name") != "BackOffMilliseconds" || v.text() != "1500" {
			t.Errorf("BackOffMilliseconds: got %s=%s, want 1500", v.attr("Name"), v.text())
		}
		if fc := root.path(nsSOAP, "Body", "Fault").child("", "faultcode").text(); fc != "a:ErrorServerBusy" {
			t.Errorf("faultcode: got %q", fc)
		}
	})
	for _, tt := range []struct {
		kind   FaultKind
		status int
	}{{Fault503, 503}, {Fault429, 429}} {
		t.Run(string(tt.kind), func(t *testing.T) {
			e.srv.SetFaults(Faults{Kind: tt.kind, EveryN: 1, RetryAfter: 3 * time.Second})
			defer e.srv.SetFaults(Faults{})
			resp, _, err := send()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != "3" {
				t.Errorf("got %d Retry-After %q, want %d and 3", resp.StatusCode, resp.Header.Get("Retry-After"), tt.status)
			}
		})
	}
	t.Run("every Nth", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: Fault503, EveryN: 3})
		defer e.srv.SetFaults(Faults{})
		got := statuses(t, 6)
		if want := []int{200, 200, 503, 200, 200, 503}; !equalInts(got, want) {
			t.Errorf("statuses: got %v, want %v", got, want)
		}
	})
	t.Run("probability is deterministic by seed", func(t *testing.T) {
		run := func() []int {
			e.srv.mu.Lock()
			e.srv.rng = mrand.New(mrand.NewPCG(7, 0x45786f43616c))
			e.srv.mu.Unlock()
			e.srv.SetFaults(Faults{Kind: Fault503, Probability: 0.5})
			defer e.srv.SetFaults(Faults{})
			return statuses(t, 8)
		}
		a, b := run(), run()
		if !equalInts(a, b) {
			t.Errorf("two runs: got %v and %v, want equal", a, b)
		}
	})
	t.Run("reset", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: FaultReset, EveryN: 1})
		defer e.srv.SetFaults(Faults{})
		if _, _, err := send(); err == nil {
			t.Error("got an answer, want a connection error")
		}
	})
	t.Run("truncate", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: FaultTruncate, EveryN: 1})
		defer e.srv.SetFaults(Faults{})
		_, _, err := send()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("got %v, want unexpected EOF", err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: FaultSlow, EveryN: 1, SlowDelay: 10 * time.Millisecond})
		defer e.srv.SetFaults(Faults{})
		resp, b, err := send()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), "CalendarFolder") {
			t.Errorf("slow answer: got %v %v", err, resp)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: FaultRevoke, EveryN: 1})
		resp, _, err := send()
		e.srv.SetFaults(Faults{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("x-ms-diagnostics"), "revoked") {
			t.Errorf("got %d %q, want 401 revoked", resp.StatusCode, resp.Header.Get("x-ms-diagnostics"))
		}
		e.token = e.getToken()
		if resp, _, err := send(); err != nil || resp.StatusCode != 200 {
			t.Errorf("new token after revocation: got %v %v", err, resp)
		}
	})
	t.Run("operation filter", func(t *testing.T) {
		e.srv.SetFaults(Faults{Kind: Fault503, EveryN: 1, Operations: []string{"GetItem"}})
		defer e.srv.SetFaults(Faults{})
		if resp, _, err := send(); err != nil || resp.StatusCode != 200 {
			t.Errorf("GetFolder with a GetItem-only fault: got %v %v", err, resp)
		}
	})
	t.Run("latency", func(t *testing.T) {
		e.srv.SetLatency(30 * time.Millisecond)
		defer e.srv.SetLatency(0)
		start := time.Now()
		if _, _, err := send(); err != nil {
			t.Fatal(err)
		}
		// A lower bound only: the server sleeps at least this long.
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Errorf("round trip: got %v, want at least 30ms", d)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mb := e.srv.Tenant().Mailboxes()[0]
	before := len(e.srv.Tenant().Items(mb))
	resp, err := e.client.Post(e.ts.URL+"/_emulator/items/"+mb, "application/json",
		strings.NewReader(`{"Subject":"Via admin","Start":"2026-12-01T10:00:00Z","End":"2026-12-01T11:00:00Z","StartTimeZone":"UTC","EndTimeZone":"UTC","FreeBusy":"Busy","Sensitivity":"Normal"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || len(e.srv.Tenant().Items(mb)) != before+1 {
		t.Fatalf("add: got %d, items %d -> %d", resp.StatusCode, before, len(e.srv.Tenant().Items(mb)))
	}
	resp, err = e.client.Get(e.ts.URL + "/_emulator/truth?start=2026-11-01T00:00:00Z&end=2027-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"Via admin"`) || !strings.Contains(string(b), `"view"`) {
		t.Errorf("truth: got %d %.200s", resp.StatusCode, b)
	}
}
