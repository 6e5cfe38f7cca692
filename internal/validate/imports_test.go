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

// importProblems validates dir and keeps the import check's problems.
func importProblems(t *testing.T, dir, py string) []cellsrc.Problem {
	t.Helper()
	rep, err := Run(context.Background(), Options{CellsDir: dir, Python: py})
	if err != nil {
		t.Fatal(err)
	}
	var out []cellsrc.Problem
	for _, p := range rep.Problems {
		if strings.Contains(p.Message, "which Colab does not preinstall") {
			out = append(out, p)
		}
	}
	return out
}

func TestImportsColabLacks(t *testing.T) {
	py := testenv.Python(t, "IPython")
	for _, tc := range []struct {
		name    string
		file    string // relative to the cells dir
		add     string // appended to file
		wantAt  string // text on the line the problem names; "" = no problem
		wantMsg string
	}{
		{"cell imports a package Colab lacks", "05_steps.py", "\n# %%\nimport os\nimport lime.lime_text\n",
			"import lime.lime_text", "imports lime (distribution lime)"},
		{"module imports one inside a function", "src/helper.py",
			"\n\ndef report():\n    from fpdf import FPDF\n    return FPDF\n", "from fpdf import FPDF", "imports fpdf (distribution fpdf2)"},
		{"unknown to the package list", "05_steps.py", "\n# %%\nimport surely_not_a_colab_package\n",
			"import surely_not_a_colab_package", "add it to EXTRA_PACKAGES in cells/src/environment.py"},
		{"try/except ImportError guards it", "src/helper.py",
			"\n\ntry:\n    import lime\nexcept ImportError:\n    lime = None\n", "", ""},
		{"try/except Exception guards it", "05_steps.py",
			"\n# %%\ntry:\n    from optuna import create_study\nexcept (ValueError, Exception):\n    create_study = None\n", "", ""},
		{"a handler for another error does not guard", "05_steps.py",
			"\n# %%\ntry:\n    import optuna\nexcept KeyError:\n    optuna = None\n", "    import optuna", "imports optuna"},
		{"an import in the except branch is not guarded by it", "05_steps.py",
			"\n# %%\ntry:\n    import json\nexcept ImportError:\n    import optuna\n", "    import optuna", "imports optuna"},
		{"the install cell adds it", "03_install.py",
			"\n# %%\nEXTRA_PACKAGES = {\"fpdf2\": \"2.8.4\", \"optuna\": \"4.5.0\"}\nimport optuna\nfrom fpdf import FPDF\n", "", ""},
		{"Colab preinstalls it; stdlib; own modules; magics", "04_dataset.py",
			"\n# %%\n%matplotlib inline\nimport numpy, sklearn.pipeline, yaml, PIL.Image, torch\nimport json, tomllib\nimport helper\nfrom google.colab import files\n!pip list\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyCells(t)
			f := filepath.Join(dir, filepath.FromSlash(tc.file))
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, append(b, tc.add...), 0o644); err != nil {
				t.Fatal(err)
			}
			probs := importProblems(t, dir, py)
			if tc.wantAt == "" {
				if len(probs) > 0 {
					t.Fatalf("want no import problem, got:\n%s", cellsrc.Problems(probs))
				}
				return
			}
			want := lineOf(t, f, tc.wantAt)
			if len(probs) != 1 || probs[0].File != f || probs[0].Line != want || !strings.Contains(probs[0].Message, tc.wantMsg) {
				t.Fatalf("want one problem at %s:%d with %q, got:\n%s", f, want, tc.wantMsg, cellsrc.Problems(probs))
			}
		})
	}
}

// The notebook's own cells and modules import only what Colab has or the
// install cell adds (this check once would have named report.py's fpdf).
func TestImportsOfTheRealCells(t *testing.T) {
	py := testenv.Python(t, "IPython")
	if probs := importProblems(t, filepath.Join("..", "..", "cells"), py); len(probs) > 0 {
		t.Fatalf("the real cells import what Colab lacks:\n%s", cellsrc.Problems(probs))
	}
}

func TestColabPackagesFile(t *testing.T) {
	for imp, dist := range map[string]string{"sklearn": "scikit-learn", "yaml": "PyYAML", "PIL": "pillow",
		"torch": "torch", "IPython": "ipython", "fpdf": "fpdf2"} {
		found := false
		for _, p := range colabPackages[imp] {
			found = found || p.Dist == dist
		}
		if !found {
			t.Errorf("schema/colab-packages.txt: %s not mapped to %s (got %v)", imp, dist, colabPackages[imp])
		}
	}
	for _, p := range colabPackages["fpdf"] {
		if p.InColab() {
			t.Errorf("fpdf2 listed as preinstalled in Colab: %+v", p)
		}
	}
	if _, err := ColabPackages([]byte("numpy\tnumpy\n")); err == nil {
		t.Error("a row without a version was accepted")
	}
}
