package backend_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/store"
)

// Benchmark shape (docs/PERFORMANCE.md): 200 mailboxes × 500 items at 25 ms
// added latency; EXOCAL_BENCH_MAILBOXES / _EVENTS / _LATENCY override it.
// EXOCAL_BENCH_PRIVACY=free-busy runs BenchmarkFullSync under privacy
// free-busy (GetItem asks for busy blocks only) instead of full.
func benchShape() (mailboxes, events int, latency time.Duration) {
	mailboxes, events, latency = 200, 500, 25*time.Millisecond
	if v, err := strconv.Atoi(os.Getenv("EXOCAL_BENCH_MAILBOXES")); err == nil && v > 0 {
		mailboxes = v
	}
	if v, err := strconv.Atoi(os.Getenv("EXOCAL_BENCH_EVENTS")); err == nil && v > 0 {
		events = v
	}
	if v, err := time.ParseDuration(os.Getenv("EXOCAL_BENCH_LATENCY")); err == nil {
		latency = v
	}
	return
}

// benchQuiet is the streaming no-change measurement: the http.Client
// Timeout of the backend under test (EXOCAL_BENCH_CLIENT_TIMEOUT, default
// 2 s) and the quiet spell (EXOCAL_BENCH_QUIET, default 3 × that), so that
// a streaming connection cut by the client's Timeout cannot go unseen.
func benchQuiet() (timeout, quiet time.Duration) {
	timeout = 2 * time.Second
	if v, err := time.ParseDuration(os.Getenv("EXOCAL_BENCH_CLIENT_TIMEOUT")); err == nil && v > 0 {
		timeout = v
	}
	quiet = 3 * timeout
	if v, err := time.ParseDuration(os.Getenv("EXOCAL_BENCH_QUIET")); err == nil && v > 0 {
		quiet = v
	}
	return timeout, quiet
}

func benchPrivacy() string {
	if p := os.Getenv("EXOCAL_BENCH_PRIVACY"); p != "" {
		return p
	}
	return "full"
}

// getItemParallel is ews.Source's default number of GetItem batches in
// flight per mailbox; with the engine's workers it makes the number of
// round trips that can overlap.
const getItemParallel = 2

