// Package cellsrc reads the notebook's source of truth: the cells/NN_name.py
// "percent" files described in docs/design.md, and the cells/src modules.
//
// Every parse problem is reported as a Problem carrying the file and line, so
// that `validate` can point a reviewer (or a GitHub annotation) at the exact
// line to fix.
package cellsrc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with the cell sources. Line is 1-based; 0 means
// the problem concerns the whole file (or directory).
type Problem struct {
	File    string
	Line    int
	Message string
}

func (p Problem) String() string {
	switch {
	case p.File == "":
		return p.Message
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	default:
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
}

// Problems lets a list of problems travel as an error (see notebook.Build).
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Kind is a cell type.
type Kind string

const (
	Markdown Kind = "markdown"
	Code     Kind = "code"
)

// Cell is one `# %%` cell of a cell file.
type Cell struct {
	Kind Kind
	// Source is the cell text: leading/trailing blank lines dropped, and for
	// markdown cells the "# " prefix stripped. Never ends with "\n".
	Source string
	Tags   []string
	// Src is the cells/src-relative module path of a `src="..."` cell.
	Src string
	// Metadata holds header keys other than tags and src, as decoded JSON.
	Metadata map[string]any
	File     string // path of the cell file, as joined from the cells dir
	Line     int    // line of the `# %%` header
	// BodyLine is the file line holding the first line of Source (the header
	// line when the body is empty), used to map cell line numbers back.
	BodyLine int
	Index    int // position of the cell within its file, from 0
}

// HasTag reports whether the cell carries tag.
func (c Cell) HasTag(tag string) bool { return slices.Contains(c.Tags, tag) }

// File is one parsed cell file.
type File struct {
	Path  string // cells dir joined with the file name
	Order int    // the NN prefix
	Name  string // the part between "NN_" and ".py"
	Cells []Cell
}

var fileNameRE = regexp.MustCompile(`^([0-9]{2,3})_([A-Za-z0-9_-]+)\.py$`)

var headerKeyRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]*)=`)

// ParseDir parses every NN_name.py file directly inside dir, in NN order.
// Python files not named NN_name.py are problems, because their place in
// the notebook would be a guess.
func ParseDir(dir string) ([]File, []Problem) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, []Problem{{File: dir, Message: "cells directory not found (expected " + filepath.Join(dir, "NN_name.py") + " files)"}}
		}
		return nil, []Problem{{File: dir, Message: err.Error()}}
	}
	var files []File
	var probs []Problem
	byOrder := map[int]string{}
	byName := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".py") {
			continue
		}
		p := filepath.Join(dir, name)
		m := fileNameRE.FindStringSubmatch(name)
		if m == nil {
			probs = append(probs, Problem{File: p, Message: "unknown section order: cell files must be named NN_name.py (two-digit order, then letters, digits, _ or -)"})
			continue
		}
		order, _ := strconv.Atoi(m[1])
		if prev, ok := byOrder[order]; ok {
			probs = append(probs, Problem{File: p, Message: fmt.Sprintf("section order %s is already used by %s; each NN must be unique", m[1], prev)})
			continue
		}
		byOrder[order] = p
		// Cell ids derive from the name, so two files with the same name
		// would produce the same ids.
		if prev, ok := byName[m[2]]; ok {
			probs = append(probs, Problem{File: p, Message: fmt.Sprintf("name %q is already used by %s; cell ids derive from it, so it must be unique", m[2], prev)})
			continue
		}
		byName[m[2]] = p
		data, err := os.ReadFile(p)
		if err != nil {
			probs = append(probs, Problem{File: p, Message: err.Error()})
			continue
		}
		f, fp := ParseFile(p, data)
		f.Order, f.Name = order, m[2]
		files = append(files, f)
		probs = append(probs, fp...)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Order < files[j].Order })
	if len(files) == 0 && len(probs) == 0 {
		probs = append(probs, Problem{File: dir, Message: "no cell files: expected " + filepath.Join(dir, "NN_name.py") + " files (see docs/design.md)"})
	}
	sortProblems(probs)
	return files, probs
}

// addFunc records a problem at a line of the file being parsed (0: the whole file).
type addFunc func(line int, format string, args ...any)

// rawCell is a cell as read from its header and the lines up to the next one.
type rawCell struct {
	cell  Cell
	lines []string
	first int // file line of lines[0]
}

// ParseFile parses one cell file. path is only used in problems and Cell.File.
func ParseFile(path string, data []byte) (File, []Problem) {
	f := File{Path: path}
	var probs []Problem
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: path, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if bytes.Contains(data, []byte("\r")) {
		add(0, "carriage return found: use LF line endings")
		return f, probs
	}
	raws := splitCells(path, fileLines(data), add)
	if len(raws) == 0 && len(probs) == 0 {
		add(0, "no cells: a cell file needs at least one \"# %%%%\" line")
	}
	for _, r := range raws {
		if r.cell.Kind != "" {
			f.Cells = append(f.Cells, finishCell(r, add))
		}
	}
	for i := range f.Cells {
		f.Cells[i].Index = i
	}
	return f, probs
}

// fileLines splits a file's text into lines, without the final newline's empty line.
func fileLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// splitCells cuts the lines at each "# %%" header. A cell whose header is wrong still
// takes its body (so its lines are not read as another cell's) but has an empty Kind.
func splitCells(path string, lines []string, add addFunc) []*rawCell {
	var cur *rawCell
	var raws []*rawCell
	for i, ln := range lines {
		lineNo := i + 1
		if strings.HasPrefix(ln, "# %%") {
			c, ok := parseHeader(ln, lineNo, add)
			c.File, c.Line, c.Index = path, lineNo, len(raws)
			if !ok {
				c.Kind = ""
			}
			cur = &rawCell{cell: c, first: lineNo + 1}
			raws = append(raws, cur)
			continue
		}
		if cur == nil {
			if strings.TrimSpace(ln) != "" {
				add(lineNo, "text before the first \"# %%%%\" cell marker")
			}
			continue
		}
		cur.lines = append(cur.lines, ln)
	}
	return raws
}

// finishCell makes a cell's Source from its body: leading/trailing blank lines
// dropped (BodyLine says where it starts), markdown's "# " prefixes stripped.
func finishCell(r *rawCell, add addFunc) Cell {
	start, end := 0, len(r.lines)
	for start < end && strings.TrimSpace(r.lines[start]) == "" {
		start++
	}
	for end > start && strings.TrimSpace(r.lines[end-1]) == "" {
		end--
	}
	body := r.lines[start:end]
	c := r.cell
	c.BodyLine = c.Line
	if len(body) > 0 {
		c.BodyLine = r.first + start
	}
	if c.Kind == Markdown {
		c.Source = markdownSource(body, c.BodyLine, add)
		if len(body) == 0 {
			add(c.Line, "empty markdown cell")
		}
		return c
	}
	c.Source = strings.Join(body, "\n")
	if c.Src != "" && len(body) > 0 {
		add(c.BodyLine, "a src=%q cell must have an empty body: the builder fills it from cells/src/%s", c.Src, c.Src)
	}
	return c
}

// markdownSource strips the "# " of each markdown line (a bare "#" is an empty line).
func markdownSource(body []string, bodyLine int, add addFunc) string {
	out := make([]string, len(body))
	for j, ln := range body {
		switch {
		case ln == "#":
			out[j] = ""
		case strings.HasPrefix(ln, "# "):
			out[j] = ln[2:]
		default:
			add(bodyLine+j, "markdown cell line must start with \"# \" or be exactly \"#\"")
		}
	}
	return strings.Join(out, "\n")
}

// parseHeader reads `# %% [markdown] key=json key=json`.
func parseHeader(ln string, lineNo int, add addFunc) (Cell, bool) {
	c := Cell{Kind: Code}
	rest, ok := parseMarker(&c, ln, lineNo, add)
	if !ok {
		return c, false
	}
	seen := map[string]bool{}
	for rest != "" {
		key, v, next, read := nextMetadata(rest, lineNo, add)
		if !read {
			return c, false
		}
		rest = next
		if seen[key] {
			add(lineNo, "metadata key %s given twice", key)
			ok = false
			continue
		}
		seen[key] = true
		if !setMetadata(&c, key, v, lineNo, add) {
			ok = false
		}
	}
	if c.Kind == Markdown && c.Src != "" {
		add(lineNo, "src= is only allowed on code cells")
		ok = false
	}
	return c, ok
}

