// Package execute runs the built notebook with a real Jupyter kernel: it
// injects parameters papermill style, picks the cells for the mode, drives
// the embedded nbclient executor (nbexec.py) with the project's Python, and
// turns a failure into a message that names the section and the cells/ file
// and line to fix.
package execute

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	"github.com/prodcat/colab-notebook-action/internal/notebook"
	"github.com/prodcat/colab-notebook-action/internal/validate"
)

//go:embed nbexec.py
var nbexecScript string

// Modes of `run`.
const (
	ModeQuickstart = "quickstart" // only cells tagged "quickstart"
	ModeSmoke      = "smoke"      // every cell, tiny settings chosen by the notebook
	ModeFull       = "full"       // every cell
)

// Exit codes of `run`, also returned by ExitCode.
const (
	ExitOK         = 0
	ExitCellError  = 1 // a cell raised an exception
	ExitBadInput   = 2 // bad flags, missing data file, cells that don't build
	ExitTimeout    = 3 // a cell ran past the per-cell timeout
	ExitDeadKernel = 4 // the kernel died (os._exit, OOM kill, segfault)
	ExitInternal   = 5 // the executor itself could not run (Python, nbclient, kernel start)
)

// DefaultProjectRoot is where a local run keeps its artifacts.
const DefaultProjectRoot = "product_categorization_project"

// Options configures Run. Zero values get the documented defaults.
type Options struct {
	Mode        string // quickstart | smoke | full (required)
	CellsDir    string // default "cells"
	OutDir      string // default "build"
	ProjectRoot string // default ./product_categorization_project, passed as an absolute path
	DataPath    string // optional; checked by CheckDataPath, injected as DATA_PATH
	SampleSize  int    // optional; > 0 injects SAMPLE_SIZE (the Quick Start's rows)
	ModelName   string // optional; injects MODEL_NAME
	// Params are other parameters-cell variables to set (run --param NAME=VALUE);
	// each must be assigned in the parameters cell.
	Params []notebook.Param
	Python string // default validate.DefaultPython()
	// TimeBudget > 0 is injected as TIME_BUDGET_MINUTES: the notebook sizes its
	// heavy steps to finish within it. Without explicit timeouts it also sets them
	// (see Timeouts).
	TimeBudget time.Duration
	// TimeoutPerCell: 0 means the default (30 min, or derived from TimeBudget);
	// negative means no limit.
	TimeoutPerCell time.Duration
	// RunTimeout bounds the whole execution: 0 means none (or derived from
	// TimeBudget); negative means no limit.
	RunTimeout     time.Duration
	StartupTimeout time.Duration // kernel start; default 2 min
	Progress       io.Writer     // progress lines and cell output; default io.Discard
}

// DefaultTimeoutPerCell applies when neither a per-cell timeout nor a time budget is given.
const DefaultTimeoutPerCell = 30 * time.Minute

// Timeouts derives the per-cell and whole-run limits from a time budget: the
// notebook plans to finish within the budget, so a cell may take up to the
// budget plus 10 % (at least 2 min) and the whole run the budget plus 25 %
// (at least 5 min) before they count as overrun. Without a budget: 30 min per
// cell and no whole-run limit. Explicit values (non-zero) are kept.
func Timeouts(budget, perCell, run time.Duration) (time.Duration, time.Duration) {
	if budget > 0 {
		if perCell == 0 {
			perCell = budget + max(budget/10, 2*time.Minute)
		}
		if run == 0 {
			run = budget + max(budget/4, 5*time.Minute)
		}
	}
	if perCell == 0 {
		perCell = DefaultTimeoutPerCell
	}
	return perCell, run
}

// Result describes a run; Run fills it in as far as it got, even on failure.
type Result struct {
	Mode         string
	NotebookPath string // OUT/executed_<mode>.ipynb (outputs so far when the run failed)
	CopiedTo     string // PROJECT_ROOT/notebooks/executed_<mode>.ipynb, "" when PROJECT_ROOT does not exist
	ProjectRoot  string // absolute
	CodeCells    int    // code cells selected for the mode (including the injected parameters)
	CellsRun     int    // code cells that finished without error
	Elapsed      time.Duration
	MetricsPath  string          // PROJECT_ROOT/results/quickstart_metrics.json when it exists
	Metrics      json.RawMessage // its contents
}

