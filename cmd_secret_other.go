//go:build !linux

package main

import (
	"errors"
	"os"
)

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readNoEcho is not implemented here: refuse rather than echo the secret.
func readNoEcho(*os.File, func()) (string, error) {
	return "", errors.New("cannot turn off echo on this system; pipe the secret in instead")
}