// BenchmarkFullSync runs a full sync of every mailbox in process (client
// and emulator share the process, so RSS is measured by
// BenchmarkFullSyncExec), then a no-change cycle with polling (a second
// SyncOnce) and with streaming (Serve with the watcher up, no poll due, a
// quiet spell longer than the http.Client's Timeout; see benchQuiet).
func BenchmarkFullSync(b *testing.B) {
	nm, ne, latency := benchShape()
	tn := tenant.Generate(tenant.Config{Seed: 1, Mailboxes: nm, Events: ne, Now: time.Now()})
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: "8c1b5f7e-3a2d-4e6f-9b0a-1c2d3e4f5a6b",
		ClientID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", ClientSecret: "bench~secret", Latency: latency, Seed: 1})
	if err := srv.Start(""); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := newCounter()
		dir := b.TempDir()
		st, err := store.Open(filepath.Join(dir, "state.db"), 0)
		if err != nil {
			b.Fatal(err)
		}
		bk, err := backend.New(context.Background(), backend.Settings{
			AuthorityHost: srv.URL(), TenantID: "8c1b5f7e-3a2d-4e6f-9b0a-1c2d3e4f5a6b", ClientID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
			ClientSecret: "bench~secret", User: tn.Mailboxes()[0], AutodiscoverURL: srv.URL(), ExchangeServer: "external",
			MaxSubscriptionsPerConnection: 200, HTTPClient: &http.Client{Transport: c},
		})
		if err != nil {
			b.Fatal(err)
		}
		cfg := engine.Config{Mailboxes: tn.Mailboxes(), ExportDir: filepath.Join(dir, "ics"), WindowPastDays: 30, WindowFutureDays: 365,
			Privacy: benchPrivacy()}
		deps := engine.Deps{Source: bk.Source, Watcher: bk.Watcher, Store: st, Sink: backend.ICSSink{}}
		setup := c.snapshot()
		b.StartTimer()

		t0 := time.Now()
		res := engine.SyncOnce(context.Background(), cfg, deps)
		elapsed := time.Since(t0)

		b.StopTimer()
		for _, r := range res {
			if r.Err != nil {
				b.Fatalf("%s: %v", r.Mailbox, r.Err)
			}
		}
		ops := c.snapshot()
		reqs := 0
		for op, n := range ops {
			reqs += n - setup[op]
		}
		par := engine.DefaultConcurrency * getItemParallel
		bound := time.Duration(reqs) * latency / time.Duration(par)
		b.ReportMetric(elapsed.Seconds(), "sync-s")
		b.ReportMetric(float64(reqs), "requests")
		b.ReportMetric(float64(ops["SyncFolderItems"]-setup["SyncFolderItems"]), "SyncFolderItems")
		b.ReportMetric(float64(ops["GetItem"]-setup["GetItem"]), "GetItem")
		b.ReportMetric(float64(c.received.Load())/1e6, "MB-received")
		b.ReportMetric(float64(c.sent.Load())/1e6, "MB-sent")
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(elapsed.Seconds()/bound.Seconds(), "ratio")
		if fi, err := os.Stat(st.Path()); err == nil {
			b.ReportMetric(float64(fi.Size())/1e6, "MB-state-db")
		}

		// No-change cycle, polling: one SyncOnce more.
		before := c.snapshot()
		for _, r := range engine.SyncOnce(context.Background(), cfg, deps) {
			if r.Err != nil || r.Changes != 0 {
				b.Fatalf("no-change poll %s: %+v", r.Mailbox, r)
			}
		}
		after := c.snapshot()
		poll := 0
		for op, n := range after {
			poll += n - before[op]
		}
		b.ReportMetric(float64(poll)/float64(nm), "poll-req/mailbox")

		// No-change cycle, streaming: Serve with the watcher up and a quiet
		// spell longer than the http.Client's Timeout, through a backend
		// whose client has a short Timeout (benchQuiet) — ExoCal's default
		// client has 60 s, and a streaming connection that such a timeout
		// cuts shows here as reconnects and re-syncs. Every request counts:
		// Subscribe and GetStreamingEvents reconnects, tokens, all of it.
		timeout, quietFor := benchQuiet()
		sbk, err := backend.New(context.Background(), backend.Settings{
			AuthorityHost: srv.URL(), TenantID: "8c1b5f7e-3a2d-4e6f-9b0a-1c2d3e4f5a6b", ClientID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
			ClientSecret: "bench~secret", User: tn.Mailboxes()[0], AutodiscoverURL: srv.URL(), ExchangeServer: "external",
			MaxSubscriptionsPerConnection: 200, HTTPClient: &http.Client{Transport: c, Timeout: timeout},
		})
		if err != nil {
			b.Fatal(err)
		}
		cfg.PollInterval, cfg.Concurrency = time.Hour, engine.DefaultConcurrency
		e := engine.New(cfg, engine.Deps{Source: sbk.Source, Watcher: sbk.Watcher, Store: st, Sink: backend.ICSSink{}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Serve(ctx) }()
		ch, unsub := e.Subscribe()
		deadline := time.After(5 * time.Minute)
	wait:
		for {
			select {
			case s := <-ch:
				if s.State == engine.StateIdle && s.Streaming {
					break wait
				}
			case <-deadline:
				b.Fatal("streaming did not come up")
			}
		}
		unsub()
		time.Sleep(time.Second) // the start-up cycle's last replies
		before = c.snapshot()
		s0 := srv.Stats()
		time.Sleep(quietFor)
		after = c.snapshot()
		s1 := srv.Stats()
		quiet := 0
		for op, n := range after {
			quiet += n - before[op]
		}
		cancel()
		<-done
		b.ReportMetric(float64(quiet)/float64(nm), "stream-req/mailbox")
		b.ReportMetric(float64(s1.Requests-s0.Requests), "stream-requests")
		b.ReportMetric(float64(after["SyncFolderItems"]-before["SyncFolderItems"]), "stream-SyncFolderItems")
		b.ReportMetric(float64(s1.StreamsTotal-s0.StreamsTotal), "stream-reconnects")
		b.ReportMetric(quietFor.Seconds(), "quiet-s")
		sbk.Close()
		bk.Close()
		st.Close()
	}
}

