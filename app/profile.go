package app

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// A setup is its settings file. The user's own is the default one
// (~/.config/exocal/config.json); a run with XDG_CONFIG_HOME elsewhere is
// another, isolated setup, with its own single-instance socket
// (SocketPath) and its own keyring entry (KeyringProfile).

// isDefaultSettings reports whether path is this user's default settings file.
func isDefaultSettings(path string) bool {
	home, err := os.UserHomeDir()
	return err == nil && path == filepath.Join(home, ".config", "exocal", "config.json")
}

// settingsTag is "" for the default settings file (or when there is no
// settings path), else a short hash of the settings file's path.
func settingsTag() string {
	p, err := config.Path()
	if err != nil || isDefaultSettings(p) {
		return ""
	}
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:6])
}

// KeyringProfile is the keyring entry (the user name under service
// "exocal") that holds the registration of the settings file at
// settingsPath: secrets.DefaultProfile for the default settings file,
// else "default@" and the settings file's folder, so an isolated setup
// never reads or overwrites the user's own registration.
func KeyringProfile(settingsPath string) string {
	if settingsPath == "" || isDefaultSettings(settingsPath) {
		return secrets.DefaultProfile
	}
	return secrets.DefaultProfile + "@" + filepath.Dir(settingsPath)
}

// CurrentKeyringProfile is KeyringProfile of config.Path().
func CurrentKeyringProfile() string {
	p, err := config.Path()
	if err != nil {
		return secrets.DefaultProfile
	}
	return KeyringProfile(p)
}
