package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	"github.com/prodcat/colab-notebook-action/internal/testenv"
)

const good = "../../testdata/validate/cells"

// copyCells copies the valid fixture so a case can break one thing in it.
func copyCells(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "cells")
	if err := os.CopyFS(dst, os.DirFS(good)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

func lineOf(t *testing.T, path, text string) int {
	t.Helper()
	b, _ := os.ReadFile(path)
	for i, ln := range strings.Split(string(b), "\n") {
		if strings.Contains(ln, text) {
			return i + 1
		}
	}
	t.Fatalf("%q not in %s", text, path)
	return 0
}

func TestValidFixture(t *testing.T) {
	py := testenv.Python(t, "IPython")
	rep, err := Run(context.Background(), Options{CellsDir: good, Python: py})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("valid fixture has problems:\n%s", cellsrc.Problems(rep.Problems))
	}
	if rep.Cells != 40 || rep.CodeCells != 21 || rep.Modules != 1 {
		t.Errorf("counts = %+v", rep)
	}
}

func TestProblems(t *testing.T) {
	py := testenv.Python(t, "IPython")
	for _, tc := range []struct {
		name string
		// break edits the copied cells dir and returns the expected problem
		// (file relative to the cells dir, or "" for the dir itself).
		breakIt func(t *testing.T, dir string) (file string, line int, msg string)
	}{
		{"cell syntax error", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "step_5 = 5", "step_5 = (5 +")
			return "05_steps.py", lineOf(t, f, "step_5 = (5"), "SyntaxError"
		}},
		{"syntax error inside %%capture", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "04_dataset.py")
			edit(t, f, "print(os.getcwd())", "print(os.getcwd()")
			return "04_dataset.py", lineOf(t, f, "print(os.getcwd()"), "SyntaxError"
		}},
		{"indentation error after magics", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "04_dataset.py")
			edit(t, f, "%cd /content\n", "%cd /content\n    y = 1\n")
			return "04_dataset.py", lineOf(t, f, "    y = 1"), "IndentationError"
		}},
		{"module syntax error", func(t *testing.T, dir string) (string, int, string) {
			os.WriteFile(filepath.Join(dir, "src", "helper.py"), []byte("\"\"\"Doc.\"\"\"\ndef f(:\n    pass\n"), 0o644)
			return "src/helper.py", 2, "SyntaxError"
		}},
		{"missing step", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "05_steps.py"), "## Step 5 — Section 5", "## Section five")
			return "", 0, "missing markdown heading \"## Step 5 — ...\""
		}},
		{"steps out of order", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "## Step 7 — Section 7", "## Step X — tmp")
			edit(t, f, "## Step 8 — Section 8", "## Step 7 — Section 7")
			edit(t, f, "## Step X — tmp", "## Step 8 — Section 8")
			return "05_steps.py", lineOf(t, f, "## Step 8 —"), "\"Step 8\" comes after \"Step 6\""
		}},
		{"step colon and hyphen spellings", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "## Step 2 — Section 2", "## Step 2: Section 2")
			edit(t, f, "## Step 4 — Section 4", "## Step 4 - Section 4")
			edit(t, f, "## Step 6 — Section 6", "## Step6 Section 6")
			return "", 0, "missing markdown heading \"## Step 6 — ...\""
		}},
		{"missing steps are not also out of order", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "## Step 1 — Section 1", "## Overview")
			edit(t, f, "## Step 2 — Section 2", "## More")
			return "", 0, "missing markdown heading \"## Step 2 — ...\""
		}},
		{"step without code", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "# %%\nstep_9 = 9\n", "")
			return "05_steps.py", lineOf(t, f, "## Step 9 —"), "has no code cell before the next section"
		}},
		{"no final section", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, filepath.Join(dir, "06_delivery.py"), "## Final delivery", "## Wrap up")
			return "05_steps.py", lineOf(t, f, "## Step 12 —"), "no final delivery section after Step 12"
		}},
		{"no quick start", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "00_intro.py"), "## Quick Start", "## Quick look")
			return "", 0, "no \"Quick Start\" markdown heading"
		}},
		{"quick start too late", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "00_intro.py"), "## Quick Start", "## Overview")
			f := filepath.Join(dir, "06_delivery.py")
			edit(t, f, "## Final delivery", "## Final delivery\n#\n# ### Quick Start again")
			return "06_delivery.py", lineOf(t, f, "Quick Start again"), "must be within the first 10 cells"
		}},
		{"two parameters cells", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "06_delivery.py")
			edit(t, f, "# %%\nprint(\"done\")", "# %% tags=[\"parameters\"]\nprint(\"done\")")
			return "06_delivery.py", lineOf(t, f, "tags=[\"parameters\"]"), "second cell tagged \"parameters\""
		}},
		{"no parameters cell", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "01_parameters.py"), "\"parameters\", ", "")
			return "", 0, "no cell tagged \"parameters\""
		}},
		{"no drive mount", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "02_setup_drive.py"), "force_remount=True", "force_remount=False")
			return "", 0, "no code cell with both drive.mount"
		}},
		{"no install heading", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "03_install.py"), "## Install dependencies", "## Dependencies")
			return "", 0, "heading containing \"Install\""
		}},
		{"no option B", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "04_dataset.py"), "## Option B — Kaggle", "## Kaggle")
			return "", 0, "heading containing \"Option B\""
		}},
		{"intro is code", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "00_intro.py")
			b, _ := os.ReadFile(f)
			os.WriteFile(f, append([]byte("# %%\nx = 1\n\n"), b...), 0o644)
			return "00_intro.py", 1, "must open with an intro markdown cell"
		}},
		{"module without src cell", func(t *testing.T, dir string) (string, int, string) {
			os.MkdirAll(filepath.Join(dir, "src", "api"), 0o755)
			os.WriteFile(filepath.Join(dir, "src", "api", "app.py"), []byte("APP = 1\n"), 0o644)
			return "src/api/app.py", 0, "module has no src=\"api/app.py\" cell"
		}},
		{"src cell to missing module", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "06_delivery.py")
			edit(t, f, "# %%\nprint", "# %% src=\"gone.py\"\n\n# %%\nprint")
			return "06_delivery.py", lineOf(t, f, "gone.py"), "src=\"gone.py\": "
		}},
		{"module written twice", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "06_delivery.py")
			edit(t, f, "# %%\nprint", "# %% src=\"helper.py\"\n\n# %%\nprint")
			return "06_delivery.py", lineOf(t, f, "helper.py"), "is already written by"
		}},
		{"src cell before SRC_DIR", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "02_setup_drive.py"), "SRC_DIR = PROJECT_ROOT + \"/src\"", "src_dir = PROJECT_ROOT")
			f := filepath.Join(dir, "05_steps.py")
			return "05_steps.py", lineOf(t, f, "src=\"helper.py\""), "before any code cell assigns SRC_DIR"
		}},
		{"quickstart src cell without quickstart SRC_DIR", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "# %% src=\"helper.py\"", "# %% src=\"helper.py\" tags=[\"quickstart\"]")
			return "05_steps.py", lineOf(t, f, "src=\"helper.py\""), "no earlier \"quickstart\" cell assigns SRC_DIR"
		}},
		{"parameters not in quick start", func(t *testing.T, dir string) (string, int, string) {
			edit(t, filepath.Join(dir, "01_parameters.py"), ", \"quickstart\"", "")
			return "01_parameters.py", 1, "must also be tagged \"quickstart\""
		}},
		{"unknown section order", func(t *testing.T, dir string) (string, int, string) {
			os.WriteFile(filepath.Join(dir, "extra_step.py"), []byte("# %%\nx = 1\n"), 0o644)
			return "extra_step.py", 0, "unknown section order"
		}},
		{"parse error hides structure noise", func(t *testing.T, dir string) (string, int, string) {
			f := filepath.Join(dir, "05_steps.py")
			edit(t, f, "# %% src=\"helper.py\"", "# %% src=helper.py")
			return "05_steps.py", lineOf(t, f, "src=helper.py"), "not valid JSON"
		}},
		{"built notebook fails schema (id collision)", func(t *testing.T, dir string) (string, int, string) {
			long := strings.Repeat("n", 70)
			os.WriteFile(filepath.Join(dir, "07_"+long+"a.py"), []byte("# %%\na = 1\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "08_"+long+"b.py"), []byte("# %%\nb = 1\n"), 0o644)
			return "08_" + long + "b.py", 1, "duplicate id"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyCells(t)
			file, line, msg := tc.breakIt(t, dir)
			want := cellsrc.Problem{File: dir, Line: line}
			if file != "" {
				want.File = filepath.Join(dir, filepath.FromSlash(file))
			}
			rep, err := Run(context.Background(), Options{CellsDir: dir, Python: py})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range rep.Problems {
				if p.File == want.File && p.Line == want.Line && strings.Contains(p.Message, msg) {
					if tc.name == "parse error hides structure noise" && len(rep.Problems) != 1 {
						t.Errorf("want only the parse problem, got:\n%s", cellsrc.Problems(rep.Problems))
					}
					if tc.name == "missing steps are not also out of order" && len(rep.Problems) != 2 {
						t.Errorf("want just the two missing steps, got:\n%s", cellsrc.Problems(rep.Problems))
					}
					return
				}
			}
			t.Errorf("want %s:%d: ...%s...\ngot:\n%s", want.File, want.Line, msg, cellsrc.Problems(rep.Problems))
		})
	}
}

