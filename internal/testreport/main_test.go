package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: xmllint is not installed\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}`,
		`# p [build failed]`,
	}, "\n")
	var out strings.Builder
	c, err := report(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if c != (counts{Passed: 1, Failed: 1, Skipped: 1}) {
		t.Errorf("got %+v, want 1 passed, 1 failed, 1 skipped", c)
	}
	for _, want := range []string{"--- FAIL: p TestB", "got 1, want 2", "skipped: p TestC: c_test.go:3: xmllint is not installed", "FAIL\tp\t0.1s", "# p [build failed]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTotal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lines string
		want  int
	}{
		{"3 0 1\n2 0 0\n", 0},
		{"3 1 0\n", 1},
		{"0 0 4\n", 1}, // nothing ran
	} {
		p := filepath.Join(t.TempDir(), "counts")
		if err := os.WriteFile(p, []byte(tc.lines), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := printTotal(p); got != tc.want {
			t.Errorf("printTotal(%q) = %d, want %d", tc.lines, got, tc.want)
		}
	}
}
