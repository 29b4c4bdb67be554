// Package uid holds the tables the receiver negotiates with: every Storage
// SOP Class of the DICOM standard (PS3.4 Annex B, PS3.6 Annex A), a few
// non-storage SOP classes known by name for logs, and every standard Transfer
// Syntax with what a receiver can do with it.
//
// The tables are plain Go source (sopclasses.go, transfersyntaxes.go), one
// entry a line; the lookups are built from them once, at package init.
package uid

import (
	"sort"
	"strings"
)

// SOPClass is a SOP class UID with its name from PS3.6.
type SOPClass struct {
	UID     string
	Name    string
	Retired bool // retired from the standard, but still seen in the field
}

// Verification is the Verification SOP Class UID (C-ECHO).
const Verification = "1.2.840.10008.1.1"

// Lookup tables built by init.
var (
	sopClasses    = map[string]SOPClass{}       // storage and other known SOP classes
	storage       = map[string]bool{}           // storage SOP classes only
	storageSorted []SOPClass                    // storage SOP classes sorted by UID
	syntaxes      = map[string]TransferSyntax{} // transfer syntaxes
)

func init() {
	for _, c := range storageSOPClasses {
		add(c)
		storage[c.UID] = true
		storageSorted = append(storageSorted, c)
	}
	for _, c := range otherSOPClasses {
		add(c)
	}
	sort.Slice(storageSorted, func(i, j int) bool { return storageSorted[i].UID < storageSorted[j].UID })
	for _, ts := range transferSyntaxes {
		if _, dup := syntaxes[ts.UID]; dup {
			panic("uid: duplicate transfer syntax " + ts.UID)
		}
		syntaxes[ts.UID] = ts
	}
}

// add puts c into sopClasses; a duplicate UID is a bug in the tables.
func add(c SOPClass) {
	if _, dup := sopClasses[c.UID]; dup {
		panic("uid: duplicate SOP class " + c.UID)
	}
	sopClasses[c.UID] = c
}

// LookupSOPClass returns the storage or other known SOP class with this UID.
func LookupSOPClass(uid string) (SOPClass, bool) {
	c, ok := sopClasses[uid]
	return c, ok
}

// IsStorage reports whether uid is a standard Storage SOP Class (current or
// retired), one that a C-STORE SCP may accept. Verification is not one.
func IsStorage(uid string) bool { return storage[uid] }

// StorageSOPClasses returns every Storage SOP Class sorted by UID in byte
// order (so slices.BinarySearchFunc with strings.Compare works). The slice is
// shared: the caller must not modify it.
func StorageSOPClasses() []SOPClass { return storageSorted }

// TransferSyntaxes returns every transfer syntax of the table, standard and
// private, in the table's order (by family).
func TransferSyntaxes() []TransferSyntax { return transferSyntaxes[:] }

// LookupTransferSyntax returns the transfer syntax with this UID.
func LookupTransferSyntax(uid string) (TransferSyntax, bool) {
	ts, ok := syntaxes[uid]
	return ts, ok
}

// Name returns the name of a known SOP class or transfer syntax, with
// " (Retired)" appended to retired ones, or "" for an unknown UID. It is meant
// for logs.
func Name(uid string) string {
	name, retired := "", false
	if c, ok := sopClasses[uid]; ok {
		name, retired = c.Name, c.Retired
	} else if ts, ok := syntaxes[uid]; ok {
		name, retired = ts.Name, ts.Retired
	}
	if retired {
		name += " (Retired)"
	}
	return name
}

// Valid reports whether s is a syntactically valid UID (PS3.5 9.1): at most
// 64 characters, components of digits separated by single dots, and no
// component with a leading zero (a lone "0" is allowed).
func Valid(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for comp := range strings.SplitSeq(s, ".") {
		if comp == "" || (len(comp) > 1 && comp[0] == '0') {
			return false
		}
		for i := 0; i < len(comp); i++ {
			if comp[i] < '0' || comp[i] > '9' {
				return false
			}
		}
	}
	return true
}
