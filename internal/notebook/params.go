package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// SetParameters rewrites, in a built notebook's JSON, the values of top-level
// assignments NAME = <literal> in the cell tagged "parameters", keeping each line's
// comment, and returns the notebook in Jupyter's own layout. Unlike
// InjectParameters it adds no cell: a person opening the notebook sees the values
// where they would edit them. Names the cell does not assign are returned in
// missing (in the order given), the notebook otherwise rewritten.
func SetParameters(ipynb []byte, params []Param) (out []byte, missing []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(ipynb))
	dec.UseNumber()
	var nb map[string]any
	if err := dec.Decode(&nb); err != nil {
		return nil, nil, fmt.Errorf("notebook is not JSON: %w", err)
	}
	cells, _ := nb["cells"].([]any)
	var cell map[string]any
	for _, c := range cells {
		m, _ := c.(map[string]any)
		md, _ := m["metadata"].(map[string]any)
		tags, _ := md["tags"].([]any)
		for _, t := range tags {
			if t == TagParameters {
				cell = m
			}
		}
		if cell != nil {
			break
		}
	}
	if cell == nil {
		return nil, nil, fmt.Errorf("the notebook has no cell tagged %q", TagParameters)
	}
	var src string
	switch v := cell["source"].(type) {
	case string:
		src = v
	case []any:
		var b strings.Builder
		for _, l := range v {
			s, _ := l.(string)
			b.WriteString(s)
		}
		src = b.String()
	}
	for _, p := range params {
		if !ValidParamName(p.Name) {
			return nil, nil, fmt.Errorf("parameter name %q is not a Python identifier", p.Name)
		}
		lit, err := pyLiteral(p.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		re := assignment(p.Name)
		if !re.MatchString(src) {
			missing = append(missing, p.Name)
			continue
		}
		src = re.ReplaceAllStringFunc(src, func(line string) string {
			m := re.FindStringSubmatch(line)
			return m[1] + lit + m[3]
		})
	}
	cell["source"] = splitLines(src)
	out, err = marshalJupyter(nb)
	return out, missing, err
}

// assignment matches `NAME = <one literal>` at the start of a line: a string in
// either quote, a number, True/False/None; the rest of the line (a comment) is kept.
func assignment(name string) *regexp.Regexp {
	const literal = `"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[-+]?[0-9][0-9_.eE+-]*|True|False|None`
	return regexp.MustCompile(`(?m)^(` + regexp.QuoteMeta(name) + `[ \t]*=[ \t]*)(` + literal + `)([ \t]*(?:#[^\n]*)?)$`)
}
