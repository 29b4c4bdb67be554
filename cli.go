package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
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

// progressPrinter returns a progress callback for a long command (a
// reindex of a million files takes minutes): it writes "PREFIX: N files
// read so far" to w when at least every has passed since the start or
// since its last line, so that a quick run prints nothing and a long one
// shows that it is alive without flooding a log.
func progressPrinter(w io.Writer, prefix string, every time.Duration, now func() time.Time) func(files int) {
	last := now()
	return func(files int) {
		if t := now(); t.Sub(last) >= every {
			last = t
			fmt.Fprintf(w, "%s: %d files read so far\n", prefix, files)
		}
	}
}
