// Package atomicfile replaces a file so that a reader, a crash or a full
// disk never leaves half of it: the data goes to a temporary file in the
// same folder, is flushed to disk with the final mode set, and is renamed
// over the old file; the folder is then synced where the OS allows.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Write replaces path with what data writes, with mode perm. The folder
// must exist. On any error the old file is untouched and the temporary
// file is removed.
func Write(path string, perm os.FileMode, data io.WriterTo) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("atomicfile: create a temporary file in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: chmod %s: %w", tmp, err)
	}
	if _, err = data.WriteTo(f); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: rename to %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		// Syncing a folder is not possible everywhere (Windows); the
		// rename has happened either way.
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// RemoveStale removes the temporary files that Write leaves beside path
// when the process dies between creating and renaming one, once they are
// older than age (a write in progress takes milliseconds). It returns how
// many it removed.
func RemoveStale(path string, age time.Duration) int {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+escapeGlob(filepath.Base(path))+".*.tmp"))
	n := 0
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > age && os.Remove(m) == nil {
			n++
		}
	}
	return n
}

// escapeGlob quotes filepath.Match's special characters in a file name.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteBytes is Write for a byte slice.
func WriteBytes(path string, perm os.FileMode, b []byte) error {
	return Write(path, perm, bytes.NewReader(b))
}
