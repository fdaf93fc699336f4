package autodiscover_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

const (
	emuTenant = "8a5c3d7e-1f2b-4c6d-9e0f-a1b2c3d4e5f6"
	emuClient = "3f2e1d0c-b9a8-4765-8432-10fedcba9876"
	emuSecret = "Xq8~integration-secret-value-0123456789"
)

// setup wires auth and autodiscover the way the engine does, against the
// independently written emulator.
func setup(t *testing.T, modes ...emulator.Mode) (*emulator.Server, autodiscover.Request, string) {
	t.Helper()
	ten := tenant.Generate(tenant.Config{Seed: 5, Mailboxes: 3, Events: 2, Now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)})
	srv := emulator.New(emulator.Options{Tenant: ten, TenantID: emuTenant, ClientID: emuClient, ClientSecret: emuSecret, Modes: modes, Seed: 5})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts := auth.NewTokenSource(context.Background(), auth.Config{AuthorityHost: srv.URL(), TenantID: emuTenant, ClientID: emuClient, ClientSecret: emuSecret})
	allowed := auth.AllowHosts(ts.Cloud(), srv.URL())
	req := autodiscover.Request{
		AutodiscoverURL: srv.URL(), Cloud: ts.Cloud(), // V2URL defaults beside it (custom cloud)
		HTTPClient: auth.NewClient(&http.Client{Timeout: 10 * time.Second}, ts, allowed), AllowedHost: allowed,
	}
	return srv, req, ten.Mailboxes()[0]
}

func TestAgainstEmulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		modes      []emulator.Mode
		server     string
		wantMethod string
		wantPath   string
	}{
		{"soap external", nil, autodiscover.ServerExternal, autodiscover.MethodSOAP, "/EWS/Exchange.asmx"},
		{"soap internal", nil, autodiscover.ServerInternal, autodiscover.MethodSOAP, "/internal/EWS/Exchange.asmx"},
		{"security defaults: v2", []emulator.Mode{emulator.ModeAutodiscover401}, autodiscover.ServerExternal, autodiscover.MethodV2, "/EWS/Exchange.asmx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, req, mailbox := setup(t, tc.modes...)
			req.User, req.Server = mailbox, tc.server
			res, err := autodiscover.Discover(context.Background(), req)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if res.Method != tc.wantMethod || res.EWSURL != srv.URL()+tc.wantPath {
				t.Errorf("got %s %s, want %s %s", res.Method, res.EWSURL, tc.wantMethod, srv.URL()+tc.wantPath)
			}
			if tc.wantMethod == autodiscover.MethodSOAP && res.GroupingInformation == "" {
				t.Errorf("GroupingInformation: got empty, want the emulator's group")
			}
			if tc.wantMethod == autodiscover.MethodV2 && !autodiscover.IsAuth(res.SOAPError) {
				t.Errorf("SOAPError: got %v, want the 401", res.SOAPError)
			}
		})
	}
}

func TestUnknownMailboxAgainstEmulator(t *testing.T) {
	t.Parallel()
	_, req, _ := setup(t)
	req.User = "nobody@contoso.onmicrosoft.com"
	if _, err := autodiscover.Discover(context.Background(), req); !autodiscover.IsNotFound(err) {
		t.Fatalf("got %v, want IsNotFound", err)
	}
	found, err := autodiscover.FindAutodiscoverServer(context.Background(), req)
	if err != nil || found == "" {
		t.Errorf("FindAutodiscoverServer: got %q, %v", found, err)
	}
}
