package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/exocal/exocal/app/secrets"
)

func init() {
	register(command{name: "secret", summary: "store the client secret or certificate in the OS keyring (secret set [--certificate] reads stdin)", run: runSecret})
}

const secretUsage = `Usage:
  exocal secret set                              store the client secret (read from stdin)
  exocal secret set --certificate < bundle.pem   store a client certificate and its private key
  exocal secret clear-certificate                remove the stored certificate (the secret is used again)

'secret set' reads the client secret's Value (Entra > App registrations > your
app > Certificates & secrets > Value column) from standard input and stores it
in the OS keyring. On a terminal it is not echoed; otherwise pipe it in, e.g.
  secret-tool lookup ... | exocal secret set
It is never taken from the command line, which other users can read.

'secret set --certificate' reads one PEM bundle from standard input: the
certificate (BEGIN CERTIFICATE) and its unencrypted RSA private key (BEGIN
PRIVATE KEY or BEGIN RSA PRIVATE KEY), e.g. made with
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 -subj /CN=ExoCal -keyout key.pem -out cert.pem
  cat cert.pem key.pem | exocal secret set --certificate
It checks that the key belongs to the certificate and that the certificate is
valid, prints its thumbprint and expiry date (compare them with Entra >
Certificates & secrets > Certificates, where cert.pem must be uploaded) and
keeps the bundle only in the OS keyring. When both a secret and a certificate
are stored, the certificate is used.

Headless runs may set EXOCAL_CLIENT_SECRET or EXOCAL_CLIENT_CERTIFICATE (the
PEM text itself) instead; they are read, never stored.
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
	case "clear-certificate":
		return clearCertificate(args[1:])
	default:
		fmt.Fprintf(os.Stderr, "exocal secret: unknown subcommand %q; run 'exocal secret --help'.\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet("exocal secret set", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	certificate := fs.Bool("certificate", false, "read a PEM certificate + private key bundle instead of a secret")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(secretUsage)
			return 0
		}
		fmt.Fprintf(os.Stderr, "exocal secret set: %v; run 'exocal secret --help'.\n", err)
		return 2
	}
	rest := fs.Args()
	if *certificate {
		if len(rest) != 0 {
			fmt.Fprintln(os.Stderr, "exocal secret set --certificate: the bundle is read from stdin, never from a file name or argument; run 'exocal secret set --certificate < bundle.pem'.")
			return 2
		}
		return setCertificate(os.Stdin)
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
	certStored := false
	if err := updateRegistration(store, func(r *secrets.Registration) {
		r.ClientSecret = secret
		certStored = r.ClientCertificate != ""
	}); err != nil {
		return failSetup(err)
	}
	fmt.Println("Client secret saved in the OS keyring.")
	if certStored {
		fmt.Fprintln(os.Stderr, "exocal: note: a client certificate is stored too and is used instead of the secret; run 'exocal secret clear-certificate' to use the secret.")
	}
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

// maxCertificateLen bounds the PEM bundle read from stdin; a 4096-bit
// certificate with its key and a chain is well under it.
const maxCertificateLen = 64 << 10

// setCertificate validates the PEM bundle on in and stores it in the
// keyring next to the other registration values.
func setCertificate(in *os.File) int {
	if isTerminal(in) {
		fmt.Fprintln(os.Stderr, "exocal: pipe the PEM bundle in rather than pasting it (a terminal would show the private key): cat cert.pem key.pem | exocal secret set --certificate")
		return 2
	}
	b, err := io.ReadAll(io.LimitReader(in, maxCertificateLen+1))
	if err != nil {
		return failSetup(fmt.Errorf("main: read the certificate from stdin: %w", err))
	}
	if len(b) > maxCertificateLen {
		fmt.Fprintln(os.Stderr, "exocal: stdin holds more than 64 KiB, which is not a certificate bundle; pipe in only the certificate and its private key.")
		return 2
	}
	if strings.TrimSpace(string(b)) == "" {
		fmt.Fprintln(os.Stderr, "exocal: no certificate on stdin; run 'exocal secret set --certificate < bundle.pem' with the certificate and its private key in one PEM file.")
		return 2
	}
	bundle, info, warning, err := secrets.NormalizeCertificate(string(b), time.Now())
	if err != nil {
		return failSetup(err)
	}
	fmt.Printf("Certificate: thumbprint %s, valid until %s, subject %s.\n", info.Thumbprint, info.NotAfter.UTC().Format(time.DateOnly), info.Subject)
	if warning != "" {
		fmt.Fprintf(os.Stderr, "exocal: warning: %s\n", warning)
	}
	store := registrationStore()
	secretToo := false
	if err := updateRegistration(store, func(r *secrets.Registration) {
		r.ClientCertificate = bundle
		secretToo = r.ClientSecret != ""
	}); err != nil {
		return failSetup(err)
	}
	fmt.Println("Client certificate saved in the OS keyring. Entra > App registrations > your app > Certificates & secrets >")
	fmt.Println("Certificates must list the same thumbprint; upload the certificate's public part there if it does not.")
	if secretToo {
		fmt.Println("The stored client secret is kept but not used while a certificate is stored ('exocal secret clear-certificate' returns to it).")
	}
	notifyRunning()
	if store.CertificateOverridden() {
		fmt.Fprintf(os.Stderr, "exocal: note: %s is set and overrides the stored certificate; unset it to use the keyring's.\n", secrets.EnvClientCertificate)
	}
	return 0
}

// clearCertificate removes the stored certificate; the secret (if any)
// is used again.
func clearCertificate(args []string) int {
	if code, done := parseNoArgs("exocal secret clear-certificate", secretUsage, args); done {
		return code
	}
	store := registrationStore()
	had, secret := false, false
	if err := updateRegistration(store, func(r *secrets.Registration) {
		had, secret = r.ClientCertificate != "", r.ClientSecret != ""
		r.ClientCertificate = ""
	}); err != nil {
		return failSetup(err)
	}
	if !had {
		fmt.Println("No client certificate was stored.")
		return 0
	}
	fmt.Println("Client certificate removed from the OS keyring.")
	if !secret {
		fmt.Fprintln(os.Stderr, "exocal: note: no client secret is stored either; run 'exocal secret set' or 'exocal secret set --certificate' before the next sync.")
	}
	notifyRunning()
	return 0
}
