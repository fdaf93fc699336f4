// Package config holds ExoCal's settings: a versioned struct with defaults,
// validation that names each bad field with its fix, and an atomic save
// under the user config dir. It never holds a secret: the tenant ID, client
// ID and client secret live in the OS keyring (see app/secrets).
package config

import "time"

// Version is the current settings schema version.
const Version = 1

// Settings is the content of config.json. Field order follows the seed's
// settings dialog (DESIGN.md), then ExoCal's own additions.
type Settings struct {
	Version int `json:"version"`

	SyncType                      string `json:"sync_type"`         // "disabled", "ews" (later "graph")
	User                          string `json:"user"`              // any existing mailbox; autodiscover starts here
	AutodiscoverURL               string `json:"autodiscover_url"`  // "" = https://autodiscover-s.outlook.com
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
}

// Duration is a time.Duration that reads and writes as "5m0s" in JSON.
type Duration time.Duration
