package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// FieldError is one bad setting: which field, in the seed's words, what is
// wrong and how to fix it.
type FieldError struct {
	Key     string // the JSON key, e.g. "max_subscriptions_per_connection"
	Label   string // the settings window's words, e.g. "Max subscriptions per connection"
	Message string // what is wrong and how to fix it, one or two sentences
}

func (e FieldError) Error() string { return e.Label + ": " + e.Message }

// Errors lists every bad field; it is returned as an error only when non-empty.
type Errors []FieldError

// Error joins the fields' messages with "; ", each without its final
// period, so that the whole reads right inside another sentence
// ("the settings are not valid: User: …; fix them with …").
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = strings.TrimRight(e.Error(), ". ")
	}
	return strings.Join(parts, "; ")
}

// For returns the error for key, if any.
func (es Errors) For(key string) (FieldError, bool) {
	for _, e := range es {
		if e.Key == key {
			return e, true
		}
	}
	return FieldError{}, false
}

// Err returns es as an error, or nil when it is empty (avoiding the typed-nil trap).
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// AsErrors extracts the field errors from err (nil when err carries none).
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return Errors{fe}
	}
	return nil
}

// Labels maps every JSON key (and the keyring-held registration keys) to the
// words the settings window uses for it.
var Labels = map[string]string{
	"sync_type":                        "Sync-Type",
	"user":                             "User",
	"autodiscover_url":                 "Autodiscover URL",
	"exchange_server":                  "Exchange server to be used",
	"client_id":                        "Client ID",
	"tenant_id":                        "Tenant ID",
	"supported_account":                "Supported account",
	"client_secret":                    "Client Secret",
	"max_subscriptions_per_connection": "Max subscriptions per connection",
	"ews_debug":                        "EWS protocol debugging",
	"mailboxes":                        "Mailboxes to sync",
	"export_dir":                       "Export folder",
	"window_past_days":                 "Sync window (days back)",
	"window_future_days":               "Sync window (days ahead)",
	"poll_interval":                    "Poll interval",
	"privacy":                          "Privacy",
	"authority_host":                   "Authority host",
	"ews_url":                          "EWS URL",
	"secret_expires":                   "Client secret expires on",
}

func fieldErr(key, format string, args ...any) *FieldError {
	return &FieldError{Key: key, Label: Labels[key], Message: fmt.Sprintf(format, args...)}
}

// Limits beyond which a setting is surely a typo.
const (
	MaxWindowDays   = 3650
	MinPollInterval = 30 * time.Second
	MaxPollInterval = 24 * time.Hour
)

// mode says how far validation may go: probe allows creating the export
// folder and writing a probe file in it (saving); without it nothing is
// written (read-only commands such as `exocal check`).
type mode struct{ probe bool }