// BadInputException is the exception class (cells/src/data.py's DataError) a
// cell raises when the user's data can't be used: exit code 2, like a bad flag.
const BadInputException = "DataError"

// InputError is a problem with what the caller asked for (exit code 2).
type InputError struct {
	Msg string
	Err error // the cause, when one error led to it
}

func (e *InputError) Error() string { return e.Msg }
func (e *InputError) Unwrap() error { return e.Err }

// FailureKind says how a cell failed.
type FailureKind string

const (
	CellError  FailureKind = "cell_error"
	Timeout    FailureKind = "timeout"     // one cell ran past the per-cell timeout
	RunTimeout FailureKind = "run_timeout" // the whole run ran past its timeout
	DeadKernel FailureKind = "dead_kernel"
)

// Failure is a cell that did not complete.
type Failure struct {
	Kind      FailureKind
	Ordinal   int    // 1-based position among the code cells run
	Total     int    // code cells in the run
	CellID    string // notebook cell id
	Section   string // nearest markdown heading above the cell
	Origin    string // cells/ file:line of the failing line (or of the cell)
	EName     string // exception class, e.g. "ValueError"
	EValue    string // exception message
	Traceback string // ANSI colour codes removed
	Timeout   time.Duration
}

func (f *Failure) Error() string {
	var b strings.Builder
	switch f.Kind {
	case Timeout:
		fmt.Fprintf(&b, "cell %d/%d timed out after %s", f.Ordinal, f.Total, f.Timeout)
	case RunTimeout:
		fmt.Fprintf(&b, "the run timed out after %s, in cell %d/%d", f.Timeout, f.Ordinal, f.Total)
	case DeadKernel:
		fmt.Fprintf(&b, "the kernel died while running cell %d/%d", f.Ordinal, f.Total)
	default:
		fmt.Fprintf(&b, "cell %d/%d failed: %s: %s", f.Ordinal, f.Total, f.EName, f.EValue)
	}
	section := f.Section
	if section == "" {
		section = "(before the first heading)"
	}
	fmt.Fprintf(&b, "\n  section: %s\n  source:  %s\n  cell id: %s", section, orDash(f.Origin), f.CellID)
	if f.Traceback != "" {
		b.WriteString("\n  traceback:\n")
		for _, ln := range strings.Split(strings.TrimRight(f.Traceback, "\n"), "\n") {
			b.WriteString("    " + ln + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ExitCode maps Run's error to the documented exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var in *InputError
	if errors.As(err, &in) {
		return ExitBadInput
	}
	var f *Failure
	if errors.As(err, &f) {
		switch f.Kind {
		case Timeout, RunTimeout:
			return ExitTimeout
		case DeadKernel:
			return ExitDeadKernel
		}
		if f.EName == BadInputException {
			return ExitBadInput
		}
		return ExitCellError
	}
	return ExitInternal
}

// Run builds the notebook into opts.OutDir and executes it. The error is an
// *InputError, a *Failure, or another error when the executor could not run;
// ExitCode maps it to the exit status.
func Run(ctx context.Context, opts Options) (Result, error) {
	start := time.Now()
	if err := defaults(&opts); err != nil {
		return Result{Mode: opts.Mode}, err
	}
	res := Result{Mode: opts.Mode, ProjectRoot: opts.ProjectRoot}
	nb, err := prepare(opts, &res)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(opts.Progress, "run: mode %s, %d code cells, python %s, project root %s%s\n",
		opts.Mode, res.CodeCells, opts.Python, opts.ProjectRoot, limitsNote(opts))

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if opts.RunTimeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, opts.RunTimeout)
	}
	defer cancel()
	ex, err := startExecutor(runCtx, opts, res.NotebookPath)
	if err != nil {
		return res, err
	}
	st := ex.consume(nb, opts, start)
	waitErr := ex.cmd.Wait()
	res.CellsRun = st.cellsRun
	res.Elapsed = time.Since(start)
	res.CopiedTo = copyToProject(res.NotebookPath, opts.ProjectRoot, opts.Mode, opts.Progress)
	res.MetricsPath, res.Metrics = readMetrics(opts.ProjectRoot)

	switch {
	case st.failure != nil:
		return res, st.failure
	case ctx.Err() != nil:
		return res, fmt.Errorf("run interrupted: %w", ctx.Err())
	case runCtx.Err() != nil:
		return res, st.runTimeout(nb, opts.RunTimeout)
	case st.startupErr != "":
		return res, fmt.Errorf("the notebook could not be executed (%s):\n%s\n%s", opts.Python, strings.TrimSpace(st.startupErr), ex.stderr.String())
	case waitErr != nil || !st.finished:
		return res, fmt.Errorf("executor %s stopped unexpectedly (%w):\n%s", opts.Python, waitErr, ex.stderr.String())
	}
	return res, nil
}

func limitsNote(o Options) string {
	var parts []string
	if o.TimeBudget > 0 {
		parts = append(parts, "time budget "+o.TimeBudget.String())
	}
	if o.TimeoutPerCell > 0 {
		parts = append(parts, "cell timeout "+o.TimeoutPerCell.String())
	}
	if o.RunTimeout > 0 {
		parts = append(parts, "run timeout "+o.RunTimeout.String())
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// prepare builds the notebook, injects the parameters, keeps the mode's cells
// and writes OUT/executed_<mode>.ipynb, the file the executor fills in.
func prepare(opts Options, res *Result) (*notebook.Notebook, error) {
	built, err := notebook.Build(opts.CellsDir, opts.OutDir)
	if err != nil {
		var probs cellsrc.Problems
		if errors.As(err, &probs) {
			return nil, &InputError{Msg: "the notebook cannot be built:\n" + probs.Error(), Err: err}
		}
		return nil, err
	}
	nb := built.Notebook
	if err := checkParams(nb, opts.Params); err != nil {
		return nil, err
	}
	if err := notebook.InjectParameters(nb, params(opts)); err != nil {
		return nil, &InputError{Msg: err.Error(), Err: err}
	}
	if opts.Mode == ModeQuickstart {
		nb = notebook.Quickstart(nb)
	}
	for _, c := range nb.Cells {
		if c.Kind == cellsrc.Code {
			res.CodeCells++
		}
	}
	data, err := nb.Marshal()
	if err != nil {
		return nil, err
	}
	res.NotebookPath = filepath.Join(opts.OutDir, "executed_"+opts.Mode+".ipynb")
	if err := notebook.WriteFileAtomic(res.NotebookPath, data); err != nil {
		return nil, err
	}
	return nb, nil
}

// executor is the running nbexec.py process.
type executor struct {
	cmd    *exec.Cmd
	stdout io.Reader
	stderr *tailBuffer
}

func startExecutor(ctx context.Context, opts Options, nbPath string) (*executor, error) {
	absNB, err := filepath.Abs(nbPath)
	if err != nil {
		return nil, err
	}
	absOut, err := filepath.Abs(opts.OutDir)
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"notebook":        absNB,
		"kernel":          "python3",
		"cwd":             absOut,
		"startup_timeout": int(opts.StartupTimeout / time.Second),
	}
	if opts.TimeoutPerCell > 0 {
		cfg["timeout"] = int((opts.TimeoutPerCell + time.Second - 1) / time.Second)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, opts.Python, "-c", nbexecScript)
	cmd.Dir = absOut
	cmd.Env = kernelEnv(os.Environ(), opts.ProjectRoot)
	// Step 12 saves the clean built notebook to PROJECT_ROOT (in Colab it asks the frontend).
	if built := filepath.Join(absOut, notebook.FileName); fileExists(built) {
		cmd.Env = append(cmd.Env, "BUILT_NOTEBOOK="+built)
	}
	cmd.Stdin = bytes.NewReader(cfgJSON)
	// On cancellation ask politely first: the executor then shuts the kernel
	// down instead of orphaning it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	ex := &executor{cmd: cmd, stderr: &tailBuffer{max: 64 << 10}}
	cmd.Stderr = ex.stderr
	if ex.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start executor %s: %w", opts.Python, err)
	}
	return ex, nil
}

// runState is what the executor's events said.
type runState struct {
	failure    *Failure
	startupErr string
	finished   bool
	cellsRun   int
	current    int // notebook index of the cell running, -1 before the first
	ordinal    map[int]int
	total      int
}

// runTimeout is the failure for a run stopped by its whole-run timeout.
func (st *runState) runTimeout(nb *notebook.Notebook, limit time.Duration) *Failure {
	f := &Failure{Kind: RunTimeout, Total: st.total, Timeout: limit, Ordinal: st.ordinal[st.current]}
	if st.current >= 0 && st.current < len(nb.Cells) {
		c := nb.Cells[st.current]
		f.CellID, f.Section, f.Origin = c.ID, c.Origin.Section, originOf(c, 0)
	}
	return f
}

// consume reads the executor's JSON events until it closes stdout, printing
// progress: one line per cell with its cells/ origin, then its output, indented.
func (ex *executor) consume(nb *notebook.Notebook, opts Options, start time.Time) *runState {
	st := &runState{current: -1, ordinal: map[int]int{}}
	for i, c := range nb.Cells {
		if c.Kind == cellsrc.Code {
			st.total++
			st.ordinal[i] = st.total
		}
	}
	p := &progressPrinter{w: opts.Progress, lineStart: true}
	cellStart := time.Now()
	rd := bufio.NewReaderSize(ex.stdout, 1<<20)
	for {
		line, readErr := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var ev event
			if err := json.Unmarshal(line, &ev); err != nil {
				fmt.Fprintf(ex.stderr, "executor: unreadable event %q\n", line)
			} else {
				switch ev.Event {
				case "cell":
					c := nb.Cells[ev.Index]
					st.current, cellStart = ev.Index, time.Now()
					p.endLine()
					fmt.Fprintf(p.w, "[%d/%d] %s (%s) elapsed %s\n", st.ordinal[ev.Index], st.total,
						orDash(c.Origin.Section), orDash(originOf(c, 0)), since(start))
				case "stream":
					p.stream(ev.Text)
				case "cell_done":
					st.cellsRun++
					p.endLine()
					fmt.Fprintf(p.w, "       done in %s\n", time.Since(cellStart).Round(10*time.Millisecond))
				case "failed":
					if ev.Kind == "startup" || ev.Kind == "interrupted" || ev.Index < 0 || ev.Index >= len(nb.Cells) {
						st.startupErr = fmt.Sprintf("%s: %s: %s\n%s", ev.Kind, ev.EName, ev.EValue, strings.Join(ev.Traceback, "\n"))
						break
					}
					st.failure = newFailure(ev, nb.Cells[ev.Index], st.ordinal[ev.Index], st.total, opts.TimeoutPerCell)
				case "finished":
					st.finished = true
				}
			}
		}
		if readErr != nil {
			break
		}
	}
	p.endLine()
	return st
}

