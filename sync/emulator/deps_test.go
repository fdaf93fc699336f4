package emulator

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSharesNoCodeWithTheClient keeps the emulator and ExoCal's EWS client
// apart (each is written from Microsoft's documents on its own, so that one
// cannot hide the other's mistake): the emulator depends on no client
// package, and no client package on the emulator.
func TestSharesNoCodeWithTheClient(t *testing.T) {
	t.Parallel()
	const mod = "github.com/exocal/exocal/"
	client := []string{"sync/auth", "sync/autodiscover", "sync/ews", "sync/calendar", "sync/internal/", "sync/ics", "sync/engine", "sync/store", "sync/backend"}
	deps := func(pkgs ...string) []string {
		t.Helper()
		out, err := exec.Command("go", append([]string{"list", "-e", "-deps"}, pkgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	emu := deps(mod + "sync/emulator/...")
	if len(emu) < 10 {
		t.Fatalf("got %d deps, want the real dependency list", len(emu))
	}
	for _, d := range emu {
		for _, c := range client {
			if strings.HasPrefix(d, mod+c) {
				t.Errorf("the emulator depends on the client package %s", d)
			}
		}
	}
	var clientPkgs []string
	for _, c := range client {
		clientPkgs = append(clientPkgs, mod+strings.TrimSuffix(c, "/")+"/...")
	}
	for _, d := range deps(clientPkgs...) {
		if strings.HasPrefix(d, mod+"sync/emulator") {
			t.Errorf("a client package depends on the emulator: %s", d)
		}
	}
}
