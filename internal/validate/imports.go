package validate

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	schemafiles "github.com/prodcat/colab-notebook-action/schema"
)

// importFact is one absolute import found by pysyntax.py.
type importFact struct {
	Key     string `json:"key"`
	Module  string `json:"module"`
	Line    int    `json:"line"`
	Guarded bool   `json:"guarded"`
}

// extraPackages is an `EXTRA_PACKAGES = {...}` literal: what the install cell adds.
type extraPackages struct {
	Key   string   `json:"key"`
	Line  int      `json:"line"`
	Names []string `json:"names"`
}

// colabPackage is a row of schema/colab-packages.txt.
type colabPackage struct {
	Import, Dist, Version string
}

// InColab reports whether Colab preinstalls the distribution (the install
// cell's own packages are listed only to name their imports).
func (p colabPackage) InColab() bool { return p.Version != "-" }

// ColabPackages parses an import-name list in the format of
// schema/colab-packages.txt: {import name: the distributions providing it}.
func ColabPackages(data []byte) (map[string][]colabPackage, error) {
	out := map[string][]colabPackage{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("colab-packages.txt:%d: want import<TAB>distribution<TAB>version, got %q", n, line)
		}
		out[f[0]] = append(out[f[0]], colabPackage{Import: f[0], Dist: f[1], Version: f[2]})
	}
	return out, sc.Err()
}

var colabPackages = func() map[string][]colabPackage {
	m, err := ColabPackages(schemafiles.ColabPackages)
	if err != nil {
		panic(err) // the embedded file is generated; a broken one is a build error
	}
	return m
}()

var distSepRE = regexp.MustCompile(`[-_.]+`)

// normDist is a distribution name as PEP 503 compares them.
func normDist(s string) string { return strings.ToLower(distSepRE.ReplaceAllString(s, "-")) }

// checkImports fails every import that would raise ModuleNotFoundError in a
// fresh Colab runtime: unguarded, not the standard library, not one of the
// notebook's own modules, not preinstalled in Colab and not added by the
// install cell.
func checkImports(facts []importFact, extras []extraPackages, stdlib []string, mods []string,
	where map[string]func(int) (string, int), known map[string][]colabPackage) []cellsrc.Problem {
	skip := map[string]bool{"__main__": true}
	for _, s := range stdlib {
		skip[s] = true
	}
	for _, m := range mods {
		// "api/app.py": `import api` from src/, `import app` once src/api is on sys.path.
		top, _, _ := strings.Cut(m, "/")
		skip[strings.TrimSuffix(top, ".py")] = true
		skip[strings.TrimSuffix(path.Base(m), ".py")] = true
	}
	added := map[string]bool{}
	addHint := "EXTRA_PACKAGES in cells/src/environment.py"
	for i, e := range extras {
		for _, n := range e.Names {
			added[normDist(n)] = true
		}
		if i == 0 {
			file, line := where[e.Key](e.Line)
			addHint = fmt.Sprintf("EXTRA_PACKAGES (%s:%d)", file, line)
		}
	}
	var probs []cellsrc.Problem
	for _, f := range facts {
		if f.Guarded || skip[f.Module] || added[normDist(f.Module)] {
			continue
		}
		ok := false
		var dists []string
		for _, p := range known[f.Module] {
			if p.InColab() || added[normDist(p.Dist)] {
				ok = true
				break
			}
			dists = append(dists, p.Dist)
		}
		if ok {
			continue
		}
		what := f.Module
		if len(dists) > 0 {
			sort.Strings(dists)
			what += " (distribution " + strings.Join(dists, ", ") + ")"
		}
		file, line := where[f.Key](f.Line)
		probs = append(probs, cellsrc.Problem{File: file, Line: line, Message: fmt.Sprintf(
			"imports %s, which Colab does not preinstall (schema/colab-packages.txt) and the install cell does not add: "+
				"add it to %s (and pin it in env/roots-test.txt), or import it inside "+
				"try/except ImportError with a fallback", what, addHint)})
	}
	return probs
}