// validators checks each JSON key (some look at a related key too), in the
// settings window's order.
var validators = []struct {
	key   string
	check func(Settings, mode) *FieldError
}{
	{"sync_type", func(s Settings, _ mode) *FieldError {
		switch s.SyncType {
		case SyncDisabled, SyncEWS:
			return nil
		case SyncGraph:
			return fieldErr("sync_type", "Microsoft Graph is not supported yet; choose %q (Exchange Online, app-only) or %q.", SyncEWS, SyncDisabled)
		}
		return fieldErr("sync_type", "%q is not a sync type; choose %q (Exchange Online, app-only) or %q.", s.SyncType, SyncEWS, SyncDisabled)
	}},
	{"user", func(s Settings, _ mode) *FieldError {
		if strings.TrimSpace(s.User) == "" {
			if s.SyncType == SyncDisabled {
				return nil
			}
			return fieldErr("user", "enter the address of any existing mailbox in your organization, e.g. alice@contoso.com; ExoCal starts autodiscover with it.")
		}
		if msg := checkAddress(s.User); msg != "" {
			return fieldErr("user", "%s", msg)
		}
		return nil
	}},
	{"autodiscover_url", func(s Settings, _ mode) *FieldError {
		if s.AutodiscoverURL == "" {
			if s.SyncType == SyncDisabled || strings.TrimSpace(s.EWSURL) != "" || checkURL(s.AuthorityHost) != "" {
				return nil // nothing to discover, or the authority's own message comes first
			}
			if DefaultAutodiscoverFor(s.AuthorityHost) == "" {
				return fieldErr("autodiscover_url", "is empty, and the authority host %s is not Microsoft's, so there is no default autodiscover server; enter the autodiscover server's address (for ExoCal's emulator, the same address as the Authority host), or set the EWS URL to skip autodiscover.", s.AuthorityHost)
			}
			return nil
		}
		if msg := checkURL(s.AutodiscoverURL); msg != "" {
			if def := DefaultAutodiscoverFor(s.AuthorityHost); def != "" {
				return fieldErr("autodiscover_url", "%s Leave it empty to use %s.", msg, def)
			}
			return fieldErr("autodiscover_url", "%s", msg)
		}
		return nil
	}},
	{"exchange_server", func(s Settings, _ mode) *FieldError {
		if s.ExchangeServer == ServerExternal || s.ExchangeServer == ServerInternal {
			return nil
		}
		return fieldErr("exchange_server", "%q is not an option; choose %q (the default, right for Exchange Online) or %q.", s.ExchangeServer, ServerExternal, ServerInternal)
	}},
	{"supported_account", func(s Settings, _ mode) *FieldError {
		if s.SupportedAccount == AccountSingle || s.SupportedAccount == AccountMulti {
			return nil
		}
		return fieldErr("supported_account", "%q is not an option; choose %q (\"My organization only\", as registered in Entra) or %q (\"Multiple organization\").", s.SupportedAccount, AccountSingle, AccountMulti)
	}},
	{"max_subscriptions_per_connection", func(s Settings, _ mode) *FieldError {
		if n := s.MaxSubscriptionsPerConnection; n < 1 || n > MaxSubscriptions {
			return fieldErr("max_subscriptions_per_connection", "%d is out of range; enter a number from 1 to %d (Exchange allows at most %d streaming subscriptions on one connection).", n, MaxSubscriptions, MaxSubscriptions)
		}
		return nil
	}},
	{"mailboxes", func(s Settings, _ mode) *FieldError {
		seen := map[string]bool{}
		for _, m := range s.Mailboxes {
			if msg := checkAddress(m); msg != "" {
				return fieldErr("mailboxes", "%s", msg)
			}
			k := strings.ToLower(m)
			if seen[k] {
				return fieldErr("mailboxes", "%s is listed twice; remove one of them.", m)
			}
			seen[k] = true
		}
		return nil
	}},
	{"export_dir", func(s Settings, m mode) *FieldError {
		if msg := checkExportDir(s.ExportDir, m.probe); msg != "" {
			return fieldErr("export_dir", "%s", msg)
		}
		return nil
	}},
	{"window_past_days", func(s Settings, _ mode) *FieldError {
		if n := s.WindowPastDays; n < 0 || n > MaxWindowDays {
			return fieldErr("window_past_days", "%d days is out of range; enter a number of days from 0 to %d (default 30).", n, MaxWindowDays)
		}
		return nil
	}},
	{"window_future_days", func(s Settings, _ mode) *FieldError {
		if n := s.WindowFutureDays; n < 0 || n > MaxWindowDays {
			return fieldErr("window_future_days", "%d days is out of range; enter a number of days from 0 to %d (default 365).", n, MaxWindowDays)
		}
		if s.WindowFutureDays == 0 && s.WindowPastDays == 0 {
			return fieldErr("window_future_days", "the sync window is empty (0 days back and 0 ahead); enter how many days ahead to export, e.g. 365.")
		}
		return nil
	}},
	{"poll_interval", func(s Settings, _ mode) *FieldError {
		d := time.Duration(s.PollInterval)
		if d < MinPollInterval || d > MaxPollInterval {
			return fieldErr("poll_interval", "%s is out of range; enter a duration from 30s to 24h, e.g. 5m (Exchange throttles clients that poll faster).", d)
		}
		return nil
	}},
	{"privacy", func(s Settings, _ mode) *FieldError {
		if s.Privacy == PrivacyFull || s.Privacy == PrivacyFreeBusy {
			return nil
		}
		return fieldErr("privacy", "%q is not an option; choose %q (titles, places, attendees) or %q (only busy times).", s.Privacy, PrivacyFull, PrivacyFreeBusy)
	}},
	{"authority_host", func(s Settings, _ mode) *FieldError {
		if s.AuthorityHost == "" {
			return fieldErr("authority_host", "is empty; enter %s (or your sovereign cloud's login host).", DefaultAuthorityHost)
		}
		if msg := checkURL(s.AuthorityHost); msg != "" {
			return fieldErr("authority_host", "%s The default is %s.", msg, DefaultAuthorityHost)
		}
		return nil
	}},
	{"ews_url", func(s Settings, _ mode) *FieldError {
		if s.EWSURL == "" {
			return nil
		}
		if msg := checkURL(s.EWSURL); msg != "" {
			return fieldErr("ews_url", "%s Leave it empty to find the EWS URL by autodiscover.", msg)
		}
		return nil
	}},
	{"secret_expires", func(s Settings, _ mode) *FieldError {
		// A date in the past is valid: the secret has expired, and the
		// check and the tray say so.
		if _, err := ParseDate(s.SecretExpires); err != nil {
			return fieldErr("secret_expires", "%q is not a date; enter it as YYYY-MM-DD (the Expires column in Entra > Certificates & secrets), e.g. 2027-06-30, or leave it empty.", s.SecretExpires)
		}
		return nil
	}},
}

