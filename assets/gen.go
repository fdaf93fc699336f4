//go:build ignore

// gen.go renders the SVG sources in svg/ to the PNGs in png/ that the tray
// needs (StatusNotifierItem pixmaps cannot be SVG). Run `go generate ./assets`
// after editing an SVG and commit both files.
package main

import (
	"bytes"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/fyne-io/oksvg"
	"github.com/srwiley/rasterx"
)

func main() {
	files, err := filepath.Glob("svg/*.svg")
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".svg")
		size := 64
		if name == "icon" {
			size = 256
		}
		if err := render(f, filepath.Join("png", name+".png"), size); err != nil {
			log.Fatalf("%s: %v", f, err)
		}
	}
}

func render(in, out string, size int) error {
	r, err := os.Open(in)
	if err != nil {
		return err
	}
	defer r.Close()
	icon, err := oksvg.ReadIconStream(r)
	if err != nil {
		return err
	}
	icon.SetTarget(0, 0, float64(size), float64(size))
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	scanner := rasterx.NewScannerGV(size, size, img, img.Bounds())
	icon.Draw(rasterx.NewDasher(size, size, scanner), 1)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