// parseMarker reads "# %%" and an optional [markdown] (setting c.Kind); rest is the
// metadata text after them.
func parseMarker(c *Cell, ln string, lineNo int, add addFunc) (rest string, ok bool) {
	rest = strings.TrimPrefix(ln, "# %%")
	if rest != "" && rest[0] != ' ' {
		add(lineNo, "cell marker must be \"# %%%%\" followed by a space or the end of the line")
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "[") {
		return rest, true
	}
	end := strings.Index(rest, "]")
	if end < 0 {
		add(lineNo, "unclosed \"[\" in cell marker")
		return "", false
	}
	kind := rest[1:end]
	if kind != "markdown" {
		add(lineNo, "unknown cell type [%s]: only [markdown] (or nothing, for code) is allowed", kind)
		return "", false
	}
	c.Kind = Markdown
	return strings.TrimSpace(rest[end+1:]), true
}

// nextMetadata reads the key=JSON at the start of rest; next is the text after it.
func nextMetadata(rest string, lineNo int, add addFunc) (key string, v any, next string, ok bool) {
	m := headerKeyRE.FindStringSubmatch(rest)
	if m == nil {
		add(lineNo, "cannot read cell metadata %q: expected key=JSON (e.g. tags=[\"quickstart\"])", rest)
		return "", nil, "", false
	}
	key = m[1]
	valText := rest[len(m[0]):]
	dec := json.NewDecoder(strings.NewReader(valText))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		add(lineNo, "metadata %s: value is not valid JSON: %v", key, err)
		return key, nil, "", false
	}
	next = valText[int(dec.InputOffset()):]
	if next != "" && next[0] != ' ' {
		add(lineNo, "metadata %s: expected a space after the JSON value", key)
		return key, nil, "", false
	}
	return key, v, strings.TrimSpace(next), true
}