// Validate checks every field and returns Errors (one FieldError per bad
// field, in the settings window's order) or nil. It is the check before
// saving: the export folder is created (0700) when missing, and a
// temporary file is written in it and removed. Read-only callers use
// ValidateReadOnly.
func (s Settings) Validate() error { return s.validate(mode{probe: true}) }

// ValidateReadOnly is Validate without writing anything: the export folder
// (or, when it does not exist yet, its nearest existing parent) is checked
// for write permission with access(2) instead of being created and probed.
// `exocal check` and other read-only commands use it.
func (s Settings) ValidateReadOnly() error { return s.validate(mode{}) }

func (s Settings) validate(m mode) error {
	var es Errors
	for _, v := range validators {
		if fe := v.check(s, m); fe != nil {
			es = append(es, *fe)
		}
	}
	return es.Err()
}

// ValidateField checks the one field named by its JSON key, as Validate
// does (it is the check before saving that field).
func (s Settings) ValidateField(key string) error {
	for _, v := range validators {
		if v.key == key {
			if fe := v.check(s, mode{probe: true}); fe != nil {
				return Errors{*fe}
			}
			return nil
		}
	}
	return nil
}

// checkAddress returns what is wrong with a mailbox address, or "".
func checkAddress(a string) string {
	if strings.TrimSpace(a) != a || a == "" {
		return fmt.Sprintf("%q has surrounding spaces or is empty; enter a bare address such as alice@contoso.com.", a)
	}
	addr, err := mail.ParseAddress(a)
	at := strings.LastIndexByte(a, '@')
	if err != nil || addr.Name != "" || addr.Address != a || at <= 0 || !strings.Contains(a[at+1:], ".") && a[at+1:] != "localhost" {
		return fmt.Sprintf("%q is not a mailbox address; enter a bare address such as alice@contoso.com (no name, no <>).", a)
	}
	return ""
}

// checkURL returns what is wrong with an endpoint URL, or "".
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("%q is not a URL; enter an address such as https://host.example.com.", raw)
	}
	if u.User != nil {
		return fmt.Sprintf("%q contains a user name or password; remove them (credentials never go into URLs).", raw)
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if IsLoopback(u.Hostname()) {
			return ""
		}
		return fmt.Sprintf("%q uses plain http; use https:// (http:// is allowed only for 127.0.0.1, ::1 and localhost).", raw)
	}
	return fmt.Sprintf("%q is not an http(s) URL; enter an address starting with https://.", raw)
}

