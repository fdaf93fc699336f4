//go:build !unix

package app

import (
	"errors"
	"os"
)

const noFollow = 0

var errLocked = errors.New("locked")

// tryLock is a no-op where flock does not exist: the socket alone decides.
func tryLock(*os.File) error { return nil }
