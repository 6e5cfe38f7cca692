package execute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/notebook"
	"github.com/prodcat/colab-notebook-action/internal/schema"
	"github.com/prodcat/colab-notebook-action/internal/testenv"
)

const fixture = "../../testdata/execute/cells"

// cellsWith copies the fixture and adds extra cell files to it.
func cellsWith(t *testing.T, extra map[string]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "cells")
	if err := os.CopyFS(dst, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(dst, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

type nbDoc struct {
	Cells []struct {
		ID       string           `json:"id"`
		Type     string           `json:"cell_type"`
		Count    *int             `json:"execution_count"`
		Source   []string         `json:"source"`
		Outputs  []map[string]any `json:"outputs"`
		Metadata map[string]any   `json:"metadata"`
	} `json:"cells"`
}

func readNB(t *testing.T, path string) nbDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	issues, err := schema.Check(data)
	if err != nil || len(issues) > 0 {
		t.Errorf("%s is not a valid nbformat 4.5 notebook: %v %v", path, issues, err)
	}
	var nb nbDoc
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestQuickstartRun(t *testing.T) {
	t.Parallel()
	py := testenv.Python(t, "nbclient", "ipykernel")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "products.csv")
	os.WriteFile(data, []byte("product_title,category\nA,B\n"), 0o644)
	root := filepath.Join(tmp, "project")
	var progress bytes.Buffer
	res, err := Run(context.Background(), Options{
		Mode: ModeQuickstart, CellsDir: fixture, OutDir: filepath.Join(tmp, "out"), ProjectRoot: root,
		DataPath: data, SampleSize: 50, ModelName: "tiny-bert", Python: py,
		Params:         []notebook.Param{{Name: "DRIVE_MOUNT", Value: "/tmp/mnt"}},
		TimeoutPerCell: time.Minute, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run failed: %v\nprogress:\n%s", err, progress.String())
	}
	if res.CodeCells != 5 || res.CellsRun != 5 {
		t.Errorf("ran %d/%d code cells, want 5/5", res.CellsRun, res.CodeCells)
	}
	nb := readNB(t, res.NotebookPath)
	var injected string
	for _, c := range nb.Cells {
		if c.ID == "injected-parameters" {
			injected = strings.Join(c.Source, "")
		}
		if c.Type == "code" && c.Count == nil {
			t.Errorf("cell %s was not executed", c.ID)
		}
	}
	for _, want := range []string{`RUN_MODE = "quickstart"`, `DATA_PATH = "` + data + `"`, "SAMPLE_SIZE = 50", `PROJECT_ROOT_OVERRIDE = "` + root + `"`, `MODEL_NAME = "tiny-bert"`, `DRIVE_MOUNT = "/tmp/mnt"`} {
		if !strings.Contains(injected, want) {
			t.Errorf("injected cell %q lacks %q", injected, want)
		}
	}
	// Only quickstart cells ran: the Step 2 cell would have written this.
	if _, err := os.Stat(filepath.Join(root, "full_ran.txt")); err == nil {
		t.Error("a cell not tagged quickstart ran in quickstart mode")
	}
	// %%writefile "{SRC_DIR}/helper.py" wrote the module byte for byte.
	want, _ := os.ReadFile(filepath.Join(fixture, "src", "helper.py"))
	if got, err := os.ReadFile(filepath.Join(root, "src", "helper.py")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("PROJECT_ROOT/src/helper.py = %q (%v), want the exact module bytes", got, err)
	}
	if res.CopiedTo != filepath.Join(root, "notebooks", "executed_quickstart.ipynb") {
		t.Errorf("CopiedTo = %q", res.CopiedTo)
	} else if _, err := os.Stat(res.CopiedTo); err != nil {
		t.Error(err)
	}
	var m map[string]any
	if err := json.Unmarshal(res.Metrics, &m); err != nil || m["accuracy"] != 0.5 || m["model"] != "tiny-bert" || m["sample_size"] != 50.0 {
		t.Errorf("metrics = %s (%v)", res.Metrics, err)
	}
	if s := FormatMetrics(res.Metrics); !strings.Contains(s, "accuracy: 0.5") {
		t.Errorf("FormatMetrics = %q", s)
	}
	out := progress.String()
	// The executor chooses no Keras backend (the notebook does): the kernel sees the caller's, if any.
	keras := os.Getenv("KERAS_BACKEND")
	if keras == "" {
		keras = "unset"
	}
	for _, want := range []string{"[1/5]", "[5/5] Step 1 — Write and use a module", "03_step01.py:7", "| env True Agg " + keras} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

func TestFailures(t *testing.T) {
	py := testenv.Python(t, "nbclient", "ipykernel")
	for _, tc := range []struct {
		name     string
		code     string
		kind     FailureKind
		exit     int
		wantLine string // text on the line the failure should point at
		want     []string
	}{
		{
			name: "cell error",
			code: "x = 1\ndef boom():\n    raise ValueError(\"boom from fixture\")\nboom()\n",
			kind: CellError, exit: ExitCellError, wantLine: "boom()",
			want: []string{"ValueError: boom from fixture", "section: Step 3 — Failing step", "traceback:", "----> 4 boom()"},
		},
		{
			name: "bad data",
			code: "class DataError(ValueError):\n    pass\nraise DataError(\"x.csv: the file is empty (0 bytes).\")\n",
			kind: CellError, exit: ExitBadInput, wantLine: "raise DataError(\"x.csv: the file is empty (0 bytes).\")",
			want: []string{"DataError: x.csv: the file is empty (0 bytes).", "traceback:"},
		},
		{
			name: "timeout",
			code: "import time\nprint(\"sleeping\")\ntime.sleep(600)\n",
			kind: Timeout, exit: ExitTimeout, wantLine: "import time",
			want: []string{"timed out after 2s", "section: Step 3 — Failing step"},
		},
		{
			name: "dead kernel",
			code: "import os\nos._exit(1)\n",
			kind: DeadKernel, exit: ExitDeadKernel, wantLine: "import os",
			want: []string{"the kernel died", "section: Step 3 — Failing step"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fail := "# %% [markdown]\n# ## Step 3 — Failing step\n\n# %%\n" + tc.code + "\n# %%\nprint(\"after\")\n"
			cells := cellsWith(t, map[string]string{"05_fail.py": fail})
			tmp := t.TempDir()
			root := filepath.Join(tmp, "project")
			started := time.Now()
			res, err := Run(context.Background(), Options{
				Mode: ModeSmoke, CellsDir: cells, OutDir: filepath.Join(tmp, "out"), ProjectRoot: root,
				Python: py, TimeoutPerCell: 2 * time.Second,
			})
			// Far below the 600 s sleep: the 2 s cell timeout, not the cell, ended the run
			// (kernel start-up alone can take half a minute on a loaded CI machine).
			if took := time.Since(started); took > 150*time.Second {
				t.Errorf("run took %s", took)
			}
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("want a *Failure, got %v", err)
			}
			if f.Kind != tc.kind || ExitCode(err) != tc.exit {
				t.Errorf("kind %s exit %d, want %s exit %d", f.Kind, ExitCode(err), tc.kind, tc.exit)
			}
			// The failure points at the cells/ file and line.
			failFile := filepath.Join(cells, "05_fail.py")
			body, _ := os.ReadFile(failFile)
			line := 0
			for i, ln := range strings.Split(string(body), "\n") {
				if ln == tc.wantLine {
					line = i + 1
				}
			}
			wantOrigin := failFile + ":" + itoa(line)
			if f.Origin != wantOrigin {
				t.Errorf("origin = %q, want %q", f.Origin, wantOrigin)
			}
			msg := err.Error()
			for _, w := range append(tc.want, wantOrigin) {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "\x1b[") {
				t.Errorf("ANSI codes left in message: %q", msg)
			}
			// Smoke mode ran the non-quickstart Step 2 before failing.
			if b, err := os.ReadFile(filepath.Join(root, "full_ran.txt")); err != nil || string(b) != "smoke" {
				t.Errorf("Step 2 cell did not run in smoke mode: %q %v", b, err)
			}
			// The executed notebook is written with the outputs so far, and copied.
			nb := readNB(t, res.NotebookPath)
			var sawError bool
			for _, c := range nb.Cells {
				if strings.Join(c.Source, "") == "print(\"after\")" && c.Count != nil {
					t.Error("the cell after the failure ran")
				}
				for _, o := range c.Outputs {
					if o["output_type"] == "error" {
						sawError = true
					}
				}
			}
			if tc.kind == CellError && !sawError {
				t.Error("executed notebook lacks the error output")
			}
			if res.CopiedTo == "" {
				t.Error("executed notebook was not copied to PROJECT_ROOT/notebooks")
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBadInput(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "project")
	out := filepath.Join(tmp, "out")
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"missing data file", Options{Mode: ModeSmoke, DataPath: filepath.Join(tmp, "nope.csv")}, "data file not found: " + filepath.Join(tmp, "nope.csv")},
		{"unknown mode", Options{Mode: "fast"}, `unknown mode "fast"`},
		{"no mode", Options{}, "--mode is required"},
		{"member of a missing zip", Options{Mode: ModeFull, DataPath: filepath.Join(tmp, "nope.zip") + "!a.csv"}, "data file not found"},
		{"cells that don't build", Options{Mode: ModeFull, CellsDir: filepath.Join(tmp, "empty")}, "no cell files"},
		{"--param the parameters cell lacks", Options{Mode: ModeFull, Params: []notebook.Param{{Name: "DRIVE_MOUNTT", Value: "/x"}}},
			"the parameters cell has no variable DRIVE_MOUNTT"},
		{"--param for a flag's variable", Options{Mode: ModeFull, Params: []notebook.Param{{Name: "RUN_MODE", Value: "smoke"}}},
			"set it with --mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.ProjectRoot, tc.opts.OutDir, tc.opts.Python = root, out, "python-is-not-needed"
			if tc.opts.CellsDir == "" {
				tc.opts.CellsDir = fixture
			} else {
				os.MkdirAll(tc.opts.CellsDir, 0o755)
			}
			_, err := Run(context.Background(), tc.opts)
			if ExitCode(err) != ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got exit %d, %v; want exit 2 and %q", ExitCode(err), err, tc.want)
			}
			if _, err := os.Stat(root); err == nil {
				t.Error("PROJECT_ROOT was created for a run that never started")
			}
		})
	}
}

func TestStripANSI(t *testing.T) {
	in := "\x1b[0;31mValueError\x1b[0m: boom \x1b[1;32m----> 4\x1b[39m"
	if got, want := StripANSI(in), "ValueError: boom ----> 4"; got != want {
		t.Errorf("StripANSI = %q, want %q", got, want)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&Failure{Kind: CellError}, 1},
		{&InputError{Msg: "x"}, 2},
		{&Failure{Kind: Timeout}, 3},
		{&Failure{Kind: DeadKernel}, 4},
		{errors.New("python missing"), 5},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestExecutorMissing(t *testing.T) {
	tmp := t.TempDir()
	res, err := Run(context.Background(), Options{
		Mode: ModeQuickstart, CellsDir: fixture, OutDir: filepath.Join(tmp, "out"),
		ProjectRoot: filepath.Join(tmp, "project"), Python: filepath.Join(tmp, "no-python"),
	})
	if ExitCode(err) != ExitInternal || !strings.Contains(err.Error(), "no-python") {
		t.Errorf("got exit %d, %v; want exit 5 naming the interpreter", ExitCode(err), err)
	}
	// The notebook that would have run is still there to inspect.
	if _, statErr := os.Stat(res.NotebookPath); statErr != nil {
		t.Errorf("executed notebook path %q: %v", res.NotebookPath, statErr)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	py := testenv.Python(t, "nbclient", "ipykernel")
	cells := cellsWith(t, map[string]string{"05_slow.py": "# %%\nimport time\ntime.sleep(600)\n"})
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	started := time.Now()
	res, err := Run(ctx, Options{
		Mode: ModeFull, CellsDir: cells, OutDir: filepath.Join(tmp, "out"),
		ProjectRoot: filepath.Join(tmp, "project"), Python: py,
	})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("got %v, want an interrupted run", err)
	}
	if took := time.Since(started); took > 150*time.Second {
		t.Errorf("cancelled run took %s to stop", took)
	}
	if _, err := os.Stat(res.NotebookPath); err != nil {
		t.Error(err)
	}
}
