// Package validate checks the cells/ directory before anything runs: every
// cell file parses, every code cell and module is valid Python (IPython
// syntax allowed in cells), the notebook has the structure the spec asks for,
// and the built notebook passes the nbformat 4.5 schema. Every problem names
// the file and line to fix.
package validate

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	"github.com/prodcat/colab-notebook-action/internal/notebook"
	"github.com/prodcat/colab-notebook-action/internal/schema"
)

//go:embed pysyntax.py
var pySyntaxScript string

// Steps is the number of "## Step N — ..." sections the notebook must have.
const Steps = 12

// QuickStartWithin is how early the "Quick Start" heading must come (cell count).
const QuickStartWithin = 10

// Options configures Run.
type Options struct {
	CellsDir string // default "cells"
	Python   string // interpreter for the syntax check; default DefaultPython()
}

// Report is the outcome of Run. The notebook is valid when Problems is empty.
type Report struct {
	Problems  []cellsrc.Problem
	Cells     int // notebook cells
	CodeCells int
	Modules   int // files under cells/src
}

// DefaultPython is the project's virtualenv interpreter when there is one
// (the one CI and the tests install into), else python3 from PATH.
func DefaultPython() string {
	p := filepath.Join(".venv", "bin", "python")
	if _, err := os.Stat(p); err == nil {
		abs, err := filepath.Abs(p)
		if err == nil {
			return abs
		}
		return p
	}
	return "python3"
}

