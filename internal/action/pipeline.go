package action

import (
	"context"

	"github.com/prodcat/colab-notebook-action/internal/execute"
	"github.com/prodcat/colab-notebook-action/internal/notebook"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
	"github.com/prodcat/colab-notebook-action/internal/validate"
)

// Problem is a validation finding in a cell file.
type Problem = prcomment.Problem

// NotebookFile is the name `build` gives the notebook.
const NotebookFile = notebook.FileName

// Pipeline is the build → validate → execute chain, as Go calls that return
// their problems and failures as values. InProcess is the real one; tests of
// the action's own logic substitute a fake.
type Pipeline interface {
	// Build writes OUT/product_categorization_colab.ipynb and OUT/src; cells
	// that do not build give a cellsrc.Problems error.
	Build(ctx context.Context, cellsDir, outDir string) (notebookPath string, err error)
	// Validate returns the problems found; err means the check itself could not run.
	Validate(ctx context.Context, cellsDir string) ([]Problem, error)
	// Execute runs the notebook; a cell that fails gives an *execute.Failure.
	Execute(ctx context.Context, opts execute.Options) (execute.Result, error)
}

// InProcess calls the notebook, validate and execute packages directly.
type InProcess struct {
	Python string // interpreter for the syntax check and the kernel; "" = validate.DefaultPython()
}

func (p InProcess) Build(_ context.Context, cellsDir, outDir string) (string, error) {
	res, err := notebook.Build(cellsDir, outDir)
	return res.NotebookPath, err
}

func (p InProcess) Validate(ctx context.Context, cellsDir string) ([]Problem, error) {
	rep, err := validate.Run(ctx, validate.Options{CellsDir: cellsDir, Python: p.Python})
	if err != nil {
		return nil, err
	}
	out := make([]Problem, len(rep.Problems))
	for i, pr := range rep.Problems {
		out[i] = Problem{File: pr.File, Line: pr.Line, Message: pr.Message}
	}
	return out, nil
}

func (p InProcess) Execute(ctx context.Context, o execute.Options) (execute.Result, error) {
	if o.Python == "" {
		o.Python = p.Python
	}
	return execute.Run(ctx, o)
}