// progressPrinter indents cell output under its cell's progress line.
type progressPrinter struct {
	w         io.Writer
	lineStart bool
}

func (p *progressPrinter) stream(text string) {
	for text != "" {
		i := strings.IndexByte(text, '\n')
		seg := text
		if i >= 0 {
			seg, text = text[:i+1], text[i+1:]
		} else {
			text = ""
		}
		if p.lineStart {
			fmt.Fprint(p.w, "    | ")
		}
		fmt.Fprint(p.w, seg)
		p.lineStart = strings.HasSuffix(seg, "\n")
	}
}

func (p *progressPrinter) endLine() {
	if !p.lineStart {
		fmt.Fprintln(p.w)
		p.lineStart = true
	}
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

func defaults(o *Options) error {
	switch o.Mode {
	case ModeQuickstart, ModeSmoke, ModeFull:
	case "":
		return &InputError{Msg: "--mode is required: quickstart, smoke or full"}
	default:
		return &InputError{Msg: fmt.Sprintf("unknown mode %q: use quickstart, smoke or full", o.Mode)}
	}
	if o.CellsDir == "" {
		o.CellsDir = "cells"
	}
	if o.OutDir == "" {
		o.OutDir = "build"
	}
	if o.ProjectRoot == "" {
		o.ProjectRoot = DefaultProjectRoot
	}
	abs, err := filepath.Abs(o.ProjectRoot)
	if err != nil {
		return &InputError{Msg: fmt.Sprintf("project root %s: %v", o.ProjectRoot, err), Err: err}
	}
	o.ProjectRoot = abs
	if o.DataPath != "" {
		data, err := CheckDataPath(o.DataPath)
		if err != nil {
			return err
		}
		o.DataPath = data
	}
	if o.SampleSize < 0 {
		return &InputError{Msg: fmt.Sprintf("sample size must be positive, got %d", o.SampleSize)}
	}
	if o.Python == "" {
		o.Python = validate.DefaultPython()
	}
	if o.TimeBudget < 0 {
		return &InputError{Msg: fmt.Sprintf("time budget must be positive, got %s", o.TimeBudget)}
	}
	o.TimeoutPerCell, o.RunTimeout = Timeouts(o.TimeBudget, o.TimeoutPerCell, o.RunTimeout)
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = 2 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

// params are the values injected after the parameters cell; only those given.
func params(o Options) []notebook.Param {
	ps := []notebook.Param{{Name: "RUN_MODE", Value: o.Mode}}
	if o.DataPath != "" {
		ps = append(ps, notebook.Param{Name: "DATA_PATH", Value: o.DataPath})
	}
	if o.SampleSize > 0 {
		ps = append(ps, notebook.Param{Name: "SAMPLE_SIZE", Value: o.SampleSize})
	}
	ps = append(ps, notebook.Param{Name: "PROJECT_ROOT_OVERRIDE", Value: o.ProjectRoot})
	if o.ModelName != "" {
		ps = append(ps, notebook.Param{Name: "MODEL_NAME", Value: o.ModelName})
	}
	if o.TimeBudget > 0 {
		ps = append(ps, notebook.Param{Name: "TIME_BUDGET_MINUTES", Value: budgetMinutes(o.TimeBudget)})
	}
	return append(ps, o.Params...)
}

// budgetMinutes is the budget as the notebook reads it: whole minutes as an
// int, a fraction (a test's 30 s) as a float.
func budgetMinutes(d time.Duration) any {
	if d%time.Minute == 0 {
		return int(d / time.Minute)
	}
	return d.Minutes()
}

// flagParams are the parameters run's own flags set.
var flagParams = map[string]string{"RUN_MODE": "--mode", "DATA_PATH": "--data", "SAMPLE_SIZE": "--sample-size",
	"PROJECT_ROOT_OVERRIDE": "--project-root", "MODEL_NAME": "--model-name", "TIME_BUDGET_MINUTES": "--time-budget-minutes"}

// checkParams accepts only variables the parameters cell assigns, so a typo
// fails before anything runs instead of being a silently unused variable.
func checkParams(nb *notebook.Notebook, extra []notebook.Param) error {
	var cell *notebook.Cell
	for i := range nb.Cells {
		if nb.Cells[i].HasTag(notebook.TagParameters) {
			cell = &nb.Cells[i]
			break
		}
	}
	for _, p := range extra {
		if flag, ok := flagParams[p.Name]; ok {
			return &InputError{Msg: fmt.Sprintf("--param %s: set it with %s", p.Name, flag)}
		}
		if cell == nil || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(p.Name)+`\s*=`).MatchString(cell.Source) {
			return &InputError{Msg: fmt.Sprintf("--param %s: the parameters cell has no variable %s", p.Name, p.Name)}
		}
	}
	return nil
}

// kernelEnv is the executor's (and so the kernel's) environment: an allowlist
// of what a notebook needs (paths, locale, threads, GPU selection, caches,
// proxies, PC_* config overrides), never the action's inputs (INPUT_*), GitHub's
// or Actions' tokens, or anything named like a credential. Notebook code is
// pull request code: what is not passed here cannot leak from it.
func kernelEnv(environ []string, projectRoot string) []string {
	set := map[string]string{
		"PROJECT_ROOT":     projectRoot,
		"MPLBACKEND":       "Agg",
		"PYTHONUNBUFFERED": "1",
		// ipykernel warns about frozen modules under the debugger otherwise.
		"PYDEVD_DISABLE_FILE_VALIDATION": "1",
	}
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := set[k]; ours || !KernelVisible(k) {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+set[k])
	}
	return env
}

