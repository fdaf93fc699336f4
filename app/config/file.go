package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/exocal/exocal/internal/atomicfile"
)

// Path returns where the settings live: os.UserConfigDir()/exocal/config.json,
// i.e. $XDG_CONFIG_HOME/exocal/config.json or ~/.config/exocal/config.json.
func Path() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: no user config dir (set HOME or XDG_CONFIG_HOME): %w", err)
	}
	return filepath.Join(dir, "exocal", "config.json"), nil
}

// ErrNewerVersion is wrapped by Load when the file was written by a newer ExoCal.
var ErrNewerVersion = errors.New("config: written by a newer ExoCal")

// migrations[v] turns a version-v file (already decoded over Defaults) into
// version v+1. Version 0 is a file without a "version" key: the fields it
// lacks keep their defaults, so there is nothing else to do.
var migrations = map[int]func(*Settings){
	0: func(*Settings) {},
}

// Load reads the settings at path. A missing file gives Defaults (no error);
// keys missing from the file keep their defaults; older versions are migrated.
func Load(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Defaults(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Settings{}, fmt.Errorf("config: %s is not valid JSON (%v); fix it, or delete it to start from the defaults", path, err)
	}
	v := 0
	if head.Version != nil {
		v = *head.Version
	}
	if v > Version || v < 0 {
		return Settings{}, fmt.Errorf("%w: %s has version %d but this ExoCal understands up to %d; upgrade ExoCal or move the file away", ErrNewerVersion, path, v, Version)
	}
	s := Defaults()
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("config: %s: %v; fix the value, or delete the file to start from the defaults", path, err)
	}
	for ; v < Version; v++ {
		m, ok := migrations[v]
		if !ok {
			return Settings{}, fmt.Errorf("config: %s: no migration from version %d", path, v)
		}
		m(&s)
	}
	s.Version = Version
	if s.Mailboxes == nil {
		s.Mailboxes = []string{}
	}
	return s, nil
}

// Save writes s to path atomically: a temporary file in the same folder,
// fsynced, mode 0600, renamed over the old file (internal/atomicfile); the
// folder is created 0700.
func Save(path string, s Settings) error {
	s.Version = Version
	if s.Mailboxes == nil {
		s.Mailboxes = []string{}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("config: encode: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: create %s: %w", dir, err)
	}
	if err := atomicfile.WriteBytes(path, 0o600, b); err != nil {
		return fmt.Errorf("config: save %s: %w", path, err)
	}
	return nil
}

// Keys returns every JSON key that Set accepts, sorted.
func Keys() []string {
	keys := make([]string, 0, len(setters))
	for k := range setters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var setters = map[string]func(s *Settings, v string) *FieldError{
	"sync_type":         func(s *Settings, v string) *FieldError { s.SyncType = v; return nil },
	"user":              func(s *Settings, v string) *FieldError { s.User = v; return nil },
	"autodiscover_url":  func(s *Settings, v string) *FieldError { s.AutodiscoverURL = v; return nil },
	"exchange_server":   func(s *Settings, v string) *FieldError { s.ExchangeServer = v; return nil },
	"supported_account": func(s *Settings, v string) *FieldError { s.SupportedAccount = v; return nil },
	"max_subscriptions_per_connection": func(s *Settings, v string) *FieldError {
		return setInt(&s.MaxSubscriptionsPerConnection, "max_subscriptions_per_connection", v)
	},
	"ews_debug": func(s *Settings, v string) *FieldError {
		switch strings.ToLower(v) {
		case "true", "on", "yes", "1":
			s.EWSDebug = true
		case "false", "off", "no", "0":
			s.EWSDebug = false
		default:
			return fieldErr("ews_debug", "%q is not on or off; enter true or false.", v)
		}
		return nil
	},
	"mailboxes": func(s *Settings, v string) *FieldError {
		s.Mailboxes = SplitList(v)
		return nil
	},
	"export_dir": func(s *Settings, v string) *FieldError { s.ExportDir = v; return nil },
	"window_past_days": func(s *Settings, v string) *FieldError {
		return setInt(&s.WindowPastDays, "window_past_days", v)
	},
	"window_future_days": func(s *Settings, v string) *FieldError {
		return setInt(&s.WindowFutureDays, "window_future_days", v)
	},
	"poll_interval": func(s *Settings, v string) *FieldError {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fieldErr("poll_interval", "%q is not a duration; enter a value such as 5m, 90s or 1h.", v)
		}
		s.PollInterval = Duration(d)
		return nil
	},
	"privacy":        func(s *Settings, v string) *FieldError { s.Privacy = v; return nil },
	"authority_host": func(s *Settings, v string) *FieldError { s.AuthorityHost = v; return nil },
	"ews_url":        func(s *Settings, v string) *FieldError { s.EWSURL = v; return nil },
	"secret_expires": func(s *Settings, v string) *FieldError { s.SecretExpires = strings.TrimSpace(v); return nil },
}

func setInt(dst *int, key, v string) *FieldError {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fieldErr(key, "%q is not a whole number; enter digits only, e.g. %d.", v, *dst)
	}
	*dst = n
	return nil
}

// SplitList splits a comma- (or newline-) separated list, trimming spaces
// and dropping empty entries.
func SplitList(v string) []string {
	out := []string{}
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// IsRegistrationKey reports whether key is kept in the OS keyring, not in config.json.
func IsRegistrationKey(key string) bool {
	return key == "tenant_id" || key == "client_id" || key == "client_secret"
}

// Set parses value into the field named by its JSON key and validates that
// field. On error *s is unchanged and the error is Errors with one
// FieldError (or, for an unknown key, a plain error listing the keys).
// Mailboxes take a comma-separated list.
func Set(s *Settings, key, value string) error {
	if IsRegistrationKey(key) {
		return Errors{*fieldErr(key, "is kept in the OS keyring, not in config.json; set it through the keyring (exocal config set %s VALUE handles this, exocal secret set for the secret).", key)}
	}
	set, ok := setters[key]
	if !ok {
		return fmt.Errorf("config: unknown key %q; known keys: %s, tenant_id, client_id", key, strings.Join(Keys(), ", "))
	}
	c := *s
	c.Mailboxes = append([]string(nil), s.Mailboxes...)
	if fe := set(&c, value); fe != nil {
		return Errors{*fe}
	}
	if err := c.ValidateField(key); err != nil {
		return err
	}
	*s = c
	return nil
}

// Equal reports whether a and b hold the same settings.
func Equal(a, b Settings) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
