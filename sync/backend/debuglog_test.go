package backend_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/engine"
)

// TestDebugLogCoversEveryExchange: with the protocol debug log on, a sync
// and a streaming spell write autodiscover's SOAP exchange and every EWS
// operation the engine uses, and neither the client secret, the access
// token, nor any cookie value.
func TestDebugLogCoversEveryExchange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2, 5, nil)
	path := filepath.Join(t.TempDir(), "ews-debug.log")
	f.settings.DebugLog = path
	b := f.backend(t)
	tok, err := b.Tokens.Token()
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	cfg.PollInterval, cfg.StreamingPollInterval = time.Hour, time.Hour
	e := engine.New(cfg, f.deps(b))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	waitStatus(t, e, "first sync with streaming up", func(s engine.Status) bool { return s.State == engine.StateIdle && s.Streaming })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	b.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	for _, want := range []string{
		"autodiscover soap request\nPOST ", "GetUserSettingsRequestMessage", "autodiscover soap response\n200 OK", "GroupingInformation",
		"SyncFolderItems request", "SyncFolderItems response", "GetItem request", "GetItem response",
		"Subscribe request", "Subscribe response", "GetStreamingEvents request", "GetStreamingEvents response (streaming)",
		"Unsubscribe request", "Unsubscribe response",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("got a debug log without %q", want)
		}
	}
	for _, leak := range []string{f.settings.ClientSecret, tok.AccessToken, "eyJ"} {
		if strings.Contains(log, leak) {
			t.Errorf("got %.20q… in the debug log, want it absent", leak)
		}
	}
	// Cookie values (the affinity cookie included) are never written.
	if m := regexp.MustCompile(`(?mi)^(?:Set-)?Cookie: [^=]+=[^\[].*$`).FindString(log); m != "" {
		t.Errorf("got cookie line %q in the debug log, want its value redacted", m)
	}
	if !strings.Contains(log, "X-BackEndOverrideCookie=[REDACTED]") {
		t.Errorf("got a debug log without the (redacted) affinity cookie; the check above saw no cookie at all")
	}
}