// IsLoopback reports whether host is localhost or a loopback IP (127.0.0.0/8, ::1).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkExportDir returns what is wrong with the export folder, or "". With
// probe it creates the folder (0700) when missing and probes it with a
// temporary file; without, it writes nothing (see checkExportDirNoWrite).
func checkExportDir(dir string, probe bool) string {
	if dir == "" {
		return "is empty; choose the folder where ExoCal writes one .ics file per mailbox."
	}
	if !filepath.IsAbs(dir) {
		return fmt.Sprintf("%q is not an absolute path; choose a folder such as /home/you/Calendars.", dir)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Sprintf("%s is a file, not a folder; choose a folder.", dir)
	}
	if !probe {
		return checkExportDirNoWrite(dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Sprintf("%s cannot be created (%v); choose a folder you can write to.", dir, unwrapPathErr(err))
	}
	f, err := os.CreateTemp(dir, ".exocal-probe-*")
	if err != nil {
		return fmt.Sprintf("%s is not writable (%v); choose a folder you can write to or fix its permissions.", dir, unwrapPathErr(err))
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Sprintf("%s does not let ExoCal replace files (%v); choose another folder.", dir, unwrapPathErr(err))
	}
	return ""
}

// checkExportDirNoWrite checks, without writing, that ExoCal could write
// into dir: dir itself when it exists, else the nearest existing parent,
// where the missing folders would be created.
func checkExportDirNoWrite(dir string) string {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Sprintf("%s cannot be created: %s is a file, not a folder; choose another folder.", dir, p)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("%s cannot be used (%v); choose a folder you can write to.", dir, unwrapPathErr(err))
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Sprintf("%s cannot be created (no existing parent folder); choose a folder you can write to.", dir)
		}
		p = parent
	}
	if err := writable(p); err != nil {
		if p == filepath.Clean(dir) {
			return fmt.Sprintf("%s is not writable (%v); choose a folder you can write to or fix its permissions.", dir, err)
		}
		return fmt.Sprintf("%s cannot be created: %s is not writable (%v); choose a folder you can write to.", dir, p, err)
	}
	return ""
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID such as 8c1d2e3f-1234-4abc-9def-0123456789ab.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

var domainLabelRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if !domainLabelRE.MatchString(l) {
			return false
		}
	}
	return true
}

// ValidateTenantID checks a Directory (tenant) ID: a GUID or a verified
// domain; the multi-tenant aliases are refused for app-only sign-in.
func ValidateTenantID(tenantID string) *FieldError {
	t := strings.ToLower(tenantID)
	switch {
	case tenantID == "":
		return fieldErr("tenant_id", "is empty; copy the Directory (tenant) ID from Entra > App registrations > your app > Overview.")
	case strings.TrimSpace(tenantID) != tenantID:
		return fieldErr("tenant_id", "%q has surrounding spaces; enter the ID alone.", tenantID)
	case t == "common" || t == "organizations" || t == "consumers":
		return fieldErr("tenant_id", "%q cannot be used with app-only authentication, because no user signs in to pick the tenant; enter your Directory (tenant) ID GUID from Entra > Overview, or a verified domain such as contoso.onmicrosoft.com.", tenantID)
	case IsGUID(tenantID) || isDomain(tenantID):
		return nil
	}
	return fieldErr("tenant_id", "%q is neither a GUID nor a domain; copy the Directory (tenant) ID from Entra > App registrations > your app > Overview (or use a verified domain such as contoso.onmicrosoft.com).", tenantID)
}

// ValidateClientID checks an Application (client) ID: a GUID.
func ValidateClientID(clientID string) *FieldError {
	if clientID == "" {
		return fieldErr("client_id", "is empty; copy the Application (client) ID from Entra > App registrations > your app > Overview.")
	}
	if strings.TrimSpace(clientID) != clientID {
		return fieldErr("client_id", "%q has surrounding spaces; enter the ID alone.", clientID)
	}
	if !IsGUID(clientID) {
		return fieldErr("client_id", "%q is not a GUID; copy the Application (client) ID (not the object ID or the app's name) from Entra > App registrations > your app > Overview.", clientID)
	}
	return nil
}

// ValidateRegistration checks the tenant ID and client ID of an Entra app
// registration and returns one FieldError per bad value (nil when both are good).
func ValidateRegistration(tenantID, clientID string) Errors {
	var es Errors
	if fe := ValidateTenantID(tenantID); fe != nil {
		es = append(es, *fe)
	}
	if fe := ValidateClientID(clientID); fe != nil {
		es = append(es, *fe)
	}
	return es
}
