// Package assets holds ExoCal's icons: the app icon and one tray icon per
// state, drawn as SVG (svg/) and rendered to PNG (png/) by gen.go, because a
// StatusNotifierItem pixmap cannot be an SVG. It imports nothing but Fyne.
package assets

//go:generate go run gen.go

import (
	"embed"

	"fyne.io/fyne/v2"
)

//go:embed png/*.png svg/*.svg
var files embed.FS

func load(name string) fyne.Resource {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("assets: missing embedded file " + name) // a build mistake, caught by the tests
	}
	return fyne.NewStaticResource(name[len("png/"):], b)
}

// The app icon (window, FyneApp.toml) and the tray icons, one per state.
var (
	AppIcon           = load("png/icon.png")
	TrayOK            = load("png/tray-ok.png")
	TraySyncing       = load("png/tray-syncing.png")
	TrayWarning       = load("png/tray-warning.png")
	TrayError         = load("png/tray-error.png")
	TrayPaused        = load("png/tray-paused.png")
	TrayNotConfigured = load("png/tray-not-configured.png")
)

// SVG returns the SVG source an icon was rendered from (for a README or a
// high-resolution use), by base name such as "tray-ok"; nil when unknown.
func SVG(name string) fyne.Resource {
	b, err := files.ReadFile("svg/" + name + ".svg")
	if err != nil {
		return nil
	}
	return fyne.NewStaticResource(name+".svg", b)
}
