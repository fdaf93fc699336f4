package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/exocal/exocal/app"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

func init() {
	register(command{name: "config", summary: "show the settings, set one (config set KEY VALUE), or print the file's path", run: runConfig})
}

const configUsage = `Usage:
  exocal config show            print the settings as JSON (the client secret only as stored/missing,
                                the client certificate as its thumbprint and expiry date)
  exocal config set KEY VALUE   change one setting; tenant_id and client_id go to the OS keyring
  exocal config path            print where config.json lives

Keys: %s, tenant_id, client_id.
mailboxes takes a comma-separated list; poll_interval a duration such as 5m.
The client secret is set with 'exocal secret set' (it reads stdin), a client
certificate with 'exocal secret set --certificate < bundle.pem'.
`

func configUsageText() string { return fmt.Sprintf(configUsage, strings.Join(config.Keys(), ", ")) }

// keyringTimeout bounds each keyring call of the commands.
const keyringTimeout = 10 * time.Second

// registrationStore is the store the commands write: the OS keyring, under
// the read-only EXOCAL_* overrides for reading.
func registrationStore() secrets.Env { return secrets.Env{Base: secrets.NewKeyring()} }

func runConfig(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, configUsageText())
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Print(configUsageText())
		return 0
	case "show":
		return configShow(rest)
	case "set":
		return configSet(rest)
	case "path":
		return configPath(rest)
	}
	fmt.Fprintf(os.Stderr, "exocal config: unknown subcommand %q; run 'exocal config --help'.\n", sub)
	return 2
}

// parseNoFlags handles --help for a subcommand that takes only positional arguments.
func parseNoFlags(name, usage string, args []string) (rest []string, code int, done bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			return nil, 0, true
		}
		fmt.Fprintf(os.Stderr, "%s: %v; run '%s --help'.\n", name, err, name)
		return nil, 2, true
	}
	return fs.Args(), 0, false
}

// parseNoArgs is parseNoFlags for a subcommand that takes no arguments at all.
func parseNoArgs(name, usage string, args []string) (code int, done bool) {
	rest, code, done := parseNoFlags(name, usage, args)
	if done {
		return code, true
	}
	if len(rest) != 0 {
		fmt.Fprintf(os.Stderr, "%s: takes no arguments.\n", name)
		return 2, true
	}
	return 0, false
}

// failSetup prints err as one sentence and returns the exit code of a
// configuration error.
func failSetup(err error) int {
	fmt.Fprintf(os.Stderr, "exocal: %s.\n", cliSentence(err))
	return exitSetup
}

// loadSettings loads config.json from its usual place; path is set once
// the place is known, even when loading fails.
func loadSettings() (path string, s config.Settings, err error) {
	path, s, _, err = loadSettingsWarn()
	return path, s, err
}

// loadSettingsWarn is loadSettings that also returns what loading ignored
// (config.LoadWarn: keys of the file that are no setting).
func loadSettingsWarn() (path string, s config.Settings, warnings []config.Warning, err error) {
	path, err = config.Path()
	if err != nil {
		return "", config.Settings{}, nil, err
	}
	s, warnings, err = config.LoadWarn(path)
	return path, s, warnings, err
}

// printWarnings prints each warning of loading the settings as
// "exocal: warning: …".
func printWarnings(w io.Writer, ws []config.Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "exocal: warning: %s\n", x.Message)
	}
}

func configPath(args []string) int {
	if code, done := parseNoArgs("exocal config path", "Usage: exocal config path\n\nPrints where config.json lives ($XDG_CONFIG_HOME/exocal/config.json).\n", args); done {
		return code
	}
	p, err := config.Path()
	if err != nil {
		return failSetup(err)
	}
	fmt.Println(p)
	return 0
}

