package drive

import (
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ColabMIME makes Drive open the file in Colab and gives it a Colab link.
const ColabMIME = "application/vnd.google.colaboratory"

// ProjectFolder is the folder the notebook mounts as PROJECT_ROOT inside MyDrive.
const ProjectFolder = "product_categorization_project"

// Tree is PROJECT_ROOT's folder layout; it mirrors TREE in cells/src/project.py so
// Drive shows the same folders the notebook creates even before a full run fills them.
var Tree = []string{
	"data/raw",
	"data/processed",
	"data/processed/embeddings",
	"models",
	"results/plots",
	"results/interpretability",
	"experiments/logs/bert",
	"src",
	"src/api",
	"notebooks",
	"REPORT",
}

// DefaultMaxFileBytes keeps model weights and raw dumps out of a CI publish; the
// notebook writes those to Drive itself when it runs in Colab.
const DefaultMaxFileBytes = 100 << 20

// Sources says what to publish. Any of the three may be empty.
type Sources struct {
	ProjectRoot  string // a run's PROJECT_ROOT: data/, models/, results/, REPORT/, ...
	Notebook     string // the built .ipynb; goes to the folder root
	SrcDir       string // the built src/ tree; goes to src/
	MaxFileBytes int64  // 0 means DefaultMaxFileBytes; negative means no cap
}

// Item is one local file and where it goes, as a slash path under PROJECT_ROOT.
type Item struct {
	Rel      string
	Local    string
	MimeType string
	Size     int64
	Notebook bool
}

// Skip is a file left out on purpose, with the reason shown to the user.
type Skip struct {
	Rel    string
	Reason string
}

// Plan is the full list of folders and files one publish writes.
type Plan struct {
	Dirs    []string
	Items   []Item
	Skipped []Skip
}

// Notebook returns the notebook item, if the plan has one.
func (p Plan) Notebook() (Item, bool) {
	for _, it := range p.Items {
		if it.Notebook {
			return it, true
		}
	}
	return Item{}, false
}

// skipDir names folders never worth uploading: Trainer checkpoints hold optimizer
// state several times the model's size, the rest are caches.
func skipDir(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "checkpoint-"):
		return "training checkpoint", true
	case name == "__pycache__" || name == ".ipynb_checkpoints" || name == ".pytest_cache":
		return "cache", true
	case strings.HasPrefix(name, "."):
		return "hidden", true
	}
	return "", false
}

func skipFile(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "."):
		// Includes project.atomic_path's ".name.XXXX" temp files from an interrupted write.
		return "hidden or temporary", true
	case strings.HasSuffix(name, ".pyc"):
		return "cache", true
	}
	return "", false
}

// BuildPlan walks the sources. Explicit Notebook and SrcDir win over copies of the
// same paths inside ProjectRoot, because they are the freshly built ones.
func BuildPlan(s Sources) (Plan, error) {
	maxBytes := s.MaxFileBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxFileBytes
	}
	items := map[string]Item{}
	var plan Plan
	addFile := func(rel, local string, size int64, explicit bool) {
		if _, ok := items[rel]; ok && !explicit {
			return
		}
		if maxBytes > 0 && size > maxBytes {
			plan.Skipped = append(plan.Skipped, Skip{rel, fmt.Sprintf("%s is over the %s size cap", humanBytes(size), humanBytes(maxBytes))})
			return
		}
		items[rel] = Item{Rel: rel, Local: local, MimeType: mimeFor(local), Size: size}
	}
	walk := func(root, prefix string, explicit bool) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			relLocal, _ := filepath.Rel(root, p)
			rel := path.Join(prefix, filepath.ToSlash(relLocal))
			if d.IsDir() {
				if p == root {
					return nil
				}
				if why, skip := skipDir(d.Name()); skip {
					plan.Skipped = append(plan.Skipped, Skip{rel + "/", why})
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				plan.Skipped = append(plan.Skipped, Skip{rel, "not a regular file"})
				return nil
			}
			if why, skip := skipFile(d.Name()); skip {
				plan.Skipped = append(plan.Skipped, Skip{rel, why})
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			addFile(rel, p, info.Size(), explicit)
			return nil
		})
	}
	if s.ProjectRoot != "" {
		if err := requireDir(s.ProjectRoot, "project root"); err != nil {
			return Plan{}, err
		}
		if err := walk(s.ProjectRoot, "", false); err != nil {
			return Plan{}, fmt.Errorf("read project root %s: %w", s.ProjectRoot, err)
		}
	}
	if s.SrcDir != "" {
		if err := requireDir(s.SrcDir, "src folder"); err != nil {
			return Plan{}, err
		}
		if err := walk(s.SrcDir, "src", true); err != nil {
			return Plan{}, fmt.Errorf("read src folder %s: %w", s.SrcDir, err)
		}
	}
	if s.Notebook != "" {
		info, err := os.Stat(s.Notebook)
		if err != nil {
			return Plan{}, fmt.Errorf("notebook %s not found: build it first (go run . build): %w", s.Notebook, err)
		}
		// The spec puts the notebook at PROJECT_ROOT/product_categorization_colab.ipynb.
		rel := filepath.Base(s.Notebook)
		// The notebook is the one file the Colab link points at: never cap it.
		items[rel] = Item{Rel: rel, Local: s.Notebook, MimeType: ColabMIME, Size: info.Size(), Notebook: true}
	}

	dirs := map[string]bool{}
	for _, d := range Tree {
		dirs[d] = true
	}
	for rel, it := range items {
		plan.Items = append(plan.Items, it)
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		for p := path.Dir(d); p != "."; p = path.Dir(p) {
			dirs[p] = true
		}
	}
	for d := range dirs {
		plan.Dirs = append(plan.Dirs, d)
	}
	// Parents sort before children, so folders can be created in order.
	sort.Strings(plan.Dirs)
	sort.Slice(plan.Items, func(i, j int) bool {
		// Notebook first: if anything later fails the Colab link is already fresh.
		if plan.Items[i].Notebook != plan.Items[j].Notebook {
			return plan.Items[i].Notebook
		}
		return plan.Items[i].Rel < plan.Items[j].Rel
	})
	return plan, nil
}

func requireDir(p, what string) error {
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%s %s not found: %w", what, p, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s %s is not a folder", what, p)
	}
	return nil
}

var mimeByExt = map[string]string{
	".ipynb": ColabMIME,
	".py":    "text/x-python",
	".csv":   "text/csv",
	".json":  "application/json",
	".md":    "text/markdown",
	".txt":   "text/plain",
	".yaml":  "application/x-yaml",
	".yml":   "application/x-yaml",
	".png":   "image/png",
	".pdf":   "application/pdf",
	".html":  "text/html",
}

func mimeFor(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if m, ok := mimeByExt[ext]; ok {
		return m
	}
	if m := mime.TypeByExtension(ext); m != "" {
		return m
	}
	return "application/octet-stream"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