// kernelNames are passed through to the kernel when set.
var kernelNames = map[string]bool{
	"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true, "TERM": true, "TZ": true,
	"LANG": true, "LANGUAGE": true, "TMPDIR": true, "TEMP": true, "TMP": true, "CI": true,
	"PYENV_ROOT": true, "PYENV_VERSION": true, "VIRTUAL_ENV": true,
	"PYTHONPATH": true, "PYTHONHASHSEED": true, "PYTHONUTF8": true, "PYTHONDONTWRITEBYTECODE": true, "PYTHONWARNINGS": true,
	"LD_LIBRARY_PATH": true, "CUDA_VISIBLE_DEVICES": true, "CUDA_HOME": true, "CUDA_PATH": true,
	"NVIDIA_VISIBLE_DEVICES": true, "NVIDIA_DRIVER_CAPABILITIES": true,
	"OMP_NUM_THREADS": true, "MKL_NUM_THREADS": true, "OPENBLAS_NUM_THREADS": true, "NUMEXPR_NUM_THREADS": true,
	"VECLIB_MAXIMUM_THREADS": true, "OPENBLAS_CORETYPE": true, "OPENBLAS_L2_SIZE": true, "BENCH_THREADS": true,
	"HF_HOME": true, "HF_HUB_CACHE": true, "HF_HUB_OFFLINE": true, "HF_DATASETS_OFFLINE": true, "TRANSFORMERS_OFFLINE": true,
	"HF_HUB_DISABLE_TELEMETRY": true, "HF_HUB_DISABLE_PROGRESS_BARS": true, "SENTENCE_TRANSFORMERS_HOME": true,
	"TOKENIZERS_PARALLELISM": true, "TORCH_HOME": true, "KERAS_HOME": true, "KERAS_BACKEND": true, "TF_CPP_MIN_LOG_LEVEL": true,
	"KAGGLEHUB_CACHE": true, "NLTK_DATA": true, "MPLCONFIGDIR": true,
	"XDG_CACHE_HOME": true, "XDG_CONFIG_HOME": true, "XDG_DATA_HOME": true, "XDG_RUNTIME_DIR": true,
	"JUPYTER_PATH": true, "JUPYTER_DATA_DIR": true, "JUPYTER_CONFIG_DIR": true, "JUPYTER_RUNTIME_DIR": true,
	"JUPYTER_PLATFORM_DIRS": true, "IPYTHONDIR": true,
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "REQUESTS_CA_BUNDLE": true, "CURL_CA_BUNDLE": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true, "http_proxy": true, "https_proxy": true, "no_proxy": true,
}

