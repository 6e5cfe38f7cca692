package drive

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
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

// Tree is PROJECT_ROOT's folder layout, created at the top of the project folder by
// default-branch runs so Drive shows the folders the notebook uses (data/raw for the
// dataset) before a run fills them. It is TREE in cells/src/project.py, which the
// notebook runs in Colab and so cannot read a repository file: TestTreeMatchesProjectPy
// parses that tuple and fails when the two differ.
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

// Sources says what to publish. Any of them may be empty.
type Sources struct {
	ProjectRoot  string // a run's PROJECT_ROOT: results/, models/, REPORT/, NOTES.md, ... -> ci/<ref>/run/
	Notebook     string // the built .ipynb -> the target's notebook root
	SrcDir       string // the built src/ tree -> beside the notebook (default ProjectRoot/src)
	Record       []byte // the action's record of the run -> ci/<ref>/run/ci_run.json
	MaxFileBytes int64  // 0 means DefaultMaxFileBytes; negative means no cap
}

// Kind is what a planned file is, which decides who may have written it before.
type Kind int

const (
	KindArtifact Kind = iota // something the run produced
	KindNotebook             // the notebook built from cells/
	KindSrc                  // a module of the built src/
	KindRecord               // ci_run.json
)

// Item is one file and where it goes, as a slash path under the project folder.
// Its bytes come from Local, or from Data when Local is empty.
type Item struct {
	Rel      string
	Local    string
	Data     []byte
	MimeType string
	Size     int64
	Kind     Kind
}

func (it Item) open() (io.ReadCloser, error) {
	if it.Local == "" {
		return io.NopCloser(bytes.NewReader(it.Data)), nil
	}
	return os.Open(it.Local)
}

