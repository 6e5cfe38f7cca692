// Command colab-notebook-action keeps a Colab notebook for product categorization
// alive in a repository: it builds the notebook from cells/, validates it, executes
// its Quick Start, publishes it to Google Drive and posts the Colab link on the PR.
//
//	go run . build    [--cells cells] [--out build]
//	go run . validate [--cells cells]
//	go run . run      --mode quickstart|smoke|full [--data PATH] [--project-root DIR] [--time-budget-minutes N]
//	go run . publish  [--from DIR] [--folder-id ID | --local-root DIR]
//	go run . action   (the GitHub Action entry point; reads INPUT_* / GITHUB_*)
package main

import (
	"fmt"
	"os"
)

type command struct {
	name  string
	usage string
	run   func(args []string) int
}

// commands is every subcommand, in the order usage lists them; each is
// defined beside its run function in cmd_<name>.go.
var commands = []command{buildCommand, validateCommand, runCommand, publishCommand, actionCommand}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: colab-notebook-action <command> [flags]")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.usage)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	for _, c := range commands {
		if c.name == os.Args[1] {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
	usage()
	os.Exit(2)
}