func TestEmptyDir(t *testing.T) {
	dir := t.TempDir()
	rep, err := Run(context.Background(), Options{CellsDir: dir, Python: "python-not-needed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Message, "no cell files") {
		t.Errorf("got %v", rep.Problems)
	}
}

func TestPythonMissing(t *testing.T) {
	_, err := Run(context.Background(), Options{CellsDir: good, Python: filepath.Join(t.TempDir(), "no-python")})
	if err == nil || !strings.Contains(err.Error(), "python syntax check") {
		t.Errorf("got %v, want a python syntax check error", err)
	}
}

// The mount cell may take its mount point from a DRIVE_MOUNT parameter (what a
// run outside Colab points elsewhere) as long as the parameter's default is
// the spec's '/content/drive'.
func TestDriveMountParameter(t *testing.T) {
	py := testenv.Python(t, "IPython")
	spell := func(t *testing.T, dir, paramDefault string) []cellsrc.Problem {
		edit(t, filepath.Join(dir, "01_parameters.py"), "DATA_PATH = \"\"", "DATA_PATH = \"\"\nDRIVE_MOUNT = \""+paramDefault+"\"")
		f := filepath.Join(dir, "02_setup_drive.py")
		edit(t, f, "drive.mount('/content/drive', force_remount=True)", "drive.mount(DRIVE_MOUNT, force_remount=True)")
		edit(t, f, "PROJECT_ROOT = \"/content/drive/MyDrive/product_categorization_project\"",
			"PROJECT_ROOT = f\"{DRIVE_MOUNT}/MyDrive/product_categorization_project\"")
		rep, err := Run(context.Background(), Options{CellsDir: dir, Python: py})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Problems
	}
	if probs := spell(t, copyCells(t), "/content/drive"); len(probs) > 0 {
		t.Errorf("DRIVE_MOUNT = '/content/drive' rejected:\n%s", cellsrc.Problems(probs))
	}
	dir := copyCells(t)
	probs := spell(t, dir, "/mnt/elsewhere")
	f := filepath.Join(dir, "02_setup_drive.py")
	if len(probs) != 1 || probs[0].File != f || !strings.Contains(probs[0].Message, "DRIVE_MOUNT = \"/content/drive\"") {
		t.Errorf("want one problem in %s about DRIVE_MOUNT's default, got:\n%s", f, cellsrc.Problems(probs))
	}
}
