// Package fynelocale keeps Fyne from logging "Error parsing user locale C"
// at the start of every exocal command when the locale is C or POSIX (the
// default in containers, CI and many servers).
//
// Fyne reads the locale while its lang package initializes, before main
// runs. Go initializes packages in import-path order as far as their
// dependencies allow (the spec's package initialization rule), so this
// package, which imports only os and sorts before Fyne's i18n dependency
// (github.com/nicksnyder/go-i18n), is initialized first: it gives Fyne an
// English locale to parse, and Restore puts the environment back once main
// runs, so that the programs ExoCal starts see the user's own locale.
package fynelocale

import "os"

// The variables go-locale consults, in its order.
var names = [...]string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"}

type saved struct {
	value string
	set   bool
}

var original [len(names)]saved

func init() {
	for i, n := range names {
		original[i].value, original[i].set = os.LookupEnv(n)
	}
	for _, n := range names[:3] {
		v := os.Getenv(n)
		if v == "" {
			continue
		}
		if isC(v) {
			// go-locale returns "C"/"POSIX" as is, and reads LANGUAGE only
			// for other values; both end as an unparsable language tag.
			os.Setenv(n, "en_US.UTF-8")
			os.Setenv("LANGUAGE", "en")
		}
		return
	}
}

func isC(v string) bool {
	for _, p := range []string{"C", "POSIX"} {
		if v == p || len(v) > len(p) && v[:len(p)+1] == p+"." {
			return true
		}
	}
	return false
}

// Restore puts back the locale variables as they were when the process
// started. Call it first thing in main.
func Restore() {
	for i, n := range names {
		if original[i].set {
			os.Setenv(n, original[i].value)
		} else {
			os.Unsetenv(n)
		}
	}
}
