package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoToolkitImports keeps the arrows of DESIGN.md one way: nothing under
// app/ may depend on Fyne (or any GUI toolkit).
func TestNoToolkitImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-e", "-deps", "github.com/exocal/exocal/app/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("got %d deps, want the real dependency list", len(deps))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "fyne.io/") || strings.Contains(d, "go-gl/") || strings.HasPrefix(d, "github.com/exocal/exocal/ui") {
			t.Errorf("app/... depends on %s; only ui/ and assets/ may use the toolkit", d)
		}
	}
}
