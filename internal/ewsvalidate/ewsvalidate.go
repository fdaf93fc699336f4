// Package ewsvalidate checks captured EWS SOAP messages against Microsoft's
// schemas with testdata/ews-schema/validate-ews (xmllint underneath), for the
// tests of both sides of the wire: the emulator and the client. It knows
// nothing of EWS itself, so it cannot hide one side's mistake from the other.
package ewsvalidate

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/exocal/exocal/internal/testenv"
)

// Script is the path of the validate-ews script kept in the repository.
func Script() string {
	return filepath.Join(testenv.RepoRoot(), "testdata", "ews-schema", "validate-ews")
}

// Files validates each file (a whole SOAP envelope, optionally preceded by
// HTTP headers) and fails t with validate-ews's report when any is invalid.
// lenient allows the documented GetStreamingEvents wire quirk
// (m:Notification) and nothing else that matters.
func Files(t testing.TB, lenient bool, files ...string) {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("ewsvalidate: no files to validate")
	}
	testenv.LookPath(t, "xmllint", "libxml2-utils")
	py := testenv.DebianPython(t, nil)
	args := []string{Script()}
	if lenient {
		args = append(args, "--lenient")
	}
	args = append(args, files...)
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ewsvalidate: messages do not validate against the EWS schemas: %v\n%s", err, out)
	}
}
