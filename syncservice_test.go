package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/sync/backend"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/ui/tray"
)

// fakeCore stands in for *app.App.
type fakeCore struct {
	mu        sync.Mutex
	settings  config.Settings
	paused    bool
	published []app.Status
}

func (c *fakeCore) Settings() config.Settings { c.mu.Lock(); defer c.mu.Unlock(); return c.settings }
func (c *fakeCore) Paused() bool              { c.mu.Lock(); defer c.mu.Unlock(); return c.paused }
func (c *fakeCore) Publish(s app.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.published = append(c.published, s)
}

func (c *fakeCore) last() app.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.published) == 0 {
		return app.Status{}
	}
	return c.published[len(c.published)-1]
}

func waitCore(t *testing.T, c *fakeCore, what string, ok func(app.Status) bool) app.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s := c.last(); ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last %+v", what, c.last())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSyncServiceWiring drives syncService as app.App would: it syncs the
// configured mailboxes, follows a settings change (new export folder) with
// an engine reload, pauses, and rebuilds the backend when the registration
// changes (here: a wrong secret, reported as an error).
func TestSyncServiceWiring(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	tn := tenant.Generate(tenant.Config{Seed: 2, Mailboxes: 3, Events: 10, Now: time.Now()})
	reg := secrets.Registration{TenantID: "8c1b5f7e-3a2d-4e6f-9b0a-1c2d3e4f5a6b", ClientID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", ClientSecret: "svc~secret"}
	srv := emulator.New(emulator.Options{Tenant: tn, TenantID: reg.TenantID, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	s := config.Defaults()
	s.User, s.Mailboxes = tn.Mailboxes()[0], tn.Mailboxes()
	s.AuthorityHost, s.AutodiscoverURL = srv.URL(), srv.URL()
	s.ExportDir = filepath.Join(t.TempDir(), "a")
	core := &fakeCore{settings: s}
	store := secrets.NewMemory() // empty: not set up yet
	svc := newSyncService(store, newLogger(&bytes.Buffer{}, false))
	svc.core = core
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	// Not set up: the service waits (the app shows "not set up" itself)
	// until a Reload brings the registration.
	time.Sleep(100 * time.Millisecond)
	core.mu.Lock()
	n := len(core.published)
	core.mu.Unlock()
	if n != 0 {
		t.Fatalf("got %d statuses before the registration exists, want none", n)
	}
	store.Set(context.Background(), secrets.DefaultProfile, reg)
	svc.Reload()
	st := waitCore(t, core, "first sync", func(s app.Status) bool { return s.State == app.StateIdle && len(s.Mailboxes) == 3 })
	if st.Mailboxes[0].Items == 0 || st.Mailboxes[0].LastSync.IsZero() {
		t.Fatalf("mailbox status: got %+v, want items and a last sync", st.Mailboxes[0])
	}
	for _, mb := range tn.Mailboxes() {
		if _, err := os.Stat(filepath.Join(s.ExportDir, mb+".ics")); err != nil {
			t.Fatalf("first sync: %v", err)
		}
	}

	// A new export folder: an engine reload re-renders there.
	s2 := s
	s2.ExportDir = filepath.Join(t.TempDir(), "b")
	core.mu.Lock()
	core.settings = s2
	core.mu.Unlock()
	svc.Reload()
	waitCore(t, core, "files in the new folder", func(st app.Status) bool {
		_, err := os.Stat(filepath.Join(s2.ExportDir, tn.Mailboxes()[2]+".ics"))
		return err == nil && st.State == app.StateIdle
	})

	core.mu.Lock()
	core.paused = true
	core.mu.Unlock()
	svc.Reload()
	waitCore(t, core, "paused", func(st app.Status) bool { return st.State == app.StatePaused })

	// A wrong secret rebuilds the backend, which fails: an error status.
	store.Set(context.Background(), secrets.DefaultProfile, secrets.Registration{TenantID: reg.TenantID, ClientID: reg.ClientID, ClientSecret: "wrong"})
	core.mu.Lock()
	core.paused = false
	core.mu.Unlock()
	svc.Reload()
	st = waitCore(t, core, "an error for the wrong secret", func(st app.Status) bool { return st.State == app.StateError })
	if !strings.Contains(st.Err, "AADSTS7000215") || strings.HasPrefix(st.Err, "backend:") {
		t.Fatalf("error status: got %q, want exocal check's sentence for a wrong secret", st.Err)
	}
	if st.Err == "" || st.Fix == "" || strings.Contains(st.Err, "\n") {
		t.Errorf("error status: got Err %q, Fix %q; want the finding and its fix apart (a setup error)", st.Err, st.Fix)
	}
	if got := tray.Headline(st, time.Now()); !strings.HasSuffix(got, tray.OpenSettingsToFix) || strings.Contains(got, "\n") {
		t.Errorf("tray's first line: got %q, want the finding ending in %q", got, tray.OpenSettingsToFix)
	}
}

func TestToAppStatus(t *testing.T) {
	t.Parallel()
	boom := errors.New("ews: SyncFolderItems for a@x: HTTP 503")
	es := engine.Status{State: engine.StateWarning, Err: boom, Done: 1, Total: 2, Mailboxes: []engine.MailboxStatus{
		{Address: "a@x", State: engine.MailboxError, Err: boom},
		{Address: "b@x", State: engine.MailboxIdle, Exported: 7},
		{Address: "c@x", State: engine.MailboxQueued},
	}}
	st := toAppStatus(es, nil)
	if st.State != app.StateWarning || st.Done != 1 || st.Total != 2 || st.Err != "SyncFolderItems for a@x: HTTP 503" {
		t.Fatalf("got %+v, want warning 1/2 with the sentence", st)
	}
	want := []app.State{app.StateError, app.StateIdle, app.StateSyncing}
	for i, m := range st.Mailboxes {
		if m.State != want[i] {
			t.Errorf("mailbox %d: got %v, want %v", i, m.State, want[i])
		}
	}
	if st.Mailboxes[1].Items != 7 {
		t.Errorf("items: got %d, want 7", st.Mailboxes[1].Items)
	}
}

func TestToAppStatusStreaming(t *testing.T) {
	t.Parallel()
	down := errors.New("ews: GetStreamingEvents: subscription expired")
	tests := []struct {
		name          string
		es            engine.Status
		streaming     bool
		streamingDown int
		streamErr     string
		live          []bool
	}{
		{"all live", engine.Status{State: engine.StateIdle, Streaming: true, PollInterval: 5 * time.Minute, Mailboxes: []engine.MailboxStatus{
			{Address: "a@x", State: engine.MailboxIdle, Streaming: true}, {Address: "b@x", State: engine.MailboxIdle, Streaming: true}}},
			true, 0, "", []bool{true, true}},
		{"one down", engine.Status{State: engine.StateIdle, StreamingDown: 1, StreamErr: down, PollInterval: 5 * time.Minute, Mailboxes: []engine.MailboxStatus{
			{Address: "a@x", State: engine.MailboxIdle, Streaming: true}, {Address: "b@x", State: engine.MailboxIdle}}},
			false, 1, "Subscription expired", []bool{true, false}},
		{"no watcher", engine.Status{State: engine.StateIdle, PollInterval: time.Minute, Mailboxes: []engine.MailboxStatus{
			{Address: "a@x", State: engine.MailboxIdle}}},
			false, 0, "", []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := toAppStatus(tt.es, nil)
			if st.Streaming != tt.streaming || st.StreamingDown != tt.streamingDown || st.StreamErr != tt.streamErr || st.PollInterval != tt.es.PollInterval {
				t.Errorf("got streaming %v, down %d, err %q, poll %v; want %v, %d, %q, %v",
					st.Streaming, st.StreamingDown, st.StreamErr, st.PollInterval, tt.streaming, tt.streamingDown, tt.streamErr, tt.es.PollInterval)
			}
			for i, m := range st.Mailboxes {
				if m.Streaming != tt.live[i] {
					t.Errorf("mailbox %s: got streaming %v, want %v", m.Address, m.Streaming, tt.live[i])
				}
			}
		})
	}
}

func TestPrintResultsExitCodes(t *testing.T) {
	t.Parallel()
	ok := engine.Result{Mailbox: "a@x", Exported: 3}
	fail := engine.Result{Mailbox: "b@x", Err: errors.New("engine: sync b@x: reset")}
	authFail := engine.Result{Mailbox: "c@x", Err: &backend.SetupError{Step: "token", Err: errors.New("invalid secret")}}
	for _, tt := range []struct {
		name    string
		results []engine.Result
		want    int
	}{
		{"all ok", []engine.Result{ok}, exitOK},
		{"one failed", []engine.Result{ok, fail}, exitFailed},
		{"all failed, not auth", []engine.Result{fail}, exitFailed},
		{"all failed, auth", []engine.Result{authFail, authFail}, exitSetup},
		{"some failed, auth", []engine.Result{ok, authFail}, exitFailed},
	} {
		var buf bytes.Buffer
		if got := printResults(&buf, "/out", tt.results, nil); got != tt.want {
			t.Errorf("%s: got exit %d, want %d", tt.name, got, tt.want)
		}
		if lines := strings.Count(buf.String(), "\n"); lines != len(tt.results) {
			t.Errorf("%s: got %d lines, want one per mailbox:\n%s", tt.name, lines, buf.String())
		}
	}
	var buf bytes.Buffer
	printResults(&buf, "/out", []engine.Result{ok}, nil)
	if got, want := buf.String(), "a@x  ok     3 events  → /out/a@x.ics\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPublishNotifiesOncePerError: a desktop notification when the
// settled state turns to error, not for each error status, nor for an
// error that stays through retries (syncing) or pauses.
func TestPublishNotifiesOncePerError(t *testing.T) {
	t.Parallel()
	core := &fakeCore{}
	var got []string
	svc := newSyncService(secrets.NewMemory(), newLogger(&bytes.Buffer{}, false))
	svc.core = core
	svc.notify = func(title, body string) { got = append(got, title+": "+body) }
	for _, st := range []app.Status{
		{State: app.StateSyncing},
		{State: app.StateIdle},
		{State: app.StateError, Err: "Entra rejected the client secret.", Fix: "Create a new one."},
		{State: app.StateError, Err: "Entra rejected the client secret.", Fix: "Create a new one."},
		{State: app.StateSyncing},
		{State: app.StateError, Err: "Entra rejected the client secret.", Fix: "Create a new one."},
		{State: app.StatePaused},
		{State: app.StateError, Err: "Still."},
		{State: app.StateWarning, Err: "One mailbox fails."},
		{State: app.StateError},
	} {
		svc.publish(st)
	}
	want := "ExoCal: syncing stopped: Entra rejected the client secret. Create a new one.|ExoCal: syncing stopped: Open Settings to check the setup."
	if s := strings.Join(got, "|"); s != want {
		t.Errorf("notifications:\ngot  %q,\nwant %q", s, want)
	}
	if n := len(core.published); n != 10 {
		t.Errorf("published: got %d statuses, want all 10", n)
	}
}

func TestExplanationWords(t *testing.T) {
	t.Parallel()
	boom := errors.New("auth: token: boom")
	for _, tt := range []struct {
		name      string
		ex        check.Explanation
		want, fix string
	}{
		{"setup: finding and fix apart", check.Explanation{Finding: "The secret  expired.", Fix: "Create a new\none.", Setup: true}, "The secret expired.", "Create a new one."},
		{"not setup: one sentence", check.Explanation{Finding: "Cannot connect.", Fix: "Check the network."}, "Cannot connect. Check the network.", ""},
		{"setup without a fix", check.Explanation{Finding: "Consent missing.", Setup: true}, "Consent missing.", ""},
		{"unknown error", check.Explanation{}, "Boom", ""},
	} {
		if got, fix := explanationWords(tt.ex, boom); got != tt.want || fix != tt.fix {
			t.Errorf("%s: got %q, %q; want %q, %q", tt.name, got, fix, tt.want, tt.fix)
		}
	}
}

func TestWithExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	idle := app.Status{State: app.StateIdle, Mailboxes: []app.MailboxStatus{{Address: "a@x"}}}
	for _, tt := range []struct {
		name    string
		st      app.Status
		expires time.Time
		state   app.State
		err     string
		fix     string
	}{
		{"no date", idle, time.Time{}, app.StateIdle, "", ""},
		{"far away", idle, now.Add(60 * day), app.StateIdle, "", ""},
		{"a week before", idle, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), app.StateWarning,
			"The client secret expires on 2026-12-05 (in 7 day(s)).", "Create a new one in Entra and paste its Value in Settings."},
		{"expired", idle, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), app.StateWarning,
			"The client secret expired on 2026-11-01.", "Create a new one in Entra and paste its Value in Settings."},
		{"an error keeps its reason", app.Status{State: app.StateError, Err: "Rejected."}, now.Add(-day), app.StateError, "Rejected.", ""},
		{"syncing stays syncing", app.Status{State: app.StateSyncing}, now.Add(-day), app.StateSyncing, "", ""},
	} {
		got := withExpiry(tt.st, tt.expires, now)
		if got.State != tt.state || got.Err != tt.err || got.Fix != tt.fix {
			t.Errorf("%s: got %v %q %q, want %v %q %q", tt.name, got.State, got.Err, got.Fix, tt.state, tt.err, tt.fix)
		}
		if len(got.Mailboxes) != len(tt.st.Mailboxes) {
			t.Errorf("%s: got %d mailboxes, want %d", tt.name, len(got.Mailboxes), len(tt.st.Mailboxes))
		}
	}
}
