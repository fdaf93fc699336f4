package backend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/engine"
	"github.com/exocal/exocal/sync/ics"
)

// ICSSink renders a mailbox's events to <dir>/<mailbox>.ics with
// ics.WriteFile (atomic, rewritten only when the content changed).
type ICSSink struct{}

var _ engine.Sink = ICSSink{}

// Render implements engine.Sink.
func (ICSSink) Render(_ context.Context, mailbox string, events []calendar.Event, opts engine.RenderOptions) (bool, error) {
	p, err := ics.ParsePrivacy(opts.Privacy)
	if err != nil {
		return false, err
	}
	return ics.WriteFile(opts.Dir, mailbox, events, ics.Options{Privacy: p})
}

// FilePath returns where ICSSink writes mailbox's file in dir.
func FilePath(dir, mailbox string) string {
	name, err := ics.FileName(mailbox)
	if err != nil {
		return filepath.Join(dir, mailbox+".ics")
	}
	return filepath.Join(dir, name)
}

// Stamp implements engine.Stamper: the file's size and modification time,
// "" when it does not exist.
func (ICSSink) Stamp(mailbox string, opts engine.RenderOptions) string {
	fi, err := os.Stat(FilePath(opts.Dir, mailbox))
	if err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
}
