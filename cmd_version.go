package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func init() {
	register(command{name: "version", summary: "print ExoCal's version and the Go version it was built with", run: runVersion})
}

func runVersion(args []string) int {
	fs := flag.NewFlagSet("exocal version", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println("Usage: exocal version\n\nPrints ExoCal's version (set at build time) and the Go version it was built with.")
			return 0
		}
		fmt.Fprintf(os.Stderr, "exocal version: %v; run 'exocal version --help'.\n", err)
		return 2
	}
	fmt.Printf("exocal %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
