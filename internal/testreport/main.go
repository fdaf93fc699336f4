// Command testreport reads `go test -json` on stdin and prints what a person
// needs: one line per package, the output of every failed test, the names of
// skipped tests with their reason, and a count. With -add FILE it adds the
// counts to FILE; with -total FILE it prints the sum of every run as the
// closing line "N passed, N failed, N skipped" and fails if any test failed
// or no test ran.
//
// It is a development tool for `make test`, not part of ExoCal.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type counts struct{ Passed, Failed, Skipped int }

func main() {
	add := flag.String("add", "", "add this run's counts to `FILE`")
	total := flag.String("total", "", "print the sum of the counts in `FILE` and exit")
	flag.Parse()
	if *total != "" {
		os.Exit(printTotal(*total))
	}
	c, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if *add != "" {
		f, err := os.OpenFile(*add, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d %d %d\n", c.Passed, c.Failed, c.Skipped)
			err = errorsJoin(err, f.Close())
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// report copies package lines and failure output to w and counts tests.
func report(r io.Reader, w io.Writer) (counts, error) {
	var c counts
	outputs := map[string][]string{} // package/test → output lines so far
	var skipped []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Not JSON: a build error or a panic before test2json; show it.
			fmt.Fprintln(w, string(line))
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			if e.Test == "" {
				// Package-level lines: "ok  pkg 1.2s", "FAIL", build errors.
				if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS\n") {
					fmt.Fprint(w, e.Output)
				}
				continue
			}
			outputs[key] = append(outputs[key], e.Output)
		case "pass":
			if e.Test != "" {
				c.Passed++
			}
			delete(outputs, key)
		case "skip":
			if e.Test != "" {
				c.Skipped++
				skipped = append(skipped, fmt.Sprintf("%s %s: %s", e.Package, e.Test, skipReason(outputs[key])))
			}
			delete(outputs, key)
		case "fail":
			if e.Test != "" {
				c.Failed++
				fmt.Fprintf(w, "--- FAIL: %s %s\n%s", e.Package, e.Test, strings.Join(outputs[key], ""))
			}
			delete(outputs, key)
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	sort.Strings(skipped)
	for _, s := range skipped {
		fmt.Fprintln(w, "skipped:", s)
	}
	fmt.Fprintf(w, "this run: %d passed, %d failed, %d skipped\n", c.Passed, c.Failed, c.Skipped)
	return c, nil
}

// skipReason picks the t.Skip message out of a skipped test's output.
func skipReason(lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		return l
	}
	return "(no reason given)"
}

func printTotal(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 2
	}
	var sum counts
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c counts
		if _, err := fmt.Sscanf(l, "%d %d %d", &c.Passed, &c.Failed, &c.Skipped); err != nil {
			fmt.Fprintf(os.Stderr, "testreport: bad line %q in %s\n", l, path)
			return 2
		}
		sum.Passed += c.Passed
		sum.Failed += c.Failed
		sum.Skipped += c.Skipped
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", sum.Passed, sum.Failed, sum.Skipped)
	if sum.Failed > 0 || sum.Passed == 0 {
		return 1
	}
	return 0
}