// Run validates opts.CellsDir. The error is for failures of the checker
// itself (Python cannot be run); problems with the cells are in the report.
func Run(ctx context.Context, opts Options) (Report, error) {
	if opts.CellsDir == "" {
		opts.CellsDir = "cells"
	}
	if opts.Python == "" {
		opts.Python = DefaultPython()
	}
	var rep Report
	files, probs := cellsrc.ParseDir(opts.CellsDir)
	rep.Problems = append(rep.Problems, probs...)
	parsedOK := len(probs) == 0

	srcDir := filepath.Join(opts.CellsDir, "src")
	mods, err := cellsrc.ListModules(srcDir)
	if err != nil {
		return rep, err
	}
	rep.Modules = len(mods)

	var cells []cellsrc.Cell
	for _, f := range files {
		cells = append(cells, f.Cells...)
	}
	rep.Cells = len(cells)
	for _, c := range cells {
		if c.Kind == cellsrc.Code {
			rep.CodeCells++
		}
	}

	syn, err := checkSyntax(ctx, opts.Python, cells, srcDir, mods)
	if err != nil {
		return rep, err
	}
	rep.Problems = append(rep.Problems, syn.problems...)
	rep.Problems = append(rep.Problems, checkImports(syn.Imports, syn.ExtraPackages, syn.Stdlib, mods, syn.where, colabPackages)...)

	// Structure, src= and schema checks on a partly parsed notebook would
	// report sections or src= cells "missing" that are merely in a file
	// that failed to parse.
	if parsedOK && len(cells) > 0 {
		srcProbs := checkSrcCells(cells, srcDir, mods)
		rep.Problems = append(rep.Problems, srcProbs...)
		rep.Problems = append(rep.Problems, checkStructure(opts.CellsDir, cells)...)
		if len(srcProbs) == 0 {
			sp, err := checkSchema(opts.CellsDir, files)
			if err != nil {
				return rep, err
			}
			rep.Problems = append(rep.Problems, sp...)
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return rep, nil
}

type syntaxItem struct {
	Key     string `json:"key"`
	Source  string `json:"source"`
	IPython bool   `json:"ipython"`
}

type syntaxError struct {
	Key  string `json:"key"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"msg"`
}

// pyAnalysis is what pysyntax.py reports about the cells and modules.
type pyAnalysis struct {
	Errors        []syntaxError   `json:"errors"`
	Imports       []importFact    `json:"imports"`
	ExtraPackages []extraPackages `json:"extra_packages"`
	Stdlib        []string        `json:"stdlib"`

	problems []cellsrc.Problem                  // the syntax errors, located
	where    map[string]func(int) (string, int) // item key -> file:line of its line n
}

// checkSyntax compiles every code cell and module in one Python process
// (starting Python per cell would cost seconds on a 50-cell notebook), and
// collects what they import for checkImports.
func checkSyntax(ctx context.Context, python string, cells []cellsrc.Cell, srcDir string, mods []string) (pyAnalysis, error) {
	var items []syntaxItem
	where := map[string]func(line int) (string, int){}
	for i, c := range cells {
		if c.Kind != cellsrc.Code || c.Src != "" {
			continue
		}
		key := "cell:" + strconv.Itoa(i)
		c := c
		items = append(items, syntaxItem{Key: key, Source: c.Source, IPython: true})
		where[key] = func(line int) (string, int) { return c.File, c.BodyLine + line - 1 }
	}
	var probs []cellsrc.Problem
	for _, m := range mods {
		p := filepath.Join(srcDir, filepath.FromSlash(m))
		data, err := os.ReadFile(p)
		if err != nil {
			probs = append(probs, cellsrc.Problem{File: p, Message: err.Error()})
			continue
		}
		items = append(items, syntaxItem{Key: p, Source: string(data)})
		where[p] = func(line int) (string, int) { return p, line }
	}
	if len(items) == 0 {
		return pyAnalysis{problems: probs, where: where}, nil
	}
	in, err := json.Marshal(items)
	if err != nil {
		return pyAnalysis{}, err
	}
	// -I: ignore PYTHONPATH and the user site so only the venv decides.
	cmd := exec.CommandContext(ctx, python, "-I", "-c", pySyntaxScript)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return pyAnalysis{}, fmt.Errorf("python syntax check with %s: %w\n%s", python, err, strings.TrimSpace(stderr.String()))
	}
	var an pyAnalysis
	if err := json.Unmarshal(stdout.Bytes(), &an); err != nil {
		return pyAnalysis{}, fmt.Errorf("python syntax check with %s: unreadable answer %q: %w", python, stdout.String(), err)
	}
	for _, f := range an.Imports {
		if _, ok := where[f.Key]; !ok {
			return pyAnalysis{}, fmt.Errorf("python syntax check: unknown item %q", f.Key)
		}
	}
	for _, f := range an.ExtraPackages {
		if _, ok := where[f.Key]; !ok {
			return pyAnalysis{}, fmt.Errorf("python syntax check: unknown item %q", f.Key)
		}
	}
	for _, e := range an.Errors {
		loc, ok := where[e.Key]
		if !ok {
			return pyAnalysis{}, fmt.Errorf("python syntax check: unknown item %q", e.Key)
		}
		file, line := loc(e.Line)
		msg := e.Msg
		if e.Col > 0 {
			msg += fmt.Sprintf(" (column %d)", e.Col)
		}
		probs = append(probs, cellsrc.Problem{File: file, Line: line, Message: msg})
	}
	an.problems, an.where = probs, where
	return an, nil
}

// checkSrcCells enforces the one-to-one link between cells/src files and
// src= cells, so no module is left out of the notebook or written twice.
func checkSrcCells(cells []cellsrc.Cell, srcDir string, mods []string) []cellsrc.Problem {
	var probs []cellsrc.Problem
	have := map[string]bool{}
	for _, m := range mods {
		have[m] = true
	}
	first := map[string]cellsrc.Cell{}
	for _, c := range cells {
		if c.Src == "" {
			continue
		}
		if prev, dup := first[c.Src]; dup {
			probs = append(probs, cellsrc.Problem{File: c.File, Line: c.Line,
				Message: fmt.Sprintf("src=%q is already written by %s:%d; each module needs exactly one src= cell", c.Src, prev.File, prev.Line)})
			continue
		}
		first[c.Src] = c
		if !have[c.Src] {
			probs = append(probs, cellsrc.Problem{File: c.File, Line: c.Line,
				Message: fmt.Sprintf("src=%q: %s does not exist", c.Src, filepath.Join(srcDir, filepath.FromSlash(c.Src)))})
		}
	}
	for _, m := range mods {
		if _, ok := first[m]; !ok {
			probs = append(probs, cellsrc.Problem{File: filepath.Join(srcDir, filepath.FromSlash(m)),
				Message: fmt.Sprintf("module has no src=%q cell, so the notebook would not write it", m)})
		}
	}
	return probs
}

type heading struct {
	text string
	cell int // index into the flat cell list
	file string
	line int
}

func headingsOf(cells []cellsrc.Cell) []heading {
	var hs []heading
	for i, c := range cells {
		if c.Kind != cellsrc.Markdown {
			continue
		}
		inFence := false
		for j, ln := range strings.Split(c.Source, "\n") {
			if strings.HasPrefix(strings.TrimSpace(ln), "```") {
				inFence = !inFence
				continue
			}
			if inFence {
				continue
			}
			if t := notebook.Headings(ln); len(t) == 1 {
				hs = append(hs, heading{text: t[0], cell: i, file: c.File, line: c.BodyLine + j})
			}
		}
	}
	return hs
}

var (
	quickStartRE = regexp.MustCompile(`(?i)\bquick\s*start\b`)
	installRE    = regexp.MustCompile(`(?i)\binstall`)
	optionARE    = regexp.MustCompile(`(?i)\boption\s+a\b`)
	optionBRE    = regexp.MustCompile(`(?i)\boption\s+b\b`)
	stepRE       = regexp.MustCompile(`^Step\s+(\d+)\s*(?:—|–|-|:)\s*\S`)
	finalRE      = regexp.MustCompile(`(?i)\b(delivery|final)\b`)
	// The mount point is '/content/drive' as the spec writes it, or a DRIVE_MOUNT parameter
	// whose default is '/content/drive' (so a run outside Colab can point it elsewhere).
	driveMountRE  = regexp.MustCompile(`drive\.mount\(\s*(?:['"]/content/drive['"]|(DRIVE_MOUNT))\s*,\s*force_remount\s*=\s*True\s*\)`)
	srcDirRE      = regexp.MustCompile(`(?m)^\s*SRC_DIR\s*=[^=]`)
	projectRootRE = regexp.MustCompile(`(?m)^\s*PROJECT_ROOT\s*=\s*(?:['"]/content/drive/MyDrive/product_categorization_project['"]|f['"]\{DRIVE_MOUNT\}/MyDrive/product_categorization_project['"])`)
	driveParamRE  = regexp.MustCompile(`(?m)^DRIVE_MOUNT\s*=\s*['"]/content/drive['"]`)
)

func checkStructure(dir string, cells []cellsrc.Cell) []cellsrc.Problem {
	st := &structure{dir: dir, cells: cells, hs: headingsOf(cells)}
	st.checkOpening()
	params := st.tagged(notebook.TagParameters)
	st.checkDriveMount(params)
	st.checkParameters(params)
	st.checkQuickstartTags(params)
	st.checkSrcDir()
	st.checkSections()
	st.checkSteps()
	return st.probs
}

// structure holds what checkStructure's rules share: the cells, their
// headings, and the problems found so far.
type structure struct {
	dir   string
	cells []cellsrc.Cell
	hs    []heading
	probs []cellsrc.Problem
}

func (st *structure) at(c cellsrc.Cell, format string, args ...any) {
	st.probs = append(st.probs, cellsrc.Problem{File: c.File, Line: c.Line, Message: fmt.Sprintf(format, args...)})
}

func (st *structure) atH(h heading, format string, args ...any) {
	st.probs = append(st.probs, cellsrc.Problem{File: h.file, Line: h.line, Message: fmt.Sprintf(format, args...)})
}

// missing is a problem of the whole notebook: what is absent has no line.
func (st *structure) missing(format string, args ...any) {
	st.probs = append(st.probs, cellsrc.Problem{File: st.dir, Message: fmt.Sprintf(format, args...)})
}

func (st *structure) find(re *regexp.Regexp) (heading, bool) {
	for _, h := range st.hs {
		if re.MatchString(h.text) {
			return h, true
		}
	}
	return heading{}, false
}

func (st *structure) codeBetween(from, to int) bool {
	for i := from + 1; i < to && i < len(st.cells); i++ {
		if st.cells[i].Kind == cellsrc.Code {
			return true
		}
	}
	return false
}

// checkOpening: an intro markdown cell first, and the Quick Start near the top.
func (st *structure) checkOpening() {
	if st.cells[0].Kind != cellsrc.Markdown {
		st.at(st.cells[0], "the notebook must open with an intro markdown cell (purpose, GPU runtime, Kaggle sign-in)")
	}
	if h, ok := st.find(quickStartRE); !ok {
		st.missing("no \"Quick Start\" markdown heading: add one within the first %d cells", QuickStartWithin)
	} else if h.cell >= QuickStartWithin {
		st.atH(h, "the \"Quick Start\" heading is cell %d; it must be within the first %d cells", h.cell, QuickStartWithin)
	}
}

func (st *structure) tagged(tag string) []cellsrc.Cell {
	var out []cellsrc.Cell
	for _, c := range st.cells {
		if c.HasTag(tag) {
			out = append(out, c)
		}
	}
	return out
}

// checkParameters: exactly one code cell tagged "parameters".
func (st *structure) checkParameters(params []cellsrc.Cell) {
	if len(params) == 0 {
		st.missing("no cell tagged %q: exactly one code cell must carry it (papermill injects values after it)", notebook.TagParameters)
	}
	for i, c := range params {
		if c.Kind != cellsrc.Code {
			st.at(c, "the %q tag belongs on a code cell", notebook.TagParameters)
		}
		if i > 0 {
			st.at(c, "second cell tagged %q (the first is %s:%d); exactly one is allowed", notebook.TagParameters, params[0].File, params[0].Line)
		}
	}
}

// checkDriveMount: one code cell mounts Drive and sets PROJECT_ROOT under it.
func (st *structure) checkDriveMount(params []cellsrc.Cell) {
	for _, c := range st.cells {
		if c.Kind != cellsrc.Code || !projectRootRE.MatchString(c.Source) {
			continue
		}
		if m := driveMountRE.FindStringSubmatch(c.Source); m != nil {
			if m[1] != "" && (len(params) == 0 || !driveParamRE.MatchString(params[0].Source)) {
				st.at(c, "drive.mount(DRIVE_MOUNT, ...) needs DRIVE_MOUNT = \"/content/drive\" in the parameters cell")
			}
			return
		}
	}
	st.missing("no code cell with both drive.mount('/content/drive', force_remount=True) and PROJECT_ROOT = \"/content/drive/MyDrive/product_categorization_project\" (or drive.mount(DRIVE_MOUNT, force_remount=True) and PROJECT_ROOT = f\"{DRIVE_MOUNT}/MyDrive/product_categorization_project\")")
}

// checkQuickstartTags: Quick Start runs only the tagged cells, so it needs some,
// and the parameter defaults among them.
func (st *structure) checkQuickstartTags(params []cellsrc.Cell) {
	if len(st.tagged(notebook.TagQuickstart)) == 0 {
		st.missing("no cell tagged %q: `run --mode quickstart` would run nothing", notebook.TagQuickstart)
	} else if len(params) > 0 && !params[0].HasTag(notebook.TagQuickstart) {
		st.at(params[0], "the %q cell must also be tagged %q: the Quick Start needs its defaults", notebook.TagParameters, notebook.TagQuickstart)
	}
}

// checkSrcDir: every src= cell's %%writefile {SRC_DIR} needs SRC_DIR assigned by an
// earlier code cell, and a Quick Start one by an earlier Quick Start cell.
func (st *structure) checkSrcDir() {
	srcDefined, srcDefinedQuick := false, false
	for _, c := range st.cells {
		if c.Kind != cellsrc.Code {
			continue
		}
		if c.Src != "" {
			if !srcDefined {
				st.at(c, "src=%q cell comes before any code cell assigns SRC_DIR, so {SRC_DIR} would not expand", c.Src)
			} else if c.HasTag(notebook.TagQuickstart) && !srcDefinedQuick {
				st.at(c, "src=%q is tagged %q but no earlier %q cell assigns SRC_DIR", c.Src, notebook.TagQuickstart, notebook.TagQuickstart)
			}
			continue
		}
		if srcDirRE.MatchString(c.Source) {
			srcDefined = true
			srcDefinedQuick = srcDefinedQuick || c.HasTag(notebook.TagQuickstart)
		}
	}
}

// checkSections: the install and dataset sections the spec asks for.
func (st *structure) checkSections() {
	for _, req := range []struct {
		re   *regexp.Regexp
		what string
	}{
		{installRE, "an install section: a markdown heading containing \"Install\""},
		{optionARE, "the dataset upload section: a markdown heading containing \"Option A\""},
		{optionBRE, "the Kaggle download section: a markdown heading containing \"Option B\""},
	} {
		if _, ok := st.find(req.re); !ok {
			st.missing("missing %s", req.what)
		}
	}
}

// checkSteps: Steps 1..12 in order, each followed by code before the next
// section, then a final delivery section with code.
func (st *structure) checkSteps() {
	steps, seen := st.stepHeadings()
	for n := 1; n <= Steps; n++ {
		if seen[n].file == "" {
			st.missing("missing markdown heading \"## Step %d — ...\"", n)
		}
	}
	final, finalOK := st.finalSection(seen)
	for i, h := range steps {
		end := len(st.cells)
		if i+1 < len(steps) {
			end = steps[i+1].cell
		} else if finalOK {
			end = final.cell
		}
		if !st.codeBetween(h.cell, end) {
			st.atH(h, "section %q has no code cell before the next section", h.text)
		}
	}
}

// stepHeadings returns the step headings in notebook order (duplicates and
// numbers outside 1..Steps reported and left out) and the first heading of
// each step number.
func (st *structure) stepHeadings() ([]heading, map[int]heading) {
	var steps []heading
	seen := map[int]heading{}
	present := map[int]bool{}
	for _, h := range st.hs {
		if m := stepRE.FindStringSubmatch(h.text); m != nil {
			n, _ := strconv.Atoi(m[1])
			present[n] = true
		}
	}
	// A gap of steps that appear nowhere is reported once as "missing";
	// "comes after" is only for steps that exist but are out of place.
	outOfPlace := func(n, last int) bool {
		if n < last {
			return true
		}
		for k := last + 1; k < n; k++ {
			if present[k] {
				return true
			}
		}
		return false
	}
	last := 0
	for _, h := range st.hs {
		m := stepRE.FindStringSubmatch(h.text)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		switch {
		case n < 1 || n > Steps:
			st.atH(h, "\"Step %d\" is outside Step 1..%d", n, Steps)
			continue
		case seen[n].file != "":
			st.atH(h, "\"Step %d\" heading appears twice (first at %s:%d)", n, seen[n].file, seen[n].line)
			continue
		case n != last+1 && outOfPlace(n, last):
			st.atH(h, "\"Step %d\" comes after \"Step %d\"; steps must appear in order 1..%d", n, last, Steps)
		}
		seen[n] = h
		last = n
		steps = append(steps, h)
	}
	return steps, seen
}

// finalSection finds the delivery section after the last step, reporting it
// when it is absent or has no code.
func (st *structure) finalSection(seen map[int]heading) (heading, bool) {
	s12, ok := seen[Steps]
	if !ok || s12.file == "" {
		return heading{}, false
	}
	for _, h := range st.hs {
		if h.cell > s12.cell && finalRE.MatchString(h.text) {
			if !st.codeBetween(h.cell, len(st.cells)) {
				st.atH(h, "the final section %q has no code cell after it", h.text)
			}
			return h, true
		}
	}
	st.atH(s12, "no final delivery section after Step %d: add a markdown heading containing \"Delivery\" or \"Final\" followed by a code cell", Steps)
	return heading{}, false
}

// checkSchema builds the notebook in memory and runs the nbformat check, so a
// builder bug shows up here rather than in Colab.
func checkSchema(dir string, files []cellsrc.File) ([]cellsrc.Problem, error) {
	nb, probs := notebook.FromFiles(dir, files)
	if len(probs) > 0 {
		return probs, nil
	}
	data, err := nb.Marshal()
	if err != nil {
		return nil, err
	}
	issues, err := schema.Check(data)
	if err != nil {
		return nil, err
	}
	for _, is := range issues {
		p := cellsrc.Problem{File: filepath.Join(dir, notebook.FileName), Message: "built notebook: " + is.String()}
		if is.Cell >= 0 && is.Cell < len(nb.Cells) {
			o := nb.Cells[is.Cell].Origin
			p.File, p.Line = o.File, o.Line
		}
		probs = append(probs, p)
	}
	return probs, nil
}
