package autodiscover_test

import (
	"context"
	"strings"
	"testing"

	"github.com/exocal/exocal/sync/autodiscover"
	"github.com/exocal/exocal/sync/emulator"
)

// TestConfiguredPOXServer follows the advice for tenants that refuse SOAP
// autodiscover: the alternative server Autodiscover V2 names (…/autodiscover.xml)
// goes into AutodiscoverURL, and Discover then asks it by POX — not by SOAP
// at a .svc derived from it, which is refused again.
func TestConfiguredPOXServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		modes []emulator.Mode
	}{
		{"security defaults", []emulator.Mode{emulator.ModeAutodiscover401}},
		{"normal tenant", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, req, mailbox := setup(t, tc.modes...)
			req.User = mailbox
			alt, err := autodiscover.FindAutodiscoverServer(context.Background(), req)
			if err != nil || !strings.HasSuffix(alt, "/autodiscover/autodiscover.xml") {
				t.Fatalf("FindAutodiscoverServer: got %q, %v; want the POX URL", alt, err)
			}
			req.AutodiscoverURL = alt
			res, err := autodiscover.Discover(context.Background(), req)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if res.Method != autodiscover.MethodPOX || res.Endpoint != alt || res.SOAPError != nil {
				t.Errorf("got method %s at %s (first error %v), want POX at %s with no fallback", res.Method, res.Endpoint, res.SOAPError, alt)
			}
			if want := srv.URL() + "/EWS/Exchange.asmx"; res.EWSURL != want {
				t.Errorf("EWS URL: got %s, want %s", res.EWSURL, want)
			}
		})
	}
}