// setMetadata puts one header value on c: tags and src are checked, other keys kept as
// Metadata. It reports false when the value is wrong.
func setMetadata(c *Cell, key string, v any, lineNo int, add addFunc) bool {
	switch key {
	case "tags":
		return setTags(c, v, lineNo, add)
	case "src":
		s, isStr := v.(string)
		if !isStr {
			add(lineNo, "src must be a JSON string, e.g. src=\"preprocess.py\"")
			return false
		}
		if msg := checkSrcPath(s); msg != "" {
			add(lineNo, "src=%q: %s", s, msg)
			return false
		}
		c.Src = s
	default:
		if c.Metadata == nil {
			c.Metadata = map[string]any{}
		}
		c.Metadata[key] = v
	}
	return true
}

// setTags appends a tags= list to c.Tags, up to its first entry that is not a non-empty string.
func setTags(c *Cell, v any, lineNo int, add addFunc) bool {
	arr, isArr := v.([]any)
	if !isArr {
		add(lineNo, "tags must be a JSON list of strings, e.g. tags=[\"quickstart\"]")
		return false
	}
	for _, t := range arr {
		s, isStr := t.(string)
		if !isStr || s == "" {
			add(lineNo, "tags must be a JSON list of non-empty strings")
			return false
		}
		c.Tags = append(c.Tags, s)
	}
	return true
}

func checkSrcPath(s string) string {
	switch {
	case s == "":
		return "empty path"
	case strings.HasPrefix(s, "/") || strings.Contains(s, "\\"):
		return "must be a relative path with forward slashes, inside cells/src"
	case path.Clean(s) != s || strings.HasPrefix(s, "../") || s == "..":
		return "must be a clean path inside cells/src (no \"..\", \"./\" or \"//\")"
	case !strings.HasSuffix(s, ".py"):
		return "must name a .py module"
	case strings.ContainsAny(s, "\"'{}$\n "):
		// IPython expands {x} and $x in the %%writefile line.
		return "must not contain quotes, braces, $ or spaces"
	}
	return ""
}

// ListModules returns the .py files under srcDir (recursively) as sorted,
// slash-separated paths relative to srcDir. A missing srcDir means no modules.
func ListModules(srcDir string) ([]string, error) {
	var mods []string
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == srcDir && os.IsNotExist(err) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".py") {
			return nil
		}
		rel, err := filepath.Rel(srcDir, p)
		if err != nil {
			return err
		}
		mods = append(mods, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list modules in %s: %w", srcDir, err)
	}
	sort.Strings(mods)
	return mods, nil
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}
