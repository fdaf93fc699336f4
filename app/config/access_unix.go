//go:build unix

package config

import "golang.org/x/sys/unix"

// writable reports, without writing, whether this process may create and
// replace files in the folder dir: access(2) with W_OK|X_OK, which also
// says EROFS on a read-only file system.
func writable(dir string) error { return unix.Access(dir, unix.W_OK|unix.X_OK) }
