package integration

import (
	"context"
	"testing"

	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/ews"
)

// TestTenantModes: the emulator's broken-tenant states arrive as the
// typed errors the UI and `exocal check` choose their words by.
func TestTenantModes(t *testing.T) {
	tests := []struct {
		mode  emulator.Mode
		fault emulator.FaultKind
		check func(error) bool
		what  string
		kind  ews.BlockKind
	}{
		{emulator.ModeEWSDisabled, "", ews.IsEWSBlocked, "IsEWSBlocked", ews.BlockedDisabled},
		{emulator.ModeNotAllowlisted, "", ews.IsEWSBlocked, "IsEWSBlocked", ews.BlockedNotAllowed},
		{"", emulator.FaultRevoke, ews.IsAuth, "IsAuth", ews.NotBlocked},
	}
	reasons := map[string]bool{}
	for _, tt := range tests {
		t.Run(string(tt.mode)+string(tt.fault), func(t *testing.T) {
			e := start(t, 1, 1)
			if tt.mode != "" {
				e.srv.SetMode(tt.mode, true)
			}
			if tt.fault != "" {
				e.srv.SetFaults(emulator.Faults{Kind: tt.fault, EveryN: 1})
			}
			_, err := e.c.GetFolder(context.Background(), nil, e.ten.Mailboxes()[0])
			if !tt.check(err) || !ews.IsPermanent(err) {
				t.Fatalf("got %v, want %s and permanent", err, tt.what)
			}
			if k := ews.EWSBlockKindOf(err); k != tt.kind {
				t.Errorf("got block kind %v, want %v", k, tt.kind)
			}
			if r := ews.EWSBlockReason(err); r != "" {
				reasons[r] = true
			}
		})
	}
	if len(reasons) != 2 {
		t.Errorf("got policy reasons %v, want two different ones (disabled vs not allow-listed)", reasons)
	}

	// A mailbox that does not exist.
	e := start(t, 1, 1)
	_, err := e.c.GetFolder(context.Background(), nil, "nobody@"+e.ten.Domain())
	if !ews.IsMailboxNotFound(err) {
		t.Errorf("got %v for an unknown mailbox, want IsMailboxNotFound", err)
	}
}
