package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	"github.com/prodcat/colab-notebook-action/internal/notebook"
)

var buildCommand = command{
	name:  "build",
	usage: "[--cells cells] [--out build]  write OUT/" + notebook.FileName + " and OUT/src/",
	run:   runBuild,
}

// runBuild exits 0 on success, 1 when the cells cannot be built, 2 on bad flags.
func runBuild(args []string) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	cells := fs.String("cells", "cells", "directory holding the NN_name.py cell files and src/")
	out := fs.String("out", "build", "output directory")
	if err := parseArgs(fs, args); err != nil {
		reportFlagError("build", err)
		return 2
	}
	res, err := notebook.Build(*cells, *out)
	if err != nil {
		var probs cellsrc.Problems
		if errors.As(err, &probs) {
			reportProblems(probs)
			return 1
		}
		fmt.Fprintln(os.Stderr, "build:", err)
		return 1
	}
	code := 0
	for _, c := range res.Notebook.Cells {
		if c.Kind == cellsrc.Code {
			code++
		}
	}
	fmt.Printf("built %s (%d cells, %d code) and %s (%d modules)\n",
		res.NotebookPath, len(res.Notebook.Cells), code, res.SrcDir, len(res.Modules))
	return 0
}
