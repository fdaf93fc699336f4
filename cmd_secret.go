package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/exocal/exocal/app/secrets"
)

func init() {
	register(command{name: "secret", summary: "store the client secret in the OS keyring (secret set reads it from stdin)", run: runSecret})
}

const secretUsage = `Usage: exocal secret set

Reads the client secret's Value (Entra > App registrations > your app >
Certificates & secrets > Value column) from standard input and stores it in
the OS keyring. On a terminal it is not echoed; otherwise pipe it in, e.g.
  secret-tool lookup ... | exocal secret set
It is never taken from the command line, which other users can read.
Headless runs may set EXOCAL_CLIENT_SECRET instead (never stored).
`

// maxSecretLen bounds what is read from stdin; Entra secrets are ~40 characters.
const maxSecretLen = 4096

func runSecret(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, secretUsage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Print(secretUsage)
		return 0
	case "set":
	default:
		fmt.Fprintf(os.Stderr, "exocal secret: unknown subcommand %q; run 'exocal secret --help'.\n", args[0])
		return 2
	}
	rest, code, done := parseNoFlags("exocal secret set", secretUsage, args[1:])
	if done {
		return code
	}
	if len(rest) != 0 {
		fmt.Fprintln(os.Stderr, "exocal secret set: the secret is read from stdin, never from arguments (they show up in the process list); run it without arguments and paste or pipe the secret.")
		return 2
	}
	raw, err := readSecret(os.Stdin, os.Stderr)
	if err != nil {
		return failSetup(err)
	}
	secret, warning := secrets.NormalizeSecret(raw)
	if secret == "" {
		fmt.Fprintln(os.Stderr, "exocal: no secret on stdin; paste the secret's Value from Entra > Certificates & secrets (or pipe it in) and press Enter.")
		return 2
	}
	if warning != "" {
		fmt.Fprintf(os.Stderr, "exocal: warning: %s\n", warning)
	}
	store := registrationStore()
	if err := updateRegistration(store, func(r *secrets.Registration) { r.ClientSecret = secret }); err != nil {
		return failSetup(err)
	}
	fmt.Println("Client secret saved in the OS keyring.")
	notifyRunning()
	if _, _, env := store.Overridden(); env {
		fmt.Fprintf(os.Stderr, "exocal: note: %s is set and overrides the stored secret; unset it to use the keyring's.\n", secrets.EnvClientSecret)
	}
	return 0
}

// readSecret reads one secret from in: on a terminal with a prompt on
// prompt and echo off; otherwise everything up to EOF (or the first line).
func readSecret(in *os.File, prompt io.Writer) (string, error) {
	if isTerminal(in) {
		// Echo goes off before the prompt shows, so a fast paste is never echoed.
		s, err := readNoEcho(in, func() { fmt.Fprint(prompt, "Client secret (the Value, input hidden): ") })
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("main: read the secret from the terminal: %w", err)
		}
		return s, nil
	}
	b, err := io.ReadAll(io.LimitReader(in, maxSecretLen+1))
	if err != nil {
		return "", fmt.Errorf("main: read the secret from stdin: %w", err)
	}
	if len(b) > maxSecretLen {
		return "", errors.New("main: stdin holds more than 4 KiB, which is not a client secret; pipe in only the secret's Value")
	}
	// Only the first non-empty line: "echo secret | exocal secret set" adds a newline.
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line, nil
		}
	}
	return "", nil
}
