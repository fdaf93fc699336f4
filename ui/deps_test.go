package ui

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/exocal/exocal"

// TestImportDirection keeps DESIGN.md's arrows one way: main → ui → app →
// sync/*. Only ui/ and assets/ (and main, which wires ui) may depend on
// Fyne; sync/ knows neither app/ nor ui/; app/ does not know ui/; assets/
// imports nothing but Fyne and the standard library.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-e", "-tags", "migrated_fynedo",
		"-f", "{{.ImportPath}}|{{join .Deps \" \"}}|{{join .Imports \" \"}}|{{.Standard}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkg, deps, imports := f[0], strings.Fields(f[1]), strings.Fields(f[2])
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		seen++
		under := func(dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }
		for _, d := range deps {
			switch {
			case strings.HasPrefix(d, "fyne.io/") && rel != "" && !under("ui") && !under("assets"):
				t.Errorf("%s: got a dependency on %s, want no Fyne outside ui/ and assets/", pkg, d)
			case under("sync") && (d == module+"/app" || strings.HasPrefix(d, module+"/app/") || d == module+"/ui" || strings.HasPrefix(d, module+"/ui/")):
				t.Errorf("%s: got a dependency on %s, want sync/ to know neither app/ nor ui/", pkg, d)
			case under("app") && (d == module+"/ui" || strings.HasPrefix(d, module+"/ui/")):
				t.Errorf("%s: got a dependency on %s, want app/ not to know ui/", pkg, d)
			}
		}
		if under("assets") {
			for _, imp := range imports {
				if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") && !strings.HasPrefix(imp, "fyne.io/fyne/v2") {
					t.Errorf("%s: got an import of %s, want only Fyne and the standard library", pkg, imp)
				}
			}
		}
	}
	if seen < 4 {
		t.Errorf("go list: got %d packages, want the whole module", seen)
	}
}
