// Command conformance writes DICOM Inbox's DICOM Conformance Statement
// (docs/conformance-statement.md), in the order of PS3.2 Annex A, from
// the tables the receiver negotiates with (scp/uid) and its defaults (app),
// so that the statement cannot drift from the code: a test compares the
// committed file with this output.
//
//	go run ./tools/conformance -o docs/conformance-statement.md
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/scp"
	"github.com/dicominbox/dicominbox/scp/pdu"
	"github.com/dicominbox/dicominbox/scp/uid"
	"github.com/dicominbox/dicominbox/store/charset"
)

func main() {
	out := flag.String("o", "", "write the statement to this file (default: stdout)")
	flag.Parse()
	var b bytes.Buffer
	if err := render(&b); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
	if *out == "" {
		os.Stdout.Write(b.Bytes())
		return
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

// facts are what the template fills in.
type facts struct {
	Version, ClassUID                string
	Defaults                         app.Config
	MaxPDUMin, MaxPDUMax, CommandCap int
	StorageCount, RetiredCount       int
	Storage                          []uid.SOPClass
	Accepted, Refused                []uid.TransferSyntax
	Charsets                         []string
	AppContext                       string
}

func render(w io.Writer) error {
	f := facts{
		Version: scp.ImplementationVersionName, ClassUID: scp.ImplementationClassUID,
		Defaults:  app.DefaultConfig(),
		MaxPDUMin: scp.MinMaxPDULength, MaxPDUMax: scp.MaxMaxPDULength, CommandCap: scp.DefaultMaxCommandSetSize,
		Storage:    uid.StorageSOPClasses(),
		Charsets:   charset.Supported(),
		AppContext: pdu.ApplicationContextName,
	}
	f.StorageCount = len(f.Storage)
	for _, c := range f.Storage {
		if c.Retired {
			f.RetiredCount++
		}
	}
	for _, ts := range uid.TransferSyntaxes() {
		if ts.Storable() && ts.Family != uid.FamilyPrivate {
			f.Accepted = append(f.Accepted, ts)
		} else {
			f.Refused = append(f.Refused, ts)
		}
	}
	t, err := template.New("statement").Funcs(template.FuncMap{
		"dur":     func(d app.Duration) string { return time.Duration(d).String() },
		"retired": func(r bool) string { return map[bool]string{true: "retired", false: ""}[r] },
		"join":    strings.Join,
	}).Parse(statement)
	if err != nil {
		return err
	}
	return t.Execute(w, f)
}
