// Package backend builds the sync parts from plain values: the Entra token
// source (sync/auth), the EWS URL (sync/autodiscover, or the configured
// ews_url), the EWS client with its calendar.Source and calendar.Watcher
// (sync/ews), and the ICS sink (sync/ics) the engine renders through. It
// reads no config file and no keyring: app/ and the headless commands pass
// the values in.
package backend
