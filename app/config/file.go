package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
// keys missing from the file keep their defaults; older versions are
// migrated; keys it does not know are ignored (LoadWarn names them).
func Load(path string) (Settings, error) {
	s, _, err := LoadWarn(path)
	return s, err
}

// Warning is something Load noticed and ignored; it does not stop loading.
type Warning struct {
	Path string // the settings file
	Key  string // the key in question
	// Message says, for people, what was ignored and how to fix it; it
	// names the key, the file and the keys that are known.
	Message string
}

func (w Warning) String() string { return w.Message }

// LoadWarn is Load that also returns a Warning for each key of the file
// that is not a setting (a typo such as "usr", a registration value that
// belongs in the keyring, a key of another program), sorted by key. The
// settings are loaded as by Load either way.
func LoadWarn(path string) (Settings, []Warning, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Defaults(), nil, nil
	}
	if err != nil {
		return Settings{}, nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	s, err := load(path, b)
	if err != nil {
		return Settings{}, nil, err
	}
	return s, unknownKeys(path, b), nil
}

// unknownKeys names the top-level keys of b that are no setting.
// encoding/json matches keys case-insensitively, so "User" is a known key.
func unknownKeys(path string, b []byte) []Warning {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	known := append(Keys(), "version")
	var ws []Warning
	for k := range m {
		if slices.ContainsFunc(known, func(x string) bool { return strings.EqualFold(x, k) }) {
			continue
		}
		var msg string
		switch kl := strings.ToLower(strings.TrimSpace(k)); kl {
		case "tenant_id", "client_id":
			msg = fmt.Sprintf("%s: the key %q is ignored: the %s is kept in the OS keyring, not in this file; set it with 'exocal config set %s VALUE' (or the settings window) and delete the key from the file.",
				path, k, Labels[kl], kl)
		case "client_secret":
			msg = fmt.Sprintf("%s: the key %q is ignored: the client secret must never be kept in a file; delete the key from the file now, create a new secret in Entra if others could read the file, and store it with 'exocal secret set' (it reads stdin).",
				path, k)
		default:
			msg = fmt.Sprintf("%s: the key %q is not a setting and is ignored", path, k)
			if near := nearestKey(kl, known); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += "."
			}
			msg += " Known keys: " + strings.Join(Keys(), ", ") + " (and version)."
		}
		ws = append(ws, Warning{Path: path, Key: k, Message: msg})
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Key < ws[j].Key })
	return ws
}

// nearestKey returns the known key within a small edit distance of k, or "".
func nearestKey(k string, known []string) string {
	best, bestD := "", 3 // at most two edits
	for _, c := range known {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// load decodes a settings file's bytes over the defaults and migrates them.
func load(path string, b []byte) (Settings, error) {
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
	// A change may make another field wrong (authority_host without a
	// default autodiscover server needs autodiscover_url): refuse what the
	// change itself breaks, as the settings window would, but not what was
	// wrong before it (the settings are set one key at a time).
	before := map[FieldError]bool{}
	for _, fe := range AsErrors(s.ValidateReadOnly()) {
		before[fe] = true
	}
	var broken Errors
	for _, fe := range AsErrors(c.ValidateReadOnly()) {
		if !before[fe] {
			broken = append(broken, fe)
		}
	}
	if len(broken) > 0 {
		return broken
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
