// Package schema checks a notebook against the nbformat 4.5 JSON schema (the
// same file Jupyter validates with) plus the rule the schema cannot express:
// unique cell ids. Errors come out in plain words ("cell 3: missing id"),
// not as the oneOf dumps a JSON-schema validator produces.
package schema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"

	schemafiles "github.com/prodcat/colab-notebook-action/schema"
)

// Issue is one reason the notebook is invalid. Cell is the 0-based cell index,
// or -1 for the notebook as a whole.
type Issue struct {
	Cell    int
	Message string
}

func (i Issue) String() string { return i.Format("") }

// Format renders the issue, naming the cell's source (e.g.
// "cells/08_step02_eda.py:12") when origin is not empty.
func (i Issue) Format(origin string) string {
	if i.Cell < 0 {
		return i.Message
	}
	if origin != "" {
		return fmt.Sprintf("cell %d (%s): %s", i.Cell, origin, i.Message)
	}
	return fmt.Sprintf("cell %d: %s", i.Cell, i.Message)
}

type compiled struct {
	full  *gojsonschema.Schema
	cells map[string]*gojsonschema.Schema // cell_type -> schema of that cell kind
}

var (
	once     sync.Once
	schemas  compiled
	buildErr error
)

func load() (compiled, error) {
	once.Do(func() {
		full, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schemafiles.NBFormatV45))
		if err != nil {
			buildErr = fmt.Errorf("compile nbformat schema: %w", err)
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(schemafiles.NBFormatV45, &doc); err != nil {
			buildErr = fmt.Errorf("read nbformat schema: %w", err)
			return
		}
		// A cell is a oneOf(raw, markdown, code, unrecognized); the validator
		// then reports the errors of whichever branch scored best, which is
		// often not the cell's own type. Checking a bad cell against the
		// schema of its declared cell_type gives errors that make sense.
		cells := map[string]*gojsonschema.Schema{}
		for _, kind := range []string{"raw", "markdown", "code"} {
			sub := map[string]any{
				"$schema":     doc["$schema"],
				"definitions": doc["definitions"],
				"allOf":       []any{map[string]any{"$ref": "#/definitions/" + kind + "_cell"}},
			}
			s, err := gojsonschema.NewSchema(gojsonschema.NewGoLoader(sub))
			if err != nil {
				buildErr = fmt.Errorf("compile %s_cell schema: %w", kind, err)
				return
			}
			cells[kind] = s
		}
		schemas = compiled{full: full, cells: cells}
	})
	return schemas, buildErr
}

var cellFieldRE = regexp.MustCompile(`^cells\.(\d+)(?:\.|$)`)

// Check validates notebook JSON. The error is only for a broken embedded
// schema; everything wrong with the notebook comes back as issues, in order.
func Check(data []byte) ([]Issue, error) {
	s, err := load()
	if err != nil {
		return nil, err
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return []Issue{{Cell: -1, Message: "not valid JSON: " + err.Error()}}, nil
	}
	top, isObj := doc.(map[string]any)
	if !isObj {
		return []Issue{{Cell: -1, Message: "a notebook must be a JSON object"}}, nil
	}
	res, err := s.full.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return nil, fmt.Errorf("validate notebook: %w", err)
	}
	var issues []Issue
	badCells := map[int]bool{}
	for _, e := range res.Errors() {
		field := e.Field()
		if m := cellFieldRE.FindStringSubmatch(field); m != nil {
			n, _ := strconv.Atoi(m[1])
			badCells[n] = true
			continue
		}
		if msg := describe(e, "notebook"); msg != "" {
			issues = append(issues, Issue{Cell: -1, Message: msg})
		}
	}
	cells, _ := top["cells"].([]any)
	idx := make([]int, 0, len(badCells))
	for n := range badCells {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	for _, n := range idx {
		if n >= len(cells) {
			continue
		}
		issues = append(issues, checkCell(s, n, cells[n])...)
	}
	issues = append(issues, duplicateIDs(cells)...)
	sort.SliceStable(issues, func(i, j int) bool { return issues[i].Cell < issues[j].Cell })
	return dedupe(issues), nil
}

func checkCell(s compiled, n int, cell any) []Issue {
	obj, ok := cell.(map[string]any)
	if !ok {
		return []Issue{{Cell: n, Message: "a cell must be a JSON object"}}
	}
	ct, present := obj["cell_type"]
	if !present {
		return []Issue{{Cell: n, Message: "missing cell_type (code, markdown or raw)"}}
	}
	kind, _ := ct.(string)
	sub, known := s.cells[kind]
	if !known {
		// Unknown cell types are legal (future formats) if they have metadata.
		return []Issue{{Cell: n, Message: fmt.Sprintf("unknown cell_type %v: use code, markdown or raw (and give it metadata)", jsonText(ct))}}
	}
	res, err := sub.Validate(gojsonschema.NewGoLoader(obj))
	if err != nil {
		return []Issue{{Cell: n, Message: err.Error()}}
	}
	var out []Issue
	for _, e := range res.Errors() {
		if msg := describe(e, kind); msg != "" {
			out = append(out, Issue{Cell: n, Message: msg})
		}
	}
	if len(out) == 0 {
		out = append(out, Issue{Cell: n, Message: "does not match the nbformat 4.5 " + kind + " cell schema"})
	}
	return out
}

