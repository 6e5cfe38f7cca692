package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/prodcat/colab-notebook-action/internal/action"
)

func init() {
	register(command{
		name:  "action",
		usage: "the GitHub Action entry point (inputs from INPUT_*, context from GITHUB_*)",
		run:   runAction,
	})
}

func runAction(args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(os.Stderr, "action: takes no arguments (inputs come from INPUT_* variables), got %q\n", args)
		return 2
	}
	// The pipeline steps are this same binary's subcommands; os.Args[0] may be a
	// bare name resolved through PATH, os.Executable is the file itself.
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "action: cannot locate this program:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return action.Run(ctx, action.Deps{
		Getenv:   os.Getenv,
		Out:      os.Stdout,
		Pipeline: &action.Binary{Exe: exe, Log: os.Stdout},
	})
}
