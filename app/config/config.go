// Package config holds ExoCal's settings: a versioned struct with defaults,
// validation that names each bad field with its fix, and an atomic save
// under the user config dir. It never holds a secret: the tenant ID, client
// ID and client secret live in the OS keyring (see app/secrets).
package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/auth"
)

// Version is the current settings schema version.
const Version = 1

// Settings is the content of config.json. Field order follows the seed's
// settings dialog (DESIGN.md), then ExoCal's own additions.
type Settings struct {
	Version int `json:"version"`

	SyncType                      string `json:"sync_type"`         // "disabled", "ews" (later "graph")
	User                          string `json:"user"`              // any existing mailbox; autodiscover starts here
	AutodiscoverURL               string `json:"autodiscover_url"`  // "" = the cloud's default, https://autodiscover-s.outlook.com worldwide
	ExchangeServer                string `json:"exchange_server"`   // "external" or "internal"
	SupportedAccount              string `json:"supported_account"` // "single" or "multi"
	MaxSubscriptionsPerConnection int    `json:"max_subscriptions_per_connection"`
	EWSDebug                      bool   `json:"ews_debug"`

	Mailboxes        []string `json:"mailboxes"` // empty = [User]
	ExportDir        string   `json:"export_dir"`
	WindowPastDays   int      `json:"window_past_days"`
	WindowFutureDays int      `json:"window_future_days"`
	PollInterval     Duration `json:"poll_interval"`
	Privacy          string   `json:"privacy"` // "full" or "free-busy"
	AuthorityHost    string   `json:"authority_host"`
	EWSURL           string   `json:"ews_url"` // set: skip autodiscover
	// SecretExpires is the client secret's expiry date as Entra shows it
	// (YYYY-MM-DD), noted by the user; "" = unknown. The tray warns
	// check.ExpiryNoticeDays before it; a date in the past is valid (and
	// warns). It is a date, not the secret.
	SecretExpires string `json:"secret_expires"`
}

// Values of the enumerated settings.
const (
	SyncDisabled = "disabled"
	SyncEWS      = "ews"
	SyncGraph    = "graph" // not implemented yet; refused by Validate

	ServerExternal = "external"
	ServerInternal = "internal"

	AccountSingle = "single"
	AccountMulti  = "multi"

	PrivacyFull     = "full"
	PrivacyFreeBusy = "free-busy"

	// DefaultAutodiscoverURL is used when autodiscover_url is empty.
	DefaultAutodiscoverURL = "https://autodiscover-s.outlook.com"
	// DefaultAuthorityHost is Microsoft Entra ID's global login endpoint.
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	// MaxSubscriptions is the EWS limit of streaming subscriptions per connection.
	MaxSubscriptions = 200
)

// Duration is a time.Duration that reads and writes as "5m0s" in JSON.
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a string such as "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string such as "5m0s" (or, leniently, a number of
// nanoseconds as encoding/json would write a time.Duration).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("config: duration %s: want a string such as \"5m0s\"", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("config: duration %q: want a value such as \"5m0s\" or \"90s\": %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Defaults returns the settings of a fresh installation.
//
// The export folder defaults to $XDG_DATA_HOME/exocal/calendars (that is
// ~/.local/share/exocal/calendars when XDG_DATA_HOME is unset), so that
// setting the XDG_* variables isolates a run completely; the settings window
// offers a folder picker to move it somewhere more visible.
func Defaults() Settings {
	return Settings{
		Version:                       Version,
		SyncType:                      SyncEWS,
		ExchangeServer:                ServerExternal,
		SupportedAccount:              AccountSingle,
		MaxSubscriptionsPerConnection: MaxSubscriptions,
		Mailboxes:                     []string{},
		ExportDir:                     defaultExportDir(),
		WindowPastDays:                30,
		WindowFutureDays:              365,
		PollInterval:                  Duration(5 * time.Minute),
		Privacy:                       PrivacyFull,
		AuthorityHost:                 DefaultAuthorityHost,
	}
}

func defaultExportDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "exocal", "calendars")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "exocal", "calendars")
	}
	return ""
}

// EffectiveMailboxes returns the mailboxes to sync: Mailboxes, or just User
// when the list is empty.
func (s Settings) EffectiveMailboxes() []string {
	if len(s.Mailboxes) > 0 {
		return append([]string(nil), s.Mailboxes...)
	}
	if u := strings.TrimSpace(s.User); u != "" {
		return []string{u}
	}
	return nil
}

// SecretExpiry parses SecretExpires: the zero time when it is empty or not
// a date (Validate names the latter). The date is midnight UTC at the start
// of that day.
func (s Settings) SecretExpiry() time.Time {
	t, err := ParseDate(s.SecretExpires)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ParseDate reads a YYYY-MM-DD date ("" gives the zero time and no error).
func ParseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("config: %q is not a date in the form YYYY-MM-DD: %w", v, err)
	}
	return t, nil
}

// EffectiveAutodiscoverURL returns AutodiscoverURL or the default of the
// authority host's cloud (DefaultAutodiscoverFor); "" when neither exists
// (an authority that is not Microsoft's and no autodiscover_url, which
// Validate refuses unless ews_url is set).
func (s Settings) EffectiveAutodiscoverURL() string {
	if s.AutodiscoverURL != "" {
		return s.AutodiscoverURL
	}
	return DefaultAutodiscoverFor(s.AuthorityHost)
}

// DefaultAutodiscoverFor returns the default autodiscover server of the
// Microsoft cloud that authorityHost belongs to (DefaultAutodiscoverURL
// worldwide; "" or the default authority counts as worldwide), or "" when
// the authority is not Microsoft's (the emulator, a test server), which
// has no default.
func DefaultAutodiscoverFor(authorityHost string) string {
	if strings.TrimSpace(authorityHost) == "" {
		return DefaultAutodiscoverURL
	}
	return auth.CloudForAuthority(authorityHost).AutodiscoverURL
}
