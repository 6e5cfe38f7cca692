// Package notebook turns the cells/ directory into the Colab notebook
// (nbformat 4.5) and writes it the way Jupyter itself would, so that a
// re-save in Jupyter or Colab produces no diff.
package notebook

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
)

// FileName is the name of the built notebook inside the output directory.
const FileName = "product_categorization_colab.ipynb"

// Tags with a meaning to the tool (see docs/design.md).
const (
	TagParameters = "parameters"
	TagQuickstart = "quickstart"
	TagInjected   = "injected-parameters"
)

// Cell is one notebook cell plus where it came from.
type Cell struct {
	ID       string
	Kind     cellsrc.Kind
	Source   string
	Tags     []string
	Metadata map[string]any // extra header metadata from the cell file
	Origin   Origin
}

// HasTag reports whether the cell carries tag.
func (c Cell) HasTag(tag string) bool { return slices.Contains(c.Tags, tag) }

// Origin maps a cell back to the file it was built from.
type Origin struct {
	File     string // cell file, e.g. cells/08_step02_eda.py; "" for generated cells
	Line     int    // line of the cell's "# %%" header
	BodyLine int    // file line of the cell's first source line
	Module   string // for src= cells: cells/src/... path whose bytes follow the %%writefile line
	Section  string // nearest markdown heading at or above the cell
}

// Pos returns the source file and line of line n (1-based) of the cell's
// source, so errors reported by Python can point at the line to edit.
func (o Origin) Pos(n int) (string, int) {
	if o.File == "" {
		return "", 0
	}
	if o.Module != "" {
		if n <= 1 {
			return o.File, o.Line
		}
		return o.Module, n - 1
	}
	if n < 1 {
		n = 1
	}
	return o.File, o.BodyLine + n - 1
}

// String is "file:line" of the cell's first line, or "" for generated cells.
func (o Origin) String() string {
	if o.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", o.File, o.BodyLine)
}

// Notebook is the in-memory notebook.
type Notebook struct {
	Cells    []Cell
	Metadata map[string]any
}

// ColabMetadata is the notebook-level metadata Colab expects for a GPU notebook.
func ColabMetadata() map[string]any {
	return map[string]any{
		"accelerator": "GPU",
		"colab": map[string]any{
			"gpuType":     "T4",
			"name":        FileName,
			"provenance":  []any{},
			"toc_visible": true,
		},
		"kernelspec": map[string]any{
			"display_name": "Python 3",
			"name":         "python3",
		},
		"language_info": map[string]any{
			"name": "python",
		},
	}
}

// Marshal renders the notebook as nbformat 4.5 JSON in Jupyter's own layout.
func (nb *Notebook) Marshal() ([]byte, error) {
	cells := make([]any, len(nb.Cells))
	for i, c := range nb.Cells {
		md := map[string]any{}
		for k, v := range c.Metadata {
			md[k] = v
		}
		if len(c.Tags) > 0 {
			md["tags"] = append([]string(nil), c.Tags...)
		}
		m := map[string]any{
			"cell_type": string(c.Kind),
			"id":        c.ID,
			"metadata":  md,
			"source":    splitLines(c.Source),
		}
		if c.Kind == cellsrc.Code {
			m["execution_count"] = nil
			m["outputs"] = []any{}
		}
		cells[i] = m
	}
	md := nb.Metadata
	if md == nil {
		md = ColabMetadata()
	}
	return marshalJupyter(map[string]any{
		"cells":          cells,
		"metadata":       md,
		"nbformat":       4,
		"nbformat_minor": 5,
	})
}

// CellByID returns the cell with the given id.
func (nb *Notebook) CellByID(id string) (Cell, bool) {
	for _, c := range nb.Cells {
		if c.ID == id {
			return c, true
		}
	}
	return Cell{}, false
}

var headingRE = regexp.MustCompile(`^#{1,6}\s+(.*\S)\s*$`)

// Headings returns the markdown heading texts of a markdown source, "#"s removed.
func Headings(markdown string) []string {
	var hs []string
	inFence := false
	for _, ln := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(ln), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if m := headingRE.FindStringSubmatch(ln); m != nil {
			hs = append(hs, strings.TrimRight(m[1], "# "))
		}
	}
	return hs
}