func duplicateIDs(cells []any) []Issue {
	var out []Issue
	first := map[string]int{}
	for i, c := range cells {
		obj, _ := c.(map[string]any)
		id, ok := obj["id"].(string)
		if !ok {
			continue
		}
		if j, seen := first[id]; seen {
			out = append(out, Issue{Cell: i, Message: fmt.Sprintf("duplicate id %q (cell %d has it too); cell ids must be unique", id, j)})
			continue
		}
		first[id] = i
	}
	return out
}

// describe turns one validator error into words. kind is "notebook" for
// top-level errors or the cell type for errors inside one cell.
func describe(e gojsonschema.ResultError, kind string) string {
	field := e.Field()
	if field == "(root)" {
		field = ""
	}
	d := e.Details()
	prop, _ := d["property"].(string)
	name := field
	if name == "" {
		name = "the " + kind
		if kind != "notebook" {
			name += " cell"
		}
	}
	switch e.Type() {
	case "number_one_of", "number_any_of", "number_all_of":
		// The branch errors that follow say what is actually wrong.
		return ""
	case "required":
		if field == "" {
			switch {
			case kind == "code" && prop == "execution_count":
				return "code cell is missing execution_count (null before it runs)"
			case kind == "code" && prop == "outputs":
				return "code cell is missing outputs ([] before it runs)"
			case kind == "notebook":
				return fmt.Sprintf("missing top-level key %q", prop)
			}
			return "missing " + prop
		}
		return fmt.Sprintf("%s: missing %s", field, prop)
	case "additional_property_not_allowed":
		if field == "" {
			switch {
			case kind == "notebook":
				return fmt.Sprintf("unknown top-level key %q (allowed: cells, metadata, nbformat, nbformat_minor)", prop)
			case prop == "outputs":
				return kind + " cells cannot have outputs"
			case prop == "execution_count":
				return kind + " cells cannot have an execution_count"
			}
			return fmt.Sprintf("%s cells cannot have a %q key", kind, prop)
		}
		return fmt.Sprintf("%s: unexpected key %q", field, prop)
	case "invalid_type":
		if field == "source" || strings.HasSuffix(field, ".text") {
			return fmt.Sprintf("%s must be a string or a list of strings, not %v", name, d["given"])
		}
		return fmt.Sprintf("%s must be %s, not %v", name, plainTypes(d["expected"]), d["given"])
	case "number_gte":
		return fmt.Sprintf("%s must be >= %v", name, d["min"])
	case "number_lte":
		return fmt.Sprintf("%s must be <= %v", name, d["max"])
	case "number_gt":
		return fmt.Sprintf("%s must be > %v", name, d["min"])
	case "number_lt":
		return fmt.Sprintf("%s must be < %v", name, d["max"])
	case "pattern":
		if field == "id" {
			if e.Value() == "" {
				return "" // already reported as empty
			}
			return fmt.Sprintf("id %v may only use letters, digits, \"-\" and \"_\"", jsonText(e.Value()))
		}
		return fmt.Sprintf("%s does not match the pattern %v", name, d["pattern"])
	case "string_gte":
		if field == "id" {
			return "id must not be empty (1-64 characters)"
		}
		return fmt.Sprintf("%s must be at least %v characters", name, d["min"])
	case "string_lte":
		if field == "id" {
			return fmt.Sprintf("id %v is longer than 64 characters", jsonText(e.Value()))
		}
		return fmt.Sprintf("%s must be at most %v characters", name, d["max"])
	case "enum":
		if field == "cell_type" {
			return fmt.Sprintf("cell_type %v does not match the cell's keys", jsonText(e.Value()))
		}
		if strings.HasSuffix(field, "output_type") {
			// outputs are a oneOf too: the enum of the best branch is misleading.
			return fmt.Sprintf("%s %v is not one of execute_result, display_data, stream, error", name, jsonText(e.Value()))
		}
		return fmt.Sprintf("%s must be one of %v", name, d["allowed"])
	case "array_min_items":
		return fmt.Sprintf("%s needs at least %v items", name, d["min"])
	case "unique":
		return fmt.Sprintf("%s must not repeat items", name)
	}
	return fmt.Sprintf("%s: %s", name, e.Description())
}

// typeWords names JSON Schema types the way a person would read them.
var typeWords = map[string]string{
	"integer": "an integer",
	"object":  "an object",
	"array":   "a list",
	"string":  "a string",
	"boolean": "true or false",
	"number":  "a number",
}

func plainTypes(v any) string {
	s := fmt.Sprint(v)
	s = strings.Trim(s, "[]")
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
	for i, p := range parts {
		if w, ok := typeWords[p]; ok {
			parts[i] = w
		}
	}
	return strings.Join(parts, " or ")
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func dedupe(issues []Issue) []Issue {
	seen := map[Issue]bool{}
	out := issues[:0]
	for _, i := range issues {
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, i)
	}
	return out
}
