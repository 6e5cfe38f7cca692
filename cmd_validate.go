package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	"github.com/prodcat/colab-notebook-action/internal/schema"
	"github.com/prodcat/colab-notebook-action/internal/validate"
)

var validateCommand = command{
	name:  "validate",
	usage: "[--cells cells] [--python PY] | --notebook FILE.ipynb  check cells (or one notebook's schema)",
	run:   runValidate,
}

// runValidate exits 0 when the cells are valid, 1 when there are problems,
// 2 on bad flags or when the checker itself cannot run.
func runValidate(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	cells := fs.String("cells", "cells", "directory holding the NN_name.py cell files and src/")
	python := fs.String("python", validate.DefaultPython(), "Python used for the syntax check")
	nbFile := fs.String("notebook", "", "check only this .ipynb against the nbformat 4.5 schema and unique cell ids")
	if err := parseArgs(fs, args); err != nil {
		reportFlagError("validate", err)
		return 2
	}
	if *nbFile != "" {
		return validateNotebookFile(*nbFile)
	}
	rep, err := validate.Run(context.Background(), validate.Options{CellsDir: *cells, Python: *python})
	if err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		return 2
	}
	if len(rep.Problems) > 0 {
		reportProblems(rep.Problems)
		fmt.Fprintf(os.Stderr, "validate: %d problem(s) in %s\n", len(rep.Problems), *cells)
		return 1
	}
	fmt.Printf("validate OK: %d cells (%d code), %d modules in %s\n", rep.Cells, rep.CodeCells, rep.Modules, *cells)
	return 0
}

// validateNotebookFile checks an existing .ipynb (e.g. one saved by Colab).
func validateNotebookFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		return 2
	}
	issues, err := schema.Check(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		return 2
	}
	if len(issues) > 0 {
		probs := make([]cellsrc.Problem, len(issues))
		for i, is := range issues {
			probs[i] = cellsrc.Problem{File: path, Message: is.String()}
		}
		reportProblems(probs)
		return 1
	}
	fmt.Printf("validate OK: %s is a valid nbformat 4.5 notebook\n", path)
	return 0
}

// reportProblems prints file:line: message on stderr and, inside GitHub
// Actions, an ::error annotation on stdout so the problem shows on the PR diff.
func reportProblems(probs []cellsrc.Problem) {
	for _, p := range probs {
		fmt.Fprintln(os.Stderr, p.String())
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		validate.Annotate(os.Stdout, os.Getenv("GITHUB_WORKSPACE"), probs)
	}
}
