package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// good returns valid settings whose export folder is inside t's temp dir.
func good(t *testing.T) Settings {
	t.Helper()
	s := Defaults()
	s.User = "alice@contoso.com"
	s.ExportDir = filepath.Join(t.TempDir(), "calendars")
	return s
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	d := Defaults()
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", d.Version, Version},
		{"sync_type", d.SyncType, "ews"},
		{"exchange_server", d.ExchangeServer, "external"},
		{"supported_account", d.SupportedAccount, "single"},
		{"max subscriptions", d.MaxSubscriptionsPerConnection, 200},
		{"window past", d.WindowPastDays, 30},
		{"window future", d.WindowFutureDays, 365},
		{"poll", time.Duration(d.PollInterval), 5 * time.Minute},
		{"privacy", d.Privacy, "full"},
		{"authority", d.AuthorityHost, "https://login.microsoftonline.com"},
		{"ews_debug", d.EWSDebug, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if !filepath.IsAbs(d.ExportDir) {
		t.Errorf("export_dir: got %q, want an absolute path", d.ExportDir)
	}
}

func TestDefaultExportDirFollowsXDG(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	if got, want := Defaults().ExportDir, filepath.Join(dir, "exocal", "calendars"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDefaultsPlusUserValidate(t *testing.T) {
	t.Parallel()
	if err := good(t).Validate(); err != nil {
		t.Fatalf("got %v, want defaults with a user to be valid", err)
	}
}

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Duration(5 * time.Minute))
	if err != nil || string(b) != `"5m0s"` {
		t.Fatalf("got %s, %v; want \"5m0s\"", b, err)
	}
	for in, want := range map[string]time.Duration{`"90s"`: 90 * time.Second, `"1h"`: time.Hour, `300000000000`: 5 * time.Minute} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("unmarshal %s: got %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"five minutes"`), &d); err == nil || !strings.Contains(err.Error(), "5m0s") {
		t.Errorf("got %v, want an error that shows the format", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "exocal", "config.json")
	want := good(t)
	want.Mailboxes = []string{"room1@contoso.com", "bob@contoso.com"}
	want.EWSDebug = true
	want.PollInterval = Duration(90 * time.Second)
	want.EWSURL = "http://127.0.0.1:8080/EWS/Exchange.asmx"
	want.Privacy = PrivacyFreeBusy
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"poll_interval": "1m30s"`) {
		t.Errorf("got file\n%s\nwant poll_interval written as \"1m30s\"", b)
	}
}

func TestLoadMissingIsDefaults(t *testing.T) {
	t.Parallel()
	got, err := Load(filepath.Join(t.TempDir(), "nope", "config.json"))
	if err != nil {
		t.Fatalf("got %v, want no error", err)
	}
	if !reflect.DeepEqual(got, Defaults()) {
		t.Errorf("got %+v, want Defaults", got)
	}
}

func TestLoadVersions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	// Version 0: no version key, only some fields; the rest are defaults.
	s, err := Load(write("v0.json", `{"user": "alice@contoso.com", "max_subscriptions_per_connection": 50}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != Version || s.User != "alice@contoso.com" || s.MaxSubscriptionsPerConnection != 50 || s.WindowFutureDays != 365 {
		t.Errorf("got %+v, want version %d, the file's values and defaults for the rest", s, Version)
	}
	_, err = Load(write("v99.json", `{"version": 99}`))
	if !errors.Is(err, ErrNewerVersion) || !strings.Contains(err.Error(), "upgrade ExoCal") {
		t.Errorf("got %v, want ErrNewerVersion saying to upgrade", err)
	}
	_, err = Load(write("bad.json", `{"version": 1,`))
	if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("got %v, want a JSON error", err)
	}
}

func TestSaveAtomic(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "exocal")
	path := filepath.Join(dir, "config.json")
	for i := 0; i < 3; i++ {
		s := Defaults()
		s.WindowPastDays = i
		if err := Save(path, s); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "config.json" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("got files %v, want only config.json (no temp files left)", names)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("got file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Errorf("got dir mode %v, want 0700", di.Mode().Perm())
	}
	if s, _ := Load(path); s.WindowPastDays != 2 {
		t.Errorf("got window_past_days %d, want 2 (the last save)", s.WindowPastDays)
	}
}

func TestSaveFailureLeavesOldFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	Save(path, Defaults())
	before, _ := os.ReadFile(path)
	// A directory where the file should be renamed to makes the rename fail.
	bad := filepath.Join(dir, "sub")
	os.MkdirAll(filepath.Join(bad, "config.json", "x"), 0o700)
	if err := Save(filepath.Join(bad, "config.json"), Defaults()); err == nil {
		t.Fatal("got nil, want an error renaming over a directory")
	}
	entries, _ := os.ReadDir(bad)
	if len(entries) != 1 {
		t.Errorf("got %d entries in %s, want only the obstacle (temp file removed)", len(entries), bad)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("unrelated file changed")
	}
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	fileInTheWay := filepath.Join(t.TempDir(), "file")
	os.WriteFile(fileInTheWay, nil, 0o600)
	readOnly := filepath.Join(t.TempDir(), "ro")
	os.MkdirAll(readOnly, 0o500)

	tests := []struct {
		key     string
		mutate  func(*Settings)
		wantMsg string // part of the fix
	}{
		{"sync_type", func(s *Settings) { s.SyncType = "exchange" }, `choose "ews"`},
		{"sync_type", func(s *Settings) { s.SyncType = "graph" }, "not supported yet"},
		{"user", func(s *Settings) { s.User = "" }, "existing mailbox"},
		{"user", func(s *Settings) { s.User = "alice" }, "alice@contoso.com"},
		{"user", func(s *Settings) { s.User = "Alice <alice@contoso.com>" }, "no name"},
		{"user", func(s *Settings) { s.User = " alice@contoso.com" }, "spaces"},
		{"user", func(s *Settings) { s.User = "alice@contoso" }, "bare address"},
		{"autodiscover_url", func(s *Settings) { s.AutodiscoverURL = "http://autodiscover.contoso.com" }, "use https://"},
		{"autodiscover_url", func(s *Settings) { s.AutodiscoverURL = "autodiscover.contoso.com" }, "https://"},
		{"autodiscover_url", func(s *Settings) { s.AutodiscoverURL = "ftp://autodiscover.contoso.com" }, "https://"},
		{"autodiscover_url", func(s *Settings) { s.AutodiscoverURL = "https://u:p@autodiscover.contoso.com" }, "remove them"},
		{"exchange_server", func(s *Settings) { s.ExchangeServer = "cloud" }, `"external"`},
		{"supported_account", func(s *Settings) { s.SupportedAccount = "any" }, "My organization only"},
		{"max_subscriptions_per_connection", func(s *Settings) { s.MaxSubscriptionsPerConnection = 0 }, "from 1 to 200"},
		{"max_subscriptions_per_connection", func(s *Settings) { s.MaxSubscriptionsPerConnection = 201 }, "from 1 to 200"},
		{"mailboxes", func(s *Settings) { s.Mailboxes = []string{"bob@contoso.com", "room 1"} }, "bare address"},
		{"mailboxes", func(s *Settings) { s.Mailboxes = []string{"bob@contoso.com", "Bob@contoso.com"} }, "listed twice"},
		{"export_dir", func(s *Settings) { s.ExportDir = "" }, "choose the folder"},
		{"export_dir", func(s *Settings) { s.ExportDir = "calendars" }, "absolute path"},
		{"export_dir", func(s *Settings) { s.ExportDir = fileInTheWay }, "not a folder"},
		{"export_dir", func(s *Settings) { s.ExportDir = filepath.Join(fileInTheWay, "sub") }, "choose a folder you can write to"},
		{"window_past_days", func(s *Settings) { s.WindowPastDays = -1 }, "from 0 to 3650"},
		{"window_future_days", func(s *Settings) { s.WindowFutureDays = 100000 }, "from 0 to 3650"},
		{"window_future_days", func(s *Settings) { s.WindowPastDays, s.WindowFutureDays = 0, 0 }, "window is empty"},
		{"poll_interval", func(s *Settings) { s.PollInterval = Duration(10 * time.Second) }, "from 30s to 24h"},
		{"poll_interval", func(s *Settings) { s.PollInterval = Duration(48 * time.Hour) }, "from 30s to 24h"},
		{"privacy", func(s *Settings) { s.Privacy = "private" }, `"free-busy"`},
		{"authority_host", func(s *Settings) { s.AuthorityHost = "" }, "https://login.microsoftonline.com"},
		{"authority_host", func(s *Settings) { s.AuthorityHost = "http://login.contoso.com" }, "use https://"},
		{"authority_host", func(s *Settings) { s.AuthorityHost = "http://127.0.0.2.nip.io:8080" }, "use https://"},
		{"ews_url", func(s *Settings) { s.EWSURL = "http://mail.contoso.com/EWS/Exchange.asmx" }, "use https://"},
		{"autodiscover_url", func(s *Settings) { s.AuthorityHost = "http://127.0.0.1:4000" }, "no default autodiscover server; enter the autodiscover server's address"},
		{"autodiscover_url", func(s *Settings) { s.AuthorityHost = "https://login.contoso.example" }, "or set the EWS URL"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		tests = append(tests, struct {
			key     string
			mutate  func(*Settings)
			wantMsg string
		}{"export_dir", func(s *Settings) { s.ExportDir = readOnly }, "not writable"})
	}
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.wantMsg, func(t *testing.T) {
			t.Parallel()
			s := good(t)
			tt.mutate(&s)
			es := AsErrors(s.Validate())
			if len(es) != 1 {
				t.Fatalf("got %d errors %v, want exactly one for %s", len(es), es, tt.key)
			}
			if ro := AsErrors(s.ValidateReadOnly()); len(ro) != 1 || ro[0].Key != tt.key || !strings.Contains(ro[0].Message, tt.wantMsg) {
				t.Errorf("ValidateReadOnly: got %v, want one error for %s containing %q", ro, tt.key, tt.wantMsg)
			}
			fe := es[0]
			if fe.Key != tt.key {
				t.Errorf("got key %q, want %q", fe.Key, tt.key)
			}
			if fe.Label == "" || fe.Label != Labels[tt.key] {
				t.Errorf("got label %q, want %q", fe.Label, Labels[tt.key])
			}
			if !strings.Contains(fe.Message, tt.wantMsg) {
				t.Errorf("got message %q, want it to contain %q", fe.Message, tt.wantMsg)
			}
			if !strings.HasPrefix(fe.Error(), fe.Label+": ") {
				t.Errorf("got %q, want it to name the field first", fe.Error())
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []func(*Settings){
		func(s *Settings) { s.AutodiscoverURL = "http://127.0.0.1:4000" },
		func(s *Settings) { s.AutodiscoverURL = "http://[::1]:4000/autodiscover" },
		func(s *Settings) {
			s.AuthorityHost, s.AutodiscoverURL = "http://localhost:9999", "http://localhost:9999"
		},
		func(s *Settings) {
			s.AuthorityHost, s.EWSURL = "http://localhost:9999", "http://localhost:9999/EWS/Exchange.asmx"
		},
		func(s *Settings) { s.AuthorityHost, s.SyncType, s.User = "http://localhost:9999", SyncDisabled, "" },
		func(s *Settings) { s.AuthorityHost = "https://login.microsoftonline.us" }, // GCC High has a default autodiscover server
		func(s *Settings) { s.EWSURL = "https://outlook.office365.com/EWS/Exchange.asmx" },
		func(s *Settings) { s.SyncType, s.User = SyncDisabled, "" },
		func(s *Settings) { s.Mailboxes = []string{"room.1@contoso.com", "bob+cal@contoso.co.uk"} },
		func(s *Settings) { s.WindowPastDays, s.WindowFutureDays = 0, 1 },
		func(s *Settings) { s.PollInterval = Duration(30 * time.Second) },
		func(s *Settings) { s.MaxSubscriptionsPerConnection = 1 },
	}
	for i, mutate := range tests {
		s := good(t)
		mutate(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("case %d: got %v, want valid", i, err)
		}
	}
}

func TestValidateListsEveryBadField(t *testing.T) {
	t.Parallel()
	s := good(t)
	s.User = "nope"
	s.MaxSubscriptionsPerConnection = 500
	s.Privacy = "x"
	es := AsErrors(s.Validate())
	var keys []string
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	if want := []string{"user", "max_subscriptions_per_connection", "privacy"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("got keys %v, want %v", keys, want)
	}
}

func TestExportDirCreated0700(t *testing.T) {
	t.Parallel()
	s := good(t)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.ExportDir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("got %v, %v; want a 0700 folder", fi, err)
	}
	if entries, _ := os.ReadDir(s.ExportDir); len(entries) != 0 {
		t.Errorf("got %d files, want the probe file removed", len(entries))
	}
}

func TestValidateRegistration(t *testing.T) {
	t.Parallel()
	const guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	tests := []struct {
		tenant, client string
		wantKeys       []string
		wantMsg        string
	}{
		{guid, guid, nil, ""},
		{"3F2504E0-4F89-11D3-9A0C-0305E82C3301", guid, nil, ""},
		{"contoso.onmicrosoft.com", guid, nil, ""},
		{"contoso.com", guid, nil, ""},
		{"common", guid, []string{"tenant_id"}, "app-only"},
		{"Organizations", guid, []string{"tenant_id"}, "no user signs in"},
		{"consumers", guid, []string{"tenant_id"}, "Directory (tenant) ID"},
		{"", guid, []string{"tenant_id"}, "Overview"},
		{"contoso", guid, []string{"tenant_id"}, "neither a GUID nor a domain"},
		{" " + guid, guid, []string{"tenant_id"}, "spaces"},
		{guid, "my-app", []string{"client_id"}, "Application (client) ID"},
		{guid, "", []string{"client_id"}, "Application (client) ID"},
		{"common", "x", []string{"tenant_id", "client_id"}, ""},
	}
	for _, tt := range tests {
		es := ValidateRegistration(tt.tenant, tt.client)
		var keys []string
		for _, e := range es {
			keys = append(keys, e.Key)
		}
		if !reflect.DeepEqual(keys, tt.wantKeys) {
			t.Errorf("(%q, %q): got keys %v, want %v", tt.tenant, tt.client, keys, tt.wantKeys)
			continue
		}
		if tt.wantMsg != "" && !strings.Contains(es[0].Message, tt.wantMsg) {
			t.Errorf("(%q, %q): got %q, want it to contain %q", tt.tenant, tt.client, es[0].Message, tt.wantMsg)
		}
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value string
		check      func(Settings) bool
	}{
		{"user", "bob@contoso.com", func(s Settings) bool { return s.User == "bob@contoso.com" }},
		{"mailboxes", "a@contoso.com, b@contoso.com,,", func(s Settings) bool {
			return reflect.DeepEqual(s.Mailboxes, []string{"a@contoso.com", "b@contoso.com"})
		}},
		{"mailboxes", "", func(s Settings) bool { return len(s.Mailboxes) == 0 }},
		{"max_subscriptions_per_connection", "17", func(s Settings) bool { return s.MaxSubscriptionsPerConnection == 17 }},
		{"ews_debug", "on", func(s Settings) bool { return s.EWSDebug }},
		{"poll_interval", "90s", func(s Settings) bool { return time.Duration(s.PollInterval) == 90*time.Second }},
		{"privacy", "free-busy", func(s Settings) bool { return s.Privacy == PrivacyFreeBusy }},
		{"autodiscover_url", "", func(s Settings) bool { return s.AutodiscoverURL == "" }},
		{"ews_url", "http://127.0.0.1:1234/EWS/Exchange.asmx", func(s Settings) bool { return s.EWSURL != "" }},
		{"secret_expires", "2027-06-30", func(s Settings) bool { return s.SecretExpires == "2027-06-30" }},
		// An expired date is valid input: the check and the tray warn about it.
		{"secret_expires", " 2020-01-31 ", func(s Settings) bool { return s.SecretExpires == "2020-01-31" }},
		{"secret_expires", "", func(s Settings) bool { return s.SecretExpires == "" }},
	}
	for _, tt := range tests {
		s := good(t)
		if err := Set(&s, tt.key, tt.value); err != nil {
			t.Errorf("Set(%s, %q): got %v, want nil", tt.key, tt.value, err)
			continue
		}
		if !tt.check(s) {
			t.Errorf("Set(%s, %q): got %+v", tt.key, tt.value, s)
		}
	}
}

func TestSetRejectsAndKeeps(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, value string }{
		{"max_subscriptions_per_connection", "500"},
		{"max_subscriptions_per_connection", "many"},
		{"ews_debug", "maybe"},
		{"poll_interval", "5"},
		{"poll_interval", "1s"},
		{"mailboxes", "a@contoso.com, nope"},
		{"authority_host", "http://login.contoso.com"},
		{"sync_type", "foo"},
		{"tenant_id", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{"secret_expires", "30/06/2027"},
		{"secret_expires", "2027-13-01"},
		{"secret_expires", "2027-02-30"},
		{"secret_expires", "next year"},
	}
	for _, tt := range tests {
		s := good(t)
		before := s
		err := Set(&s, tt.key, tt.value)
		fe, ok := AsErrors(err).For(tt.key)
		if !ok {
			t.Errorf("Set(%s, %q): got %v, want a FieldError for %s", tt.key, tt.value, err, tt.key)
		}
		if fe.Message == "" {
			t.Errorf("Set(%s, %q): got an empty message", tt.key, tt.value)
		}
		if !Equal(s, before) {
			t.Errorf("Set(%s, %q): settings changed on error", tt.key, tt.value)
		}
	}
	s := good(t)
	if err := Set(&s, "colour", "blue"); err == nil || !strings.Contains(err.Error(), "max_subscriptions_per_connection") {
		t.Errorf("got %v, want an unknown-key error listing the keys", err)
	}
}

func TestSetCoversEveryJSONKey(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(Defaults())
	var m map[string]any
	json.Unmarshal(b, &m)
	for k := range m {
		if k == "version" {
			continue
		}
		if _, ok := setters[k]; !ok {
			t.Errorf("no setter for JSON key %q", k)
		}
		if Labels[k] == "" {
			t.Errorf("no label for JSON key %q", k)
		}
	}
}

func TestPathHonoursXDG(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	p, err := Path()
	if err != nil || p != filepath.Join(dir, "exocal", "config.json") {
		t.Errorf("got %q, %v; want %q", p, err, filepath.Join(dir, "exocal", "config.json"))
	}
}

func TestEffectiveMailboxes(t *testing.T) {
	t.Parallel()
	s := Defaults()
	if got := s.EffectiveMailboxes(); got != nil {
		t.Errorf("got %v, want none", got)
	}
	s.User = "alice@contoso.com"
	if got := s.EffectiveMailboxes(); !reflect.DeepEqual(got, []string{"alice@contoso.com"}) {
		t.Errorf("got %v, want [user]", got)
	}
	s.Mailboxes = []string{"room@contoso.com"}
	if got := s.EffectiveMailboxes(); !reflect.DeepEqual(got, []string{"room@contoso.com"}) {
		t.Errorf("got %v, want the list", got)
	}
}

func TestSecretExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"2027-06-30", time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
		{"2020-01-31", time.Date(2020, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"garbage", time.Time{}},
	}
	for _, tt := range tests {
		s := Settings{SecretExpires: tt.in}
		if got := s.SecretExpiry(); !got.Equal(tt.want) {
			t.Errorf("SecretExpiry(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Set refuses a value that makes another field wrong, and only that: what
// was wrong before the change does not stop it (settings are set one key
// at a time).
func TestSetRefusesWhatItBreaks(t *testing.T) {
	t.Parallel()
	s := Defaults()
	s.ExportDir = t.TempDir()
	// Not yet valid as a whole (no User), which must not block other keys.
	if err := Set(&s, "max_subscriptions_per_connection", "100"); err != nil {
		t.Fatalf("Set max_subscriptions_per_connection on incomplete settings: %v", err)
	}
	before := s
	err := Set(&s, "authority_host", "https://login.example.org")
	es := AsErrors(err)
	if len(es) != 1 || es[0].Key != "autodiscover_url" {
		t.Fatalf("Set authority_host to a cloud without a default autodiscover server: got %v, want one error about autodiscover_url", err)
	}
	if !Equal(s, before) {
		t.Errorf("a refused Set changed the settings")
	}
	if err := Set(&s, "autodiscover_url", "https://autodiscover.example.org"); err != nil {
		t.Fatalf("Set autodiscover_url: %v", err)
	}
	if err := Set(&s, "authority_host", "https://login.example.org"); err != nil {
		t.Errorf("Set authority_host once autodiscover_url is set: %v", err)
	}
}
