package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// KeyringService is the Secret Service "service" attribute of ExoCal's entries.
const KeyringService = "exocal"

// DefaultTimeout bounds every keyring call: a locked keyring on a desktop
// with a display may wait for a password prompt forever.
const DefaultTimeout = 5 * time.Second

// Keyring is a Store in the OS keyring (the Secret Service on Linux:
// GNOME Keyring, KWallet, KeePassXC) through go-keyring.
//
// Layout: one entry per profile, service "exocal", user (account) = the
// profile name, whose secret is the JSON object
// {"tenant_id": …, "client_id": …, "client_secret": …, "client_certificate": …}
// (the last only when a certificate is stored: its PEM bundle, private key
// included). One entry keeps the values consistent (one write, one prompt at most) and
// `secret-tool search service exocal` shows it.
type Keyring struct {
	Service string        // KeyringService when empty
	Timeout time.Duration // DefaultTimeout when zero
	// Getenv reads DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR to tell
	// whether there is a session bus at all; os.Getenv when nil.
	Getenv func(string) string
}

// NewKeyring returns a Keyring with the defaults.
func NewKeyring() *Keyring { return &Keyring{} }

func (k *Keyring) service() string {
	if k.Service != "" {
		return k.Service
	}
	return KeyringService
}

// Get implements Store.
func (k *Keyring) Get(ctx context.Context, profile string) (Registration, error) {
	var raw string
	err := k.do(ctx, "read", func() error {
		var err error
		raw, err = keyring.Get(k.service(), profile)
		return err
	})
	if err != nil {
		return Registration{}, err
	}
	var r Registration
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		// Do not include raw: it holds the secret.
		return Registration{}, fmt.Errorf("secrets: the keyring entry %q/%q is not ExoCal's JSON; delete it (secret-tool clear service %s username %s) and enter the registration again", k.service(), profile, k.service(), profile)
	}
	return r, nil
}

// Set implements Store.
func (k *Keyring) Set(ctx context.Context, profile string, r Registration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("secrets: encode: %w", err)
	}
	return k.do(ctx, "write", func() error { return keyring.Set(k.service(), profile, string(b)) })
}

// Delete implements Store.
func (k *Keyring) Delete(ctx context.Context, profile string) error {
	return k.do(ctx, "delete", func() error { return keyring.Delete(k.service(), profile) })
}

// do runs fn with the timeout. go-keyring takes no context, so on timeout
// the call is abandoned (its goroutine ends when D-Bus answers or the
// process exits).
func (k *Keyring) do(ctx context.Context, op string, fn func() error) error {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if !k.sessionBus() {
		// Without a bus, godbus would run dbus-launch, which starts a
		// dbus-daemon that outlives ExoCal; say "no session bus" instead.
		return &KeyringError{Reason: ReasonNoSessionBus, Op: op, Err: errNoBusAddress}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return classify(op, err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &KeyringError{Reason: ReasonTimeout, Op: op, Timeout: timeout, Err: ctx.Err()}
		}
		return fmt.Errorf("secrets: keyring %s: %w", op, ctx.Err())
	}
}

var errNoBusAddress = errors.New("DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus socket")

// sessionBus reports whether a D-Bus session bus can be found the way
// godbus finds one without autolaunching: DBUS_SESSION_BUS_ADDRESS, or the
// socket $XDG_RUNTIME_DIR/bus. Outside Linux and the BSDs go-keyring uses
// no D-Bus, so there is always "a bus".
func (k *Keyring) sessionBus() bool {
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "android":
		return true
	}
	getenv := k.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, "bus"))
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// Reason says why the keyring could not be used.
type Reason int

const (
	ReasonOther        Reason = iota
	ReasonNoSessionBus        // no D-Bus session bus to reach a Secret Service on
	ReasonNoService           // a bus, but nobody owns org.freedesktop.secrets
	ReasonLocked              // the keyring is locked and unlocking was refused or dismissed
	ReasonTimeout             // no answer in time (often a locked keyring waiting at a prompt)
)

