// Package integration holds sync/ews's tests against the emulated tenant
// (sync/emulator): the client and the emulator are written independently
// from Microsoft's documents, so agreement between them is evidence about
// both. It has no non-test code.
package integration
