package check

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

const (
	emuTenantID = "5d1c0a2b-3e4f-4a5b-8c6d-7e8f90a1b2c3"
	emuClientID = "9b8a7c6d-5e4f-4321-8fed-cba987654321"
	emuSecret   = "Qz7~check-test-secret-value.AbCdEf0123456789"
)

type tokenRecorder = testenv.TokenRecorder

// fixture is an emulated tenant and an Input pointing at it.
type fixture struct {
	srv       *emulator.Server
	mailboxes []string
	in        Input
	rec       *tokenRecorder
}

func newFixture(t *testing.T, emuMod func(*emulator.Options)) *fixture {
	t.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 5, Mailboxes: 3, Events: 4, Now: time.Now()})
	opts := emulator.Options{Tenant: tn, TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: emuSecret, Seed: 5,
		Heartbeat: 200 * time.Millisecond}
	if emuMod != nil {
		emuMod(&opts)
	}
	srv := emulator.New(opts)
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rec := testenv.NewTokenRecorder(&http.Transport{})
	return &fixture{srv: srv, mailboxes: tn.Mailboxes(), rec: rec,
		in: baseInput(t, tn.Mailboxes(), srv.URL(), &http.Client{Transport: rec})}
}

// baseInput is a valid Input for these mailboxes (the first is the User),
// with the registration in a memory store and everything pointing at url.
func baseInput(t *testing.T, mbs []string, url string, hc *http.Client) Input {
	t.Helper()
	s := config.Defaults()
	s.SyncType = config.SyncEWS
	s.User = mbs[0]
	s.Mailboxes = append([]string(nil), mbs...)
	s.AutodiscoverURL = url
	s.AuthorityHost = url
	s.ExportDir = t.TempDir()
	store := secrets.NewMemory()
	if err := store.Set(context.Background(), secrets.DefaultProfile,
		secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: emuSecret}); err != nil {
		t.Fatal(err)
	}
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{}}
	}
	return Input{
		Settings: s, Store: store, HTTPClient: hc,
		Getenv: func(string) string { return "" }, StepTimeout: 10 * time.Second,
	}
}

// setRegistration replaces the stored registration.
func (f *fixture) setRegistration(t *testing.T, mod func(*secrets.Registration)) {
	t.Helper()
	r := secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: emuSecret}
	mod(&r)
	if err := f.in.Store.Set(context.Background(), secrets.DefaultProfile, r); err != nil {
		t.Fatal(err)
	}
}

var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)

// assertNoSecrets checks every output of a report for the secrets, the
// recorded tokens and anything JWT-shaped.
func assertNoSecrets(t *testing.T, rep Report, secretsToFind []string, tokens []string) {
	t.Helper()
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"text": text.String(), "json": string(js), "details": rep.Details()}
	for name, out := range outputs {
		for _, s := range secretsToFind {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("%s output contains the secret %q:\n%s", name, s, out)
			}
		}
		for _, tok := range tokens {
			if strings.Contains(out, tok) {
				t.Errorf("%s output contains an access token", name)
			}
			// A token's signature alone is secret enough to matter.
			if i := strings.LastIndexByte(tok, '.'); i > 0 && len(tok)-i > 16 && strings.Contains(out, tok[i+1:]) {
				t.Errorf("%s output contains an access token's signature", name)
			}
		}
		if m := jwtShape.FindString(out); m != "" {
			t.Errorf("%s output contains a JWT-shaped string %q", name, m)
		}
	}
}

// assertWording checks that the step's finding and fix contain the words.
func assertWording(t *testing.T, s Step, finding, fix []string) {
	t.Helper()
	for _, w := range finding {
		if !strings.Contains(s.Finding, w) {
			t.Errorf("finding: got %q, want %q in it", s.Finding, w)
		}
	}
	for _, w := range fix {
		if !strings.Contains(s.Fix, w) {
			t.Errorf("fix: got\n%s\nwant %q in it", s.Fix, w)
		}
	}
}

func stepsSummary(rep Report) string {
	var b strings.Builder
	for _, s := range rep.Steps {
		b.WriteString("  " + s.ID + " " + s.State.String() + " " + string(s.Cause) + ": " + s.Finding + "\n")
	}
	return b.String()
}