func (it Item) md5() (string, error) {
	r, err := it.open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Skip is a file left out on purpose, with the reason shown to the user.
type Skip struct {
	Rel    string
	Reason string
}

// Plan is the full list of folders and files one publish writes for a target.
type Plan struct {
	Target  Target
	Dirs    []string
	Items   []Item
	Skipped []Skip
}

// Notebook returns the notebook item, if the plan has one.
func (p Plan) Notebook() (Item, bool) {
	for _, it := range p.Items {
		if it.Kind == KindNotebook {
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

// BuildPlan lays the sources out for target t: the notebook and src/ at the target's
// notebook root, the run's PROJECT_ROOT under ci/<ref>/run/ (without its src/, which
// is the built one, and its data/raw/, the run's input), the record last.
func BuildPlan(s Sources, t Target) (Plan, error) {
	if err := t.Validate(); err != nil {
		return Plan{}, err
	}
	pl := &planner{maxBytes: s.MaxFileBytes}
	if pl.maxBytes == 0 {
		pl.maxBytes = DefaultMaxFileBytes
	}
	srcDir := s.SrcDir
	if s.ProjectRoot != "" {
		if err := pl.addProjectRoot(s.ProjectRoot, t); err != nil {
			return Plan{}, err
		}
		if srcDir == "" {
			srcDir = existing(filepath.Join(s.ProjectRoot, "src"))
		}
	}
	if srcDir != "" {
		if err := pl.addSrc(srcDir, t); err != nil {
			return Plan{}, err
		}
	}
	if s.Notebook != "" {
		if err := pl.addNotebook(s.Notebook, t); err != nil {
			return Plan{}, err
		}
	}
	if s.Record != nil {
		pl.add(Item{Rel: path.Join(t.RunDir(), RunRecord), Data: s.Record, MimeType: "application/json", Size: int64(len(s.Record)), Kind: KindRecord})
	}
	sortItems(pl.items)
	return Plan{Target: t, Dirs: planDirs(pl.items, t.Default), Items: pl.items, Skipped: pl.skipped}, nil
}

// planner gathers a plan's files and what it leaves out, in the order it meets them.
type planner struct {
	maxBytes int64 // negative: no cap
	items    []Item
	skipped  []Skip
}

func (pl *planner) skip(rel, why string) { pl.skipped = append(pl.skipped, Skip{rel, why}) }

// add keeps it unless it is over the size cap (the notebook never is).
func (pl *planner) add(it Item) {
	if it.Kind != KindNotebook && pl.maxBytes > 0 && it.Size > pl.maxBytes {
		pl.skip(it.Rel, fmt.Sprintf("%s is over the %s size cap", humanBytes(it.Size), humanBytes(pl.maxBytes)))
		return
	}
	pl.items = append(pl.items, it)
}

// addProjectRoot adds a run's PROJECT_ROOT under the target's run folder, without its
// src/ and data/raw/.
func (pl *planner) addProjectRoot(root string, t Target) error {
	if err := requireDir(root, "project root"); err != nil {
		return err
	}
	skip := map[string]string{
		"src":      "the built src/ is published beside the notebook",
		"data/raw": "the run's input data, not an artifact",
	}
	if err := pl.walk(root, t.RunDir(), KindArtifact, skip); err != nil {
		return fmt.Errorf("read project root %s: %w", root, err)
	}
	return nil
}

// addSrc adds the built src/ tree beside the notebook.
func (pl *planner) addSrc(srcDir string, t Target) error {
	if err := requireDir(srcDir, "src folder"); err != nil {
		return err
	}
	if err := pl.walk(srcDir, path.Join(t.NotebookRoot(), "src"), KindSrc, nil); err != nil {
		return fmt.Errorf("read src folder %s: %w", srcDir, err)
	}
	return nil
}

// addNotebook adds the one file the Colab link points at: never capped. Its name is
// fixed, so the link a user bookmarks stays the same whatever the build called it.
func (pl *planner) addNotebook(notebook string, t Target) error {
	info, err := os.Stat(notebook)
	if err != nil {
		return fmt.Errorf("notebook %s not found: build it first (go run . build): %w", notebook, err)
	}
	pl.add(Item{Rel: path.Join(t.NotebookRoot(), NotebookFile), Local: notebook, MimeType: ColabMIME, Size: info.Size(), Kind: KindNotebook})
	return nil
}

// walk adds root's files under prefix; skip names top-level folders left out, with why.
func (pl *planner) walk(root, prefix string, kind Kind, skip map[string]string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		relLocal, _ := filepath.Rel(root, p)
		relSlash := filepath.ToSlash(relLocal)
		rel := path.Join(prefix, relSlash)
		if d.IsDir() {
			return pl.enterDir(p == root, d.Name(), relSlash, rel, skip)
		}
		return pl.addFile(p, rel, d, kind)
	})
}

// enterDir says whether walk goes into a folder (nil) or leaves it out (filepath.SkipDir).
func (pl *planner) enterDir(isRoot bool, name, relSlash, rel string, skip map[string]string) error {
	if isRoot {
		return nil
	}
	if why, ok := skip[relSlash]; ok {
		pl.skip(rel+"/", why)
		return filepath.SkipDir
	}
	if why, ok := skipDir(name); ok {
		pl.skip(rel+"/", why)
		return filepath.SkipDir
	}
	return nil
}

// addFile adds one file walk meets, unless it is not a regular file or is one never uploaded.
func (pl *planner) addFile(p, rel string, d fs.DirEntry, kind Kind) error {
	if !d.Type().IsRegular() {
		pl.skip(rel, "not a regular file")
		return nil
	}
	if why, ok := skipFile(d.Name()); ok {
		pl.skip(rel, why)
		return nil
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	pl.add(Item{Rel: rel, Local: p, MimeType: mimeFor(p), Size: info.Size(), Kind: kind})
	return nil
}

// planDirs lists every folder the items need, with their parents (and Tree for the
// default branch), sorted so that parents come before children and can be created in order.
func planDirs(items []Item, withTree bool) []string {
	dirs := map[string]bool{}
	if withTree {
		for _, d := range Tree {
			dirs[d] = true
		}
	}
	for _, it := range items {
		dirs[parentDir(it.Rel)] = true
	}
	delete(dirs, "")
	for d := range dirs {
		for p := path.Dir(d); p != "."; p = path.Dir(p) {
			dirs[p] = true
		}
	}
	var out []string
	for d := range dirs {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// sortItems puts the notebook first: if anything later fails, the Colab link is already
// fresh; the record last: a baseline never points at artifacts that did not land.
func sortItems(items []Item) {
	order := map[Kind]int{KindNotebook: 0, KindSrc: 1, KindArtifact: 2, KindRecord: 3}
	sort.SliceStable(items, func(i, j int) bool {
		if order[items[i].Kind] != order[items[j].Kind] {
			return order[items[i].Kind] < order[items[j].Kind]
		}
		return items[i].Rel < items[j].Rel
	})
}

func existing(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p
	}
	return ""
}

func parentDir(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
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
