package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/execute"
	"github.com/prodcat/colab-notebook-action/internal/notebook"
	"github.com/prodcat/colab-notebook-action/internal/validate"
)

var runCommand = command{
	name:  "run",
	usage: "--mode quickstart|smoke|full [--data PATH] [--project-root DIR] ...  build and execute the notebook",
	run:   runRun,
}

// runRun exits with execute's codes: 0 ok, 1 a cell raised, 2 bad input,
// 3 a cell timed out, 4 the kernel died, 5 the executor could not run.
func runRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	mode := fs.String("mode", "", "quickstart (cells tagged quickstart), smoke or full (every cell)")
	data := fs.String("data", "", "the data, injected as DATA_PATH: "+execute.DataSourceHint)
	root := fs.String("project-root", execute.DefaultProjectRoot, "PROJECT_ROOT for the run (injected as PROJECT_ROOT_OVERRIDE)")
	cells := fs.String("cells", "cells", "directory holding the NN_name.py cell files and src/")
	out := fs.String("out", "build", "output directory for the built and executed notebooks")
	timeout := fs.Int("timeout-per-cell", 0, "seconds a cell may run (0: no limit; unset: 30 min, or from --time-budget-minutes)")
	runTimeout := fs.Int("run-timeout", 0, "seconds the whole run may take (0: no limit; unset: none, or from --time-budget-minutes)")
	budget := fs.Float64("time-budget-minutes", 0, "minutes the notebook plans its heavy steps to fit, injected as TIME_BUDGET_MINUTES; without the timeout flags a cell may take the budget + 10 % and the run the budget + 25 %")
	python := fs.String("python", validate.DefaultPython(), "Python with nbclient and ipykernel")
	sample := fs.Int("sample-size", 0, "rows the Quick Start samples, injected as SAMPLE_SIZE (0: notebook default; other steps use their own sizes)")
	model := fs.String("model-name", "", "transformer checkpoint, injected as MODEL_NAME")
	var extra paramFlags
	fs.Var(&extra, "param", "NAME=VALUE: another parameters-cell variable, injected as a string (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: colab-notebook-action run --mode quickstart|smoke|full [flags]")
		fs.PrintDefaults()
		fmt.Fprintln(os.Stderr, "exit status: 0 ok, 1 a cell raised, 2 bad input, 3 a cell timed out, 4 the kernel died, 5 the executor could not run")
	}
	if err := fs.Parse(args); err != nil {
		return execute.ExitBadInput
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "run: unexpected arguments %q\n", fs.Args())
		return execute.ExitBadInput
	}
	if *budget < 0 || *timeout < 0 || *runTimeout < 0 {
		fmt.Fprintln(os.Stderr, "run: --time-budget-minutes, --timeout-per-cell and --run-timeout must not be negative")
		return execute.ExitBadInput
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// Unset means "the default, or derived from the budget"; an explicit 0 means no limit.
	limit := func(name string, seconds int) time.Duration {
		switch {
		case !set[name]:
			return 0
		case seconds == 0:
			return -1
		}
		return time.Duration(seconds) * time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := execute.Run(ctx, execute.Options{
		Mode:           *mode,
		CellsDir:       *cells,
		OutDir:         *out,
		ProjectRoot:    *root,
		DataPath:       *data,
		SampleSize:     *sample,
		ModelName:      *model,
		Params:         extra,
		Python:         *python,
		TimeBudget:     time.Duration(*budget * float64(time.Minute)),
		TimeoutPerCell: limit("timeout-per-cell", *timeout),
		RunTimeout:     limit("run-timeout", *runTimeout),
		Progress:       os.Stdout,
	})
	if res.NotebookPath != "" {
		fmt.Printf("executed notebook: %s\n", res.NotebookPath)
	}
	if res.CopiedTo != "" {
		fmt.Printf("copied to: %s\n", res.CopiedTo)
	}
	if res.Metrics != nil {
		fmt.Printf("metrics (%s):\n%s", res.MetricsPath, execute.FormatMetrics(res.Metrics))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "run %s: %v\n", *mode, err)
		return execute.ExitCode(err)
	}
	fmt.Printf("run %s OK: %d/%d code cells in %s\n", *mode, res.CellsRun, res.CodeCells, res.Elapsed.Round(100*time.Millisecond))
	return execute.ExitOK
}

// paramFlags collects repeated --param NAME=VALUE flags.
type paramFlags []notebook.Param

func (p *paramFlags) String() string { return fmt.Sprint(*p) }

func (p *paramFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || !notebook.ValidParamName(name) {
		return fmt.Errorf("want NAME=VALUE with NAME a Python identifier, got %q", v)
	}
	*p = append(*p, notebook.Param{Name: name, Value: value})
	return nil
}
