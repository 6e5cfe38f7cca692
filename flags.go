package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// errFlagsReported: the flag package has already printed what was wrong (or the usage).
var errFlagsReported = errors.New("bad flags")

// parseArgs parses a command's flags; no command takes positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errFlagsReported
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// reportFlagError prints a command's flag error as "name: err", unless the flag package
// already has.
func reportFlagError(name string, err error) {
	if err != errFlagsReported {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
}