// BenchmarkFullSyncExec runs the shipped binary: `exocal emulator` in one
// process and `exocal sync --once` in another, and reports the sync's wall
// time, requests (from the emulator's counters) and peak RSS (the child's
// rusage ru_maxrss), then the requests of a second, no-change run. It needs
// the binary: EXOCAL_BIN, or bin/exocal (`make build`).
func BenchmarkFullSyncExec(b *testing.B) {
	bin := os.Getenv("EXOCAL_BIN")
	if bin == "" {
		bin = filepath.Join(testenv.RepoRoot(), "bin", "exocal")
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(b, "no exocal binary at "+bin, "run `make build` or set EXOCAL_BIN")
	}
	nm, ne, latency := benchShape()
	emu := exec.Command(bin, "emulator", "--mailboxes", strconv.Itoa(nm), "--events", strconv.Itoa(ne), "--latency", latency.String(), "--seed", "1")
	out, err := emu.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { emu.Process.Signal(syscall.SIGTERM); emu.Wait() }()
	var info struct {
		URL          string   `json:"url"`
		TenantID     string   `json:"tenant_id"`
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Mailboxes    []string `json:"mailboxes"`
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		b.Fatalf("emulator: %v", err)
	}
	if err := json.Unmarshal(line, &info); err != nil {
		b.Fatalf("emulator line %q: %v", line, err)
	}
	stats := func() emulator.Stats {
		resp, err := http.Get(info.URL + "/_emulator/stats")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var s emulator.Stats
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			b.Fatal(err)
		}
		return s
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		cfgDir := filepath.Join(dir, "config", "exocal")
		os.MkdirAll(cfgDir, 0o700)
		mbs, _ := json.Marshal(info.Mailboxes)
		cfg := fmt.Sprintf(`{"version":1,"sync_type":"ews","user":%q,"mailboxes":%s,"authority_host":%q,"autodiscover_url":%q,"export_dir":%q}`,
			info.Mailboxes[0], mbs, info.URL, info.URL, filepath.Join(dir, "ics"))
		if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(cfg), 0o600); err != nil {
			b.Fatal(err)
		}
		env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
			"XDG_DATA_HOME="+filepath.Join(dir, "data"), "EXOCAL_TENANT_ID="+info.TenantID, "EXOCAL_CLIENT_ID="+info.ClientID,
			"EXOCAL_CLIENT_SECRET="+info.ClientSecret)
		run := func() (time.Duration, int64, int64, time.Duration) {
			s0 := stats()
			cmd := exec.Command(bin, "sync", "--once")
			cmd.Env = env
			t0 := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("exocal sync --once: %v\n%.2000s", err, out)
			}
			el := time.Since(t0)
			s1 := stats()
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
			return el, s1.Requests - s0.Requests, rss, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ResetTimer()
		el, reqs, rss, cpu := run()
		b.StopTimer()
		b.ReportMetric(el.Seconds(), "sync-s")
		b.ReportMetric(cpu.Seconds(), "client-cpu-s")
		b.ReportMetric(float64(reqs), "requests")
		b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
		// The bound: the requests × latency ÷ the round trips that can
		// overlap (engine workers × GetItem batches in flight per mailbox).
		bound := time.Duration(reqs) * latency / time.Duration(engine.DefaultConcurrency*getItemParallel)
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(el.Seconds()/bound.Seconds(), "ratio")
		el2, reqs2, rss2, _ := run()
		b.ReportMetric(el2.Seconds(), "nochange-s")
		b.ReportMetric(float64(reqs2), "nochange-requests")
		b.ReportMetric(float64(rss2)/1024, "nochange-RSS-MB")
	}
}
