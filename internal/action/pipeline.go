package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/prodcat/colab-notebook-action/internal/prcomment"
)

// Problem is a validation finding in a cell file.
type Problem = prcomment.Problem

// ExecOptions are the arguments of one notebook execution.
type ExecOptions struct {
	Mode         string // quickstart or full
	DataPath     string // "" means the notebook's built-in demo data
	ProjectRoot  string
	NotebookPath string
	CellsDir     string
	OutDir       string
	SampleSize   string // "" leaves the notebook's default
	ModelName    string
}

// Pipeline is the build → validate → execute chain. The action only needs these
// three calls; Binary runs them as this program's own subcommands.
type Pipeline interface {
	Build(ctx context.Context, cellsDir, outDir string) (notebookPath string, err error)
	// Validate returns the problems found; err means the check itself could not run.
	Validate(ctx context.Context, cellsDir string) ([]Problem, error)
	// Execute runs the notebook; metrics are read afterwards from PROJECT_ROOT/results.
	Execute(ctx context.Context, opts ExecOptions) error
}

// NotebookFile is the name `build` gives the notebook.
const NotebookFile = "product_categorization_colab.ipynb"

// Binary runs the pipeline steps as subcommands of an executable (normally this
// one, via os.Executable), so the action shares no Go API with them.
type Binary struct {
	Exe string
	Log io.Writer // the subcommands' output goes here, live
	Env []string  // nil means os.Environ()
}

func (b *Binary) cmd(ctx context.Context, annotate bool, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, b.Exe, args...)
	env := b.Env
	if env == nil {
		env = os.Environ()
	}
	if !annotate {
		// The action annotates build and validate problems itself (once, capped at
		// GitHub's per-step limit); the subcommand must not do it too.
		env = append(append([]string(nil), env...), "GITHUB_ACTIONS=")
	}
	cmd.Env = env
	var stderr bytes.Buffer
	log := b.Log
	if log == nil {
		log = io.Discard
	}
	// exec copies stdout and stderr on two goroutines; both land in one log.
	lw := &lockedWriter{w: log}
	cmd.Stdout = lw
	cmd.Stderr = io.MultiWriter(lw, &stderr)
	return cmd, &stderr
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Build runs `build --cells C --out O`.
func (b *Binary) Build(ctx context.Context, cellsDir, outDir string) (string, error) {
	cmd, stderr := b.cmd(ctx, false, "build", "--cells", cellsDir, "--out", outDir)
	if err := cmd.Run(); err != nil {
		return "", stepError("build", err, stderr.String())
	}
	nb := filepath.Join(outDir, NotebookFile)
	if _, err := os.Stat(nb); err != nil {
		return "", fmt.Errorf("build finished but %s is missing: %w", nb, err)
	}
	return nb, nil
}

// Validate runs `validate --cells C`: exit 1 means problems, printed as file:line: message.
func (b *Binary) Validate(ctx context.Context, cellsDir string) ([]Problem, error) {
	cmd, stderr := b.cmd(ctx, false, "validate", "--cells", cellsDir)
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		probs := ParseProblems(stderr.String())
		if len(probs) == 0 {
			return nil, stepError("validate", err, stderr.String())
		}
		return probs, nil
	}
	return nil, stepError("validate", err, stderr.String())
}

// Execute runs `run --mode M ...`.
func (b *Binary) Execute(ctx context.Context, o ExecOptions) error {
	args := []string{"run", "--mode", o.Mode, "--cells", o.CellsDir, "--out", o.OutDir, "--project-root", o.ProjectRoot}
	if o.DataPath != "" {
		args = append(args, "--data", o.DataPath)
	}
	if o.SampleSize != "" {
		args = append(args, "--sample-size", o.SampleSize)
	}
	if o.ModelName != "" {
		args = append(args, "--model-name", o.ModelName)
	}
	cmd, stderr := b.cmd(ctx, true, args...)
	if err := cmd.Run(); err != nil {
		return stepError("run --mode "+o.Mode, err, stderr.String())
	}
	return nil
}

// stepError keeps the last lines of stderr: they usually say what broke.
func stepError(step string, err error, stderr string) error {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	tail := strings.TrimSpace(strings.Join(lines, "\n"))
	if tail == "" {
		return fmt.Errorf("%s failed: %w", step, err)
	}
	return fmt.Errorf("%s failed (%v): %s", step, err, tail)
}

var (
	lineProblem = regexp.MustCompile(`^(\S[^:]*):(\d+): (.+)$`)
	fileProblem = regexp.MustCompile(`^(\S[^:\s]*\.(?:py|ipynb|json|ya?ml|md|txt)): (.+)$`)
)

// ParseProblems reads validate's stderr: "file:line: message", "file: message",
// or a bare message; its own "validate: ..." summary lines are not problems.
func ParseProblems(stderr string) []Problem {
	var out []Problem
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "validate:") {
			continue
		}
		if m := lineProblem.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			out = append(out, Problem{File: m[1], Line: n, Message: m[3]})
			continue
		}
		if m := fileProblem.FindStringSubmatch(line); m != nil {
			out = append(out, Problem{File: m[1], Message: m[2]})
			continue
		}
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			// A continuation of the previous message (e.g. a quoted source line).
			if len(out) > 0 {
				out[len(out)-1].Message += " " + strings.TrimSpace(line)
			}
			continue
		}
		out = append(out, Problem{Message: line})
	}
	return out
}
