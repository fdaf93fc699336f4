// Package testenv lets tests that drive real outside programs (xmllint,
// Debian's python3-exchangelib, gnome-keyring, node) find them, and decides
// what happens when one is missing: a skip with the install line on a
// developer's machine, a failure under `make test` and CI, which set
// EXOCAL_REQUIRE_TOOLS=1 so that no integration test can pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Required reports whether missing tools must fail the test run.
func Required() bool { return os.Getenv("EXOCAL_REQUIRE_TOOLS") == "1" }

// Missing skips t (or fails it when tools are required) with why and the fix.
func Missing(t testing.TB, why, fix string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s; %s (EXOCAL_REQUIRE_TOOLS=1 forbids skipping)", why, fix)
	}
	t.Skipf("%s; %s", why, fix)
}

// LookPath returns the path of an executable, or skips/fails t saying
// which Debian package provides it.
func LookPath(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed", "run: sudo apt-get install "+debianPackage)
	}
	return p
}

// DebianPython returns /usr/bin/python3 after checking that it can import
// each module (Debian's python3-* packages install there, not into a pyenv).
func DebianPython(t testing.TB, modules map[string]string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		Missing(t, py+" is missing", "run: sudo apt-get install python3")
	}
	for mod, pkg := range modules {
		if err := exec.Command(py, "-c", "import "+mod).Run(); err != nil {
			Missing(t, "python module "+mod+" is not installed", "run: sudo apt-get install "+pkg)
		}
	}
	return py
}

// RepoRoot returns the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
