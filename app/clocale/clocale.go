// Package clocale keeps the C locale from reaching Fyne as a language.
//
// Under LANG=C.UTF-8 (the default of many Debian and Ubuntu images,
// containers and systemd services) Fyne's translations look the language up
// in the environment, take "C" for one, fail to parse it and print "Fyne
// error: Error parsing user locale C" on every start of every dicominbox
// command, before main runs. When the locale that names the messages'
// language is the C or POSIX locale with a codeset ("C.UTF-8",
// "POSIX.utf8"), and LANGUAGE is unset, this package sets LANGUAGE=en, which
// is what the C locale means (GNU gettext reads LANGUAGE the same way); any
// other setting is left alone.
//
// It does this in its init, which must run before Fyne's lang package reads
// the environment in its own. Go initialises packages in import-path order
// among those whose imports are ready (the Go spec, "Package
// initialization"); this package imports only what github.com/jeandeaual/go-locale
// (which Fyne's lang imports) imports, and its path sorts before that one, so
// it is initialised first. main imports it for that effect alone.
package clocale

import (
	"os"
	"strings"
)

func init() {
	if v, ok := languageFor(os.Getenv); ok {
		os.Setenv("LANGUAGE", v)
	}
}

// languageFor returns the LANGUAGE value to set for the environment getenv
// reads, and false when nothing needs to be set.
func languageFor(getenv func(string) string) (string, bool) {
	if getenv("LANGUAGE") != "" {
		return "", false
	}
	// The variables that name the messages' locale, in the order of precedence.
	locale := ""
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale = getenv(name); locale != "" {
			break
		}
	}
	base, codeset, found := strings.Cut(locale, ".")
	if found && codeset != "" && (base == "C" || base == "POSIX") {
		return "en", true
	}
	return "", false
}
