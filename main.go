// Command exocal keeps Exchange Online calendars as ICS files on the desktop.
//
// main.go is the composition root: it parses the command line and hands
// over to the command's run function. Each command lives in its own
// cmd_*.go file and registers itself in init.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/exocal/exocal/internal/fynelocale"
)

// command is one `exocal NAME` subcommand.
type command struct {
	name    string
	summary string // one line for `exocal --help`
	// run gets the arguments after the command name and returns the exit
	// code: 0 ok, 1 some mailbox failed, 2 configuration or authentication error.
	run func(args []string) int
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("exocal: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	fynelocale.Restore()
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch runs the command named by args[0]; no command, or flags without
// one (`exocal --settings`, `exocal -v`), mean the tray app ("gui").
func dispatch(args []string) int {
	name := "gui"
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			usage(os.Stdout)
			return 0
		}
		if !strings.HasPrefix(args[0], "-") {
			name, args = args[0], args[1:]
		}
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "exocal: unknown command %q; run 'exocal --help' for the list.\n", name)
		return 2
	}
	if msg := relativeXDG(); msg != "" && name != "version" {
		fmt.Fprintln(os.Stderr, msg)
		return exitSetup
	}
	return c.run(args)
}

// relativeXDG refuses an XDG base directory variable set to a relative
// path. The XDG Base Directory specification says to ignore such a value,
// which would quietly fall back to the user's own folders, keyring entry
// and running instance: a setup meant to be isolated would reach them.
func relativeXDG() string {
	for _, env := range []string{"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"} {
		if v := os.Getenv(env); v != "" && !filepath.IsAbs(v) {
			return fmt.Sprintf("exocal: %s=%s is not an absolute path; set it to one (e.g. %s=$PWD/%s) or unset it.", env, v, env, v)
		}
	}
	return ""
}

func usage(w *os.File) {
	fmt.Fprintln(w, "Usage: exocal [COMMAND] [FLAGS]")
	fmt.Fprintln(w, "\nExoCal keeps Exchange Online calendars as ICS files. With no command it runs the tray app")
	fmt.Fprintln(w, "(flags alone go to it too: 'exocal --settings', 'exocal -v'; see 'exocal gui --help').")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %s%s  %s\n", n, strings.Repeat(" ", width-len(n)), commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'exocal COMMAND --help' for a command's flags.")
}

// parseFlags parses a command's flags. --help prints the usage on stdout
// and answers exit 0; a bad flag prints the error and the usage on stderr
// and answers exit 2. done is false when the command should go on.
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage = func() {
		fmt.Fprintf(&out, "Usage: %s [flags]\n\n", fs.Name())
		// The command's summary, for a top-level command ("exocal sync"),
		// not a subcommand's flag set ("exocal desktop install").
		if words := strings.Fields(fs.Name()); len(words) == 2 {
			if summary := commands[words[1]].summary; summary != "" {
				fmt.Fprintf(&out, "%s.\n\n", strings.ToUpper(summary[:1])+summary[1:])
			}
		}
		fmt.Fprintln(&out, "Flags:")
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Stdout.Write(out.Bytes())
		return exitOK, true
	case err != nil:
		os.Stderr.Write(out.Bytes())
		return exitSetup, true
	}
	return 0, false
}