// Sentinels for errors.Is; a *KeyringError matches the one of its Reason
// (and both ReasonNoSessionBus and ReasonNoService match ErrNoSecretService).
var (
	ErrNoSecretService = errors.New("secrets: no Secret Service")
	ErrLocked          = errors.New("secrets: keyring locked")
	ErrTimeout         = errors.New("secrets: keyring timed out")
	ErrUnavailable     = errors.New("secrets: keyring unavailable") // any KeyringError
)

// KeyringError is a keyring failure with a one-sentence message that says
// what to do.
type KeyringError struct {
	Reason  Reason
	Op      string // "read", "write", "delete"
	Timeout time.Duration
	Err     error // go-keyring's error, for logs
}

const fixSentence = "install and unlock a Secret Service (GNOME Keyring, KWallet or KeePassXC with Secret Service integration), or set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET (or EXOCAL_CLIENT_CERTIFICATE)"

func (e *KeyringError) Error() string {
	switch e.Reason {
	case ReasonNoSessionBus:
		return "secrets: there is no D-Bus session bus, so the OS keyring cannot be reached; run ExoCal inside a desktop session and " + fixSentence + "."
	case ReasonNoService:
		return "secrets: no Secret Service is running on the session bus, so the OS keyring cannot be reached; " + fixSentence + "."
	case ReasonLocked:
		return "secrets: the OS keyring is locked and was not unlocked; unlock it (e.g. log in again, or open Passwords and Keys / KWallet / KeePassXC) and retry, or set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET."
	case ReasonTimeout:
		return fmt.Sprintf("secrets: the OS keyring did not answer within %s (it may be locked and waiting for a password prompt); unlock GNOME Keyring, KWallet or KeePassXC and retry, or set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET.", e.Timeout)
	}
	return fmt.Sprintf("secrets: the OS keyring failed to %s the registration (%v); check that GNOME Keyring, KWallet or KeePassXC works, or set EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID and EXOCAL_CLIENT_SECRET.", e.Op, e.Err)
}

// Unwrap exposes the sentinel for the reason and the underlying error.
func (e *KeyringError) Unwrap() []error {
	errs := []error{ErrUnavailable, e.Err}
	switch e.Reason {
	case ReasonNoSessionBus, ReasonNoService:
		errs = append(errs, ErrNoSecretService)
	case ReasonLocked:
		errs = append(errs, ErrLocked)
	case ReasonTimeout:
		errs = append(errs, ErrTimeout)
	}
	return errs
}

// IsUnavailable reports whether err means the keyring cannot be used at all
// (as opposed to an entry being missing).
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// classify turns go-keyring's errors into ErrNotFound or a *KeyringError.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	return &KeyringError{Reason: reasonOf(err), Op: op, Err: err}
}

func reasonOf(err error) Reason {
	var derr dbus.Error
	if errors.As(err, &derr) {
		switch derr.Name {
		case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
			return ReasonNoService
		case "org.freedesktop.DBus.Error.NoServer", "org.freedesktop.DBus.Error.Disconnected":
			return ReasonNoSessionBus
		case "org.freedesktop.Secret.Error.IsLocked":
			return ReasonLocked
		}
	}
	var perr *dbus.Error
	if errors.As(err, &perr) && perr != nil && perr.Name == "org.freedesktop.DBus.Error.ServiceUnknown" {
		return ReasonNoService
	}
	var nerr *net.OpError
	if errors.As(err, &nerr) || errors.Is(err, os.ErrNotExist) {
		return ReasonNoSessionBus
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "ServiceUnknown"), strings.Contains(msg, "org.freedesktop.secrets was not provided"):
		return ReasonNoService
	case strings.Contains(msg, "dbus-launch"),
		strings.Contains(msg, "session bus"),
		strings.Contains(msg, "dial unix"),
		strings.Contains(msg, "connection refused"),
		strings.Contains(msg, "no such file or directory"),
		strings.Contains(msg, "dbus: authentication failed"):
		return ReasonNoSessionBus
	case strings.Contains(msg, "failed to unlock correct collection"), strings.Contains(msg, "IsLocked"):
		return ReasonLocked
	}
	return ReasonOther
}
