package assets

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
)

// Every icon decodes as a square PNG (what a StatusNotifierItem pixmap needs),
// and every SVG source has its rendered PNG and vice versa.
func TestIconsArePNG(t *testing.T) {
	t.Parallel()
	icons := map[string]fyne.Resource{
		"icon": AppIcon, "tray-ok": TrayOK, "tray-syncing": TraySyncing, "tray-warning": TrayWarning,
		"tray-error": TrayError, "tray-paused": TrayPaused, "tray-not-configured": TrayNotConfigured,
	}
	seen := map[string]bool{}
	for name, res := range icons {
		img, err := png.Decode(bytes.NewReader(res.Content()))
		if err != nil {
			t.Errorf("%s: decode: %v", name, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 22 {
			t.Errorf("%s: got %dx%d, want a square of at least 22 px", name, b.Dx(), b.Dy())
		}
		if SVG(name) == nil {
			t.Errorf("%s: got no SVG source, want svg/%s.svg", name, name)
		}
		if seen[string(res.Content())] {
			t.Errorf("%s: got the same image as another icon, want one per state", name)
		}
		seen[string(res.Content())] = true
	}
	svgs, _ := filepath.Glob("svg/*.svg")
	for _, f := range svgs {
		name := strings.TrimSuffix(filepath.Base(f), ".svg")
		if _, err := os.Stat(filepath.Join("png", name+".png")); err != nil {
			t.Errorf("%s: got no rendered PNG (%v); run go generate ./assets", f, err)
		}
	}
}
