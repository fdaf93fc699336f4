//go:build !unix

package config

import (
	"errors"
	"os"
)

// writable is a best guess without writing where access(2) is missing:
// the folder's permission bits must allow its owner to write.
func writable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return errors.New("read-only folder")
	}
	return nil
}