// shown is what `config show` prints: the settings plus the registration,
// never the secret itself.
type shown struct {
	config.Settings
	TenantID     string `json:"tenant_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// ClientCertificate is "stored (thumbprint …, expires …)", "from
	// EXOCAL_CLIENT_CERTIFICATE (…)", "invalid: …" or "none"; never the PEM.
	ClientCertificate string `json:"client_certificate"`
}

func configShow(args []string) int {
	if code, done := parseNoArgs("exocal config show", "Usage: exocal config show\n\nPrints the settings as JSON, with the registration from the OS keyring\n(or the EXOCAL_* variables); the client secret is shown only as stored or missing.\n", args); done {
		return code
	}
	_, s, warnings, err := loadSettingsWarn()
	if err != nil {
		return failSetup(err)
	}
	printWarnings(os.Stderr, warnings)
	out := shown{Settings: s, ClientSecret: "missing", ClientCertificate: "none"}
	store := registrationStore()
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	r, err := store.Get(ctx, app.CurrentKeyringProfile())
	switch {
	case errors.Is(err, secrets.ErrNotFound):
	case err != nil:
		out.ClientSecret = "unknown: the keyring cannot be read"
		out.ClientCertificate = out.ClientSecret
		defer fmt.Fprintf(os.Stderr, "exocal: %s.\n", cliSentence(err))
	default:
		out.TenantID, out.ClientID = r.TenantID, r.ClientID
		_, _, fromEnv := store.Overridden()
		switch {
		case r.ClientSecret == "":
		case fromEnv:
			out.ClientSecret = "from " + secrets.EnvClientSecret
		default:
			out.ClientSecret = "stored in keyring"
		}
		out.ClientCertificate = certificateShown(r, store.CertificateOverridden())
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	return 0
}

func configSet(args []string) int {
	rest, code, done := parseNoFlags("exocal config set", "Usage: exocal config set KEY VALUE\n\n"+strings.SplitN(configUsageText(), "\n\n", 2)[1], args)
	if done {
		return code
	}
	if len(rest) != 2 {
		fmt.Fprintln(os.Stderr, "exocal config set: want KEY VALUE (quote a value with spaces; an empty value is \"\"); run 'exocal config set --help' for the keys.")
		return 2
	}
	key, value := rest[0], rest[1]
	switch key {
	case "client_secret":
		fmt.Fprintln(os.Stderr, "exocal: the client secret is never given as an argument (other users can read the command line); pipe it in with 'exocal secret set' instead.")
		return 2
	case "tenant_id", "client_id":
		return setRegistrationKey(key, value)
	}
	path, s, warnings, err := loadSettingsWarn()
	if err != nil {
		return failSetup(err)
	}
	if len(warnings) > 0 {
		printWarnings(os.Stderr, warnings)
		fmt.Fprintln(os.Stderr, "exocal: note: saving rewrites the file without the ignored key(s).")
	}
	if err := config.Set(&s, key, value); err != nil {
		printFieldErrors(err)
		return 2
	}
	if err := config.Save(path, s); err != nil {
		return failSetup(err)
	}
	fmt.Printf("Saved %s (%s) in %s.\n", key, config.Labels[key], path)
	notifyRunning()
	return 0
}

// notifyRunning tells a running ExoCal (if any) to re-read its settings.
func notifyRunning() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if pid, err := app.NotifyReload(ctx, ""); err == nil {
		fmt.Printf("The running ExoCal (pid %d) picked up the change.\n", pid)
	}
}

func setRegistrationKey(key, value string) int {
	var fe *config.FieldError
	if key == "tenant_id" {
		fe = config.ValidateTenantID(value)
	} else {
		fe = config.ValidateClientID(value)
	}
	if fe != nil {
		printFieldErrors(config.Errors{*fe})
		return 2
	}
	store := registrationStore()
	err := updateRegistration(store, func(r *secrets.Registration) {
		if key == "tenant_id" {
			r.TenantID = value
		} else {
			r.ClientID = value
		}
	})
	if err != nil {
		return failSetup(err)
	}
	fmt.Printf("Saved %s (%s) in the OS keyring.\n", key, config.Labels[key])
	notifyRunning()
	tenant, client, _ := store.Overridden()
	if key == "tenant_id" && tenant || key == "client_id" && client {
		env := secrets.EnvTenantID
		if key == "client_id" {
			env = secrets.EnvClientID
		}
		fmt.Fprintf(os.Stderr, "exocal: note: %s is set and overrides the stored value; unset it to use the keyring's.\n", env)
	}
	return 0
}

// updateRegistration reads the registration stored in the keyring (none
// yet is fine), lets change edit it and stores it back.
func updateRegistration(store secrets.Env, change func(*secrets.Registration)) error {
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	r, err := store.Base.Get(ctx, app.CurrentKeyringProfile())
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	change(&r)
	return store.Base.Set(ctx, app.CurrentKeyringProfile(), r)
}

// printFieldErrors prints each bad field as "exocal: Label: message".
func printFieldErrors(err error) {
	es := config.AsErrors(err)
	if len(es) == 0 {
		fmt.Fprintf(os.Stderr, "exocal: %s.\n", cliSentence(err))
		return
	}
	for _, e := range es {
		fmt.Fprintf(os.Stderr, "exocal: %s: %s\n", e.Label, e.Message)
	}
}

// cliSentence drops the "pkg: " prefix and the final period of an error.
func cliSentence(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
		msg = msg[i+2:]
	}
	return strings.TrimSuffix(msg, ".")
}

// certificateShown is what `config show` says about the client certificate.
func certificateShown(r secrets.Registration, fromEnv bool) string {
	if r.ClientCertificate == "" {
		return "none"
	}
	where := "stored"
	if fromEnv {
		where = "from " + secrets.EnvClientCertificate
	}
	_, info, err := secrets.ParseCertificate(r.ClientCertificate)
	if err != nil {
		return where + ", invalid: " + cliSentence(err)
	}
	s := where + " (" + info.String()
	if !time.Now().Before(info.NotAfter) {
		s += ", EXPIRED"
	}
	if r.ClientSecret != "" {
		s += "; used instead of the client secret"
	}
	return s + ")"
}
