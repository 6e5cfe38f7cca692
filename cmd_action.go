package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/prodcat/colab-notebook-action/internal/action"
)

var actionCommand = command{
	name:  "action",
	usage: "the GitHub Action entry point (inputs from INPUT_*, context from GITHUB_*)",
	run:   runAction,
}

func runAction(args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(os.Stderr, "action: takes no arguments (inputs come from INPUT_* variables), got %q\n", args)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Build, validate and execute run in this process (action.InProcess); the
	// notebook's kernel gets only an allowlisted environment (execute.kernelEnv).
	return action.Run(ctx, action.Deps{
		Getenv:  os.Getenv,
		Environ: os.Environ,
		Out:     os.Stdout,
	})
}
