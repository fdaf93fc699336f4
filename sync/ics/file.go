package ics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/exocal/exocal/internal/atomicfile"
	"github.com/exocal/exocal/sync/calendar"
)

// ErrBadMailbox is returned (wrapped) when a mailbox cannot be a file name.
var ErrBadMailbox = errors.New("ics: mailbox is not a valid file name")

// FileName returns "<mailbox>.ics", or ErrBadMailbox when mailbox is empty,
// ".", "..", or holds a path separator, a NUL or another control character.
func FileName(mailbox string) (string, error) {
	if mailbox == "" || mailbox == "." || mailbox == ".." || strings.Contains(mailbox, "..") ||
		strings.ContainsAny(mailbox, `/\`) || strings.ContainsFunc(mailbox, func(r rune) bool { return r < 0x20 || r == 0x7f }) ||
		len(mailbox) > 250 {
		return "", fmt.Errorf("%w: %q", ErrBadMailbox, mailbox)
	}
	return mailbox + ".ics", nil
}

// WriteFile renders mailbox's events to dir/<mailbox>.ics. dir is created
// (0700) when missing. The file is rewritten only when its content changes
// (changed reports it), atomically: a temporary file in dir is written,
// synced and renamed over the old one, then dir is synced, so a reader sees
// the old file or the new one, never half of one. The file's mode is 0600.
func WriteFile(dir, mailbox string, events []calendar.Event, opts Options) (changed bool, err error) {
	name, err := FileName(mailbox)
	if err != nil {
		return false, err
	}
	out, err := render(mailbox, events, opts)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("ics: create export folder: %w", err)
	}
	path := filepath.Join(dir, name)
	atomicfile.RemoveStale(path, 10*time.Minute) // left by a process killed mid-write
	if old, err := os.ReadFile(path); err == nil && out.Equal(old) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o600 {
			if err := os.Chmod(path, 0o600); err != nil {
				return false, fmt.Errorf("ics: chmod %s: %w", path, err)
			}
		}
		return false, nil
	}
	if err := atomicfile.Write(path, 0o600, out); err != nil {
		return false, fmt.Errorf("ics: %w", err)
	}
	return true, nil
}