// CellID derives a stable id from the file name (without its NN_ order, so
// renumbering files keeps ids) and the cell's position inside that file: ids
// change only when that file changes.
func CellID(fileName string, index int) string {
	suffix := fmt.Sprintf("-%d", index)
	max := 64 - len(suffix)
	if len(fileName) > max {
		fileName = fileName[:max]
	}
	return fileName + suffix
}

// Assemble parses cellsDir and builds the notebook in memory. Problems that
// stop the notebook from being built (parse errors, src= modules that don't
// exist or aren't UTF-8) are returned; structure rules are validate's job.
func Assemble(cellsDir string) (*Notebook, []cellsrc.Problem) {
	files, probs := cellsrc.ParseDir(cellsDir)
	if len(probs) > 0 {
		return nil, probs
	}
	return FromFiles(cellsDir, files)
}

// FromFiles builds the notebook from already parsed cell files; cellsDir
// locates the src/ modules that src= cells expand to.
func FromFiles(cellsDir string, files []cellsrc.File) (*Notebook, []cellsrc.Problem) {
	var probs []cellsrc.Problem
	srcDir := filepath.Join(cellsDir, "src")
	nb := &Notebook{Metadata: ColabMetadata()}
	section, sectionTop := "", false
	for _, f := range files {
		for _, c := range f.Cells {
			cell := Cell{
				ID:       CellID(f.Name, c.Index),
				Kind:     c.Kind,
				Source:   c.Source,
				Tags:     c.Tags,
				Metadata: c.Metadata,
				Origin:   Origin{File: c.File, Line: c.Line, BodyLine: c.BodyLine},
			}
			if c.Kind == cellsrc.Markdown {
				// A failure is best located by its "## Step N — ..." section,
				// not by a "### Toggles" sub-heading inside it.
				inFence := false
				for _, ln := range strings.Split(c.Source, "\n") {
					if strings.HasPrefix(strings.TrimSpace(ln), "```") {
						inFence = !inFence
					}
					if inFence {
						continue
					}
					hs := Headings(ln)
					if len(hs) == 0 {
						continue
					}
					if strings.HasPrefix(ln, "###") && sectionTop {
						continue
					}
					section, sectionTop = hs[0], !strings.HasPrefix(ln, "###")
				}
			}
			cell.Origin.Section = section
			if c.Src != "" {
				modPath := filepath.Join(srcDir, filepath.FromSlash(c.Src))
				data, err := os.ReadFile(modPath)
				if err != nil {
					msg := fmt.Sprintf("src=%q: cannot read %s: %v", c.Src, modPath, err)
					if os.IsNotExist(err) {
						msg = fmt.Sprintf("src=%q: module %s does not exist", c.Src, modPath)
					}
					probs = append(probs, cellsrc.Problem{File: c.File, Line: c.Line, Message: msg})
					continue
				}
				if !utf8.Valid(data) {
					probs = append(probs, cellsrc.Problem{File: modPath, Message: "not valid UTF-8; a notebook can only hold UTF-8 text"})
					continue
				}
				// IPython expands {SRC_DIR} in cell-magic lines, so the path
				// follows wherever the setup cell put PROJECT_ROOT/src.
				cell.Source = fmt.Sprintf("%%%%writefile \"{SRC_DIR}/%s\"\n", c.Src) + string(data)
				cell.Origin.Module = modPath
			}
			nb.Cells = append(nb.Cells, cell)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return nb, nil
}

// Result describes what Build wrote.
type Result struct {
	NotebookPath string    // OUT/product_categorization_colab.ipynb
	SrcDir       string    // OUT/src
	Modules      []string  // cells/src-relative module paths copied to SrcDir
	Notebook     *Notebook // the built notebook, with cell origins
}

// Build assembles cellsDir and writes OUT/product_categorization_colab.ipynb
// and OUT/src/** (byte copies of cellsDir/src/**). When the cells cannot be
// built the error is a cellsrc.Problems listing every file:line problem.
func Build(cellsDir, outDir string) (Result, error) {
	nb, probs := Assemble(cellsDir)
	if len(probs) > 0 {
		return Result{}, cellsrc.Problems(probs)
	}
	data, err := nb.Marshal()
	if err != nil {
		return Result{}, err
	}
	srcDir := filepath.Join(cellsDir, "src")
	mods, err := cellsrc.ListModules(srcDir)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		NotebookPath: filepath.Join(outDir, FileName),
		SrcDir:       filepath.Join(outDir, "src"),
		Modules:      mods,
		Notebook:     nb,
	}
	if overlaps(res.SrcDir, srcDir) {
		// OUT/src is wiped below; it must never be (or hold) the sources.
		return Result{}, fmt.Errorf("build: output %s overlaps the sources in %s; choose another --out", res.SrcDir, srcDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Result{}, fmt.Errorf("build: %w", err)
	}
	// Start OUT/src from scratch so a module deleted from cells/src doesn't
	// linger in the output.
	if err := os.RemoveAll(res.SrcDir); err != nil {
		return Result{}, fmt.Errorf("build: clear %s: %w", res.SrcDir, err)
	}
	for _, m := range mods {
		b, err := os.ReadFile(filepath.Join(srcDir, filepath.FromSlash(m)))
		if err != nil {
			return Result{}, fmt.Errorf("build: %w", err)
		}
		dst := filepath.Join(res.SrcDir, filepath.FromSlash(m))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return Result{}, fmt.Errorf("build: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return Result{}, fmt.Errorf("build: %w", err)
		}
	}
	if err := WriteFileAtomic(res.NotebookPath, data); err != nil {
		return Result{}, fmt.Errorf("build: %w", err)
	}
	return res, nil
}

func overlaps(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	if errA != nil || errB != nil {
		return true
	}
	sep := string(filepath.Separator)
	return a == b || strings.HasPrefix(a, b+sep) || strings.HasPrefix(b, a+sep)
}

// WriteFileAtomic writes via a temporary file and a rename, so a reader never
// sees half a notebook.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Param is one injected parameter. Value must be a string, bool, int or
// float64: anything a JSON literal can spell, which Python reads the same.
type Param struct {
	Name  string
	Value any
}

// InjectParameters inserts, papermill style, a code cell tagged
// "injected-parameters" right after the cell tagged "parameters" (at the top
// when there is none) that assigns the given values.
func InjectParameters(nb *Notebook, params []Param) error {
	var b strings.Builder
	b.WriteString("# Parameters")
	for _, p := range params {
		if !ValidParamName(p.Name) {
			return fmt.Errorf("parameter name %q is not a Python identifier", p.Name)
		}
		lit, err := pyLiteral(p.Value)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		fmt.Fprintf(&b, "\n%s = %s", p.Name, lit)
	}
	pos, section := 0, ""
	for i, c := range nb.Cells {
		if c.HasTag(TagParameters) {
			pos, section = i+1, c.Origin.Section
			break
		}
	}
	cell := Cell{
		ID:     TagInjected,
		Kind:   cellsrc.Code,
		Source: b.String(),
		Tags:   []string{TagInjected},
		Origin: Origin{Section: section},
	}
	nb.Cells = append(nb.Cells, Cell{})
	copy(nb.Cells[pos+1:], nb.Cells[pos:])
	nb.Cells[pos] = cell
	return nil
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pyLiteral spells v as a Python literal. JSON strings and numbers are valid
// Python literals; booleans and None are not, so those are spelled out.
func pyLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case string, int, int64, float64:
		b, err := json.Marshal(x)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

// ValidParamName reports whether name is a Python identifier.
func ValidParamName(name string) bool { return identRE.MatchString(name) }

// Subset returns a copy of nb keeping the cells for which keep is true.
func Subset(nb *Notebook, keep func(Cell) bool) *Notebook {
	out := &Notebook{Metadata: nb.Metadata}
	for _, c := range nb.Cells {
		if keep(c) {
			out.Cells = append(out.Cells, c)
		}
	}
	return out
}

// Quickstart is the Quick Start subset: cells tagged "quickstart" plus the
// injected parameters cell.
func Quickstart(nb *Notebook) *Notebook {
	return Subset(nb, func(c Cell) bool { return c.HasTag(TagQuickstart) || c.HasTag(TagInjected) })
}