// kernelPrefixes: locale categories, and the notebook's own PC_<FIELD> config overrides.
var kernelPrefixes = []string{"LC_", "PC_"}

var credentialName = regexp.MustCompile(`(?i)token|secret|passw|credential|private|(^|_)key($|_)|apikey|auth`)

// KernelVisible reports whether the environment variable name reaches notebook code.
func KernelVisible(name string) bool {
	if credentialName.MatchString(name) {
		return false
	}
	if kernelNames[name] {
		return true
	}
	for _, p := range kernelPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

type event struct {
	Event     string   `json:"event"`
	Index     int      `json:"index"`
	Name      string   `json:"name"`
	Text      string   `json:"text"`
	Kind      string   `json:"kind"`
	EName     string   `json:"ename"`
	EValue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
	Seconds   float64  `json:"seconds"`
}

var (
	ansiRE      = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	cellFrameRE = regexp.MustCompile(`Cell In\[\d+\], line (\d+)`)
	// IPython 7 (Colab's) names the frame after the kernel's temp file instead,
	// "/tmp/ipykernel_42/123.py in <cell line: 0>()", and marks the line with "---->".
	cellFileFrameRE = regexp.MustCompile(`(?m)ipykernel_\d+/\d+\.py in .*$(?:\n.*)*?\n-+> (\d+)`)
)

// StripANSI removes terminal colour codes (IPython colours tracebacks).
func StripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

func newFailure(ev event, c notebook.Cell, ordinal, total int, timeout time.Duration) *Failure {
	f := &Failure{
		Kind:    FailureKind(ev.Kind),
		Ordinal: ordinal,
		Total:   total,
		CellID:  c.ID,
		Section: c.Origin.Section,
		EName:   ev.EName,
		EValue:  ev.EValue,
		Timeout: timeout,
	}
	tb := StripANSI(strings.Join(ev.Traceback, "\n"))
	f.Traceback = tb
	line := 0
	// IPython 8+ names the failing cell's frame "Cell In[7], line 3": point at
	// that line of the cell file rather than at the cell's first line.
	if m := cellFrameRE.FindStringSubmatch(tb); m != nil {
		line, _ = strconv.Atoi(m[1])
	} else if m := cellFileFrameRE.FindStringSubmatch(tb); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	f.Origin = originOf(c, line)
	if c.Origin.File == "" && c.HasTag(notebook.TagInjected) {
		f.Origin = "injected parameters cell (from the run flags)"
	}
	return f
}

// originOf is "file:line" for line n of the cell (0: the cell's first line).
func originOf(c notebook.Cell, n int) string {
	if c.Origin.File == "" {
		if c.HasTag(notebook.TagInjected) {
			return "injected parameters"
		}
		return ""
	}
	if n <= 0 {
		return c.Origin.String()
	}
	f, l := c.Origin.Pos(n)
	return fmt.Sprintf("%s:%d", f, l)
}

// copyToProject keeps the executed notebook next to the artifacts it made,
// when the run created (or found) PROJECT_ROOT.
func copyToProject(nbPath, root, mode string, progress io.Writer) string {
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return ""
	}
	data, err := os.ReadFile(nbPath)
	if err != nil {
		fmt.Fprintf(progress, "run: could not copy the executed notebook: %v\n", err)
		return ""
	}
	dst := filepath.Join(root, "notebooks", "executed_"+mode+".ipynb")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		fmt.Fprintf(progress, "run: could not copy the executed notebook: %v\n", err)
		return ""
	}
	if err := notebook.WriteFileAtomic(dst, data); err != nil {
		fmt.Fprintf(progress, "run: could not copy the executed notebook: %v\n", err)
		return ""
	}
	return dst
}

