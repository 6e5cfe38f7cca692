package main

import (
	"context"
	"errors"
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
	opts, err := parseRunFlags(args)
	if err != nil {
		reportFlagError("run", err)
		return execute.ExitBadInput
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := execute.Run(ctx, opts)
	printRunResult(res)
	if err != nil {
		fmt.Fprintf(os.Stderr, "run %s: %v\n", opts.Mode, err)
		return execute.ExitCode(err)
	}
	fmt.Printf("run %s OK: %d/%d code cells in %s\n", opts.Mode, res.CellsRun, res.CodeCells, res.Elapsed.Round(100*time.Millisecond))
	return execute.ExitOK
}

// parseRunFlags reads the run command's flags into execute's options, checked.
// errFlagsReported: the flag package has printed what was wrong (or the usage).
func parseRunFlags(args []string) (execute.Options, error) {
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
	if err := parseArgs(fs, args); err != nil {
		return execute.Options{}, err
	}
	if *budget < 0 || *timeout < 0 || *runTimeout < 0 {
		return execute.Options{}, errors.New("--time-budget-minutes, --timeout-per-cell and --run-timeout must not be negative")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return execute.Options{
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
		TimeoutPerCell: secondsLimit(set["timeout-per-cell"], *timeout),
		RunTimeout:     secondsLimit(set["run-timeout"], *runTimeout),
		Progress:       os.Stdout,
	}, nil
}

// secondsLimit reads a timeout flag: unset (0) means "the default, or derived from
// the budget"; an explicit 0 means no limit (-1).
func secondsLimit(set bool, seconds int) time.Duration {
	switch {
	case !set:
		return 0
	case seconds == 0:
		return -1
	}
	return time.Duration(seconds) * time.Second
}

// printRunResult says where the executed notebook went and what metrics it wrote,
// which a failed run may have too.
func printRunResult(res execute.Result) {
	if res.NotebookPath != "" {
		fmt.Printf("executed notebook: %s\n", res.NotebookPath)
	}
	if res.CopiedTo != "" {
		fmt.Printf("copied to: %s\n", res.CopiedTo)
	}
	if res.Metrics != nil {
		fmt.Printf("metrics (%s):\n%s", res.MetricsPath, execute.FormatMetrics(res.Metrics))
	}
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
