package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/dicominbox/dicominbox/scp/uid"
)

const committed = "../../docs/conformance-statement.md"

// The committed statement is what the code says today.
func TestStatementIsUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("%s is out of date: run go run ./tools/conformance -o docs/conformance-statement.md", committed)
	}
}

// Every storage SOP class and every transfer syntax of the tables is in it,
// each in the right transfer syntax table.
func TestStatementListsTheTables(t *testing.T) {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, c := range uid.StorageSOPClasses() {
		if !strings.Contains(doc, "| `"+c.UID+"` | "+c.Name+" |") {
			t.Errorf("storage SOP class %s (%s) missing", c.UID, c.Name)
		}
	}
	accepted, refused, ok := strings.Cut(doc[strings.Index(doc, "## Annex B"):], "Not accepted")
	if !ok {
		t.Fatal("no table of refused transfer syntaxes")
	}
	for _, ts := range uid.TransferSyntaxes() {
		row := "| `" + ts.UID + "` | " + ts.Name + " |"
		in := accepted
		if !ts.Storable() || ts.Family == uid.FamilyPrivate {
			in = refused
		}
		if !strings.Contains(in, row) {
			t.Errorf("transfer syntax %s (%s) not in its table", ts.UID, ts.Name)
		}
	}
}
