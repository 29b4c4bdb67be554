package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses the flags of a subcommand and checks that exactly nargs
// positional arguments follow them. usage is the text before the list of
// flags that -h prints. When ok is false the command must end at once with
// code: 0 after -h, 2 after a bad flag, an argument too many (named, since
// `dicominbox reindex /data` would otherwise quietly work on the default
// storage folder) or one too few (the usage is printed).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, usage string, nargs int) (code int, ok bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage, "\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	switch {
	case fs.NArg() > nargs:
		fmt.Fprintf(stderr, "dicominbox %s: unexpected argument %q (every flag goes before the arguments; see dicominbox %s -h)\n",
			fs.Name(), fs.Arg(nargs), fs.Name())
		return 2, false
	case fs.NArg() < nargs:
		fs.Usage()
		return 2, false
	}
	return 0, true
}