// MetricsFile is where the Quick Start writes its metrics, under PROJECT_ROOT.
const MetricsFile = "results/quickstart_metrics.json"

func readMetrics(root string) (string, json.RawMessage) {
	p := filepath.Join(root, filepath.FromSlash(MetricsFile))
	data, err := os.ReadFile(p)
	if err != nil || !json.Valid(data) {
		return "", nil
	}
	return p, json.RawMessage(data)
}

// FormatMetrics renders metrics JSON for a terminal: "key: value" lines for
// a flat object, indented JSON otherwise.
func FormatMetrics(raw json.RawMessage) string {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err == nil {
		flat := true
		keys := make([]string, 0, len(obj))
		for k, v := range obj {
			keys = append(keys, k)
			switch v.(type) {
			case map[string]any, []any:
				flat = false
			}
		}
		if flat {
			sort.Strings(keys)
			var b strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&b, "  %s: %v\n", k, obj[k])
			}
			return b.String()
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "  ", "  "); err != nil {
		return "  " + string(raw) + "\n"
	}
	return "  " + out.String() + "\n"
}

// tailBuffer keeps the last max bytes written: the executor's stderr is only
// shown when something goes wrong, and a chatty kernel must not fill memory.
type tailBuffer struct {
	mu  sync.Mutex // written by exec's copier and by Run
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}
