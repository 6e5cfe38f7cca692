// Package action is the GitHub Action entry point: build → validate → run the
// notebook, publish it to Google Drive, keep one PR comment with the Colab link and
// metrics, and report through outputs, annotations and the job summary.
//
// It reads inputs as INPUT_* variables, so it runs the same from action.yml's
// composite step, a workflow `run:` step, or a test that sets the environment.
package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/prodcat/colab-notebook-action/internal/drive"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
)

// Deps are the action's connections to the outside, replaceable in tests.
type Deps struct {
	Getenv       func(string) string
	Out          io.Writer // log and workflow commands (stdout on a runner)
	Pipeline     Pipeline
	HTTPClient   *http.Client            // for Drive, the token endpoint and GitHub; nil = defaults
	DriveBackoff func(int) time.Duration // nil = exponential backoff with jitter
}

// Config is the action's inputs, parsed.
type Config struct {
	CellsDir, Mode, DataPath, SampleSize, ModelName string
	OutDir, ProjectRoot, LocalDriveRoot             string
	FolderID                                        string
	Share, Comment                                  bool
	GitHubToken                                     string
	MaxFileBytes                                    int64
	Creds                                           drive.Credentials
}

// input reads INPUT_<NAME>. The runner keeps hyphens in the variable name
// (INPUT_FOLDER-ID), which shells cannot set, so INPUT_FOLDER_ID is accepted too.
func input(getenv func(string) string, name string) string {
	up := strings.ToUpper(name)
	if v := strings.TrimSpace(getenv("INPUT_" + up)); v != "" {
		return v
	}
	return strings.TrimSpace(getenv("INPUT_" + strings.ReplaceAll(up, "-", "_")))
}

func readConfig(getenv func(string) string) (Config, error) {
	in := func(name, def string) string {
		if v := input(getenv, name); v != "" {
			return v
		}
		return def
	}
	var errs []error
	boolean := func(name string, def bool) bool {
		v := in(name, strconv.FormatBool(def))
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("input %s must be true or false, got %q", name, v))
		}
		return b
	}
	c := Config{
		CellsDir:       in("cells", "cells"),
		Mode:           in("mode", "quickstart"),
		DataPath:       in("data", ""),
		SampleSize:     in("sample-size", ""),
		ModelName:      in("model-name", ""),
		OutDir:         in("out-dir", "build"),
		ProjectRoot:    in("project-root", "product_categorization_project"),
		LocalDriveRoot: in("local-drive-root", drive.DefaultLocalRoot),
		FolderID:       in("folder-id", ""),
		GitHubToken:    in("github-token", ""),
		Share:          boolean("share", false),
		Comment:        boolean("comment", true),
	}
	switch c.Mode {
	case "build", "quickstart", "full":
	default:
		errs = append(errs, fmt.Errorf("input mode must be build, quickstart or full, got %q", c.Mode))
	}
	if c.SampleSize != "" {
		if n, err := strconv.Atoi(c.SampleSize); err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("input sample-size must be a positive whole number, got %q", c.SampleSize))
		}
	}
	mb, err := strconv.ParseFloat(in("max-file-mb", "100"), 64)
	if err != nil {
		errs = append(errs, fmt.Errorf("input max-file-mb must be a number of MiB, got %q", in("max-file-mb", "")))
	}
	c.MaxFileBytes = int64(mb * (1 << 20))
	if mb <= 0 {
		c.MaxFileBytes = -1
	}
	c.Creds = drive.Credentials{
		ClientID:     in("oauth-client-id", ""),
		ClientSecret: in("oauth-client-secret", ""),
		RefreshToken: in("oauth-refresh-token", ""),
		AccessToken:  in("access-token", ""),
	}
	if j := in("credentials", ""); j != "" {
		c.Creds.JSON, c.Creds.Source = []byte(j), "the credentials input"
	}
	c.Creds, err = drive.CredentialsFromEnv(c.Creds, getenv)
	if err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

type runner struct {
	d      Deps
	gh     *githubactions.Action
	cfg    Config
	ctx    *githubactions.GitHubContext
	pr     pullRequest
	rep    prcomment.Report
	failed bool

	notebook  string
	published string // drive, local, skipped
	fileID    string
	metrics   *Metrics
}

// Run executes the action and returns the process exit code.
func Run(ctx context.Context, d Deps) int {
	if d.Getenv == nil {
		panic("action.Run: Deps.Getenv is nil")
	}
	gh := githubactions.New(githubactions.WithGetenv(d.Getenv), githubactions.WithWriter(d.Out))
	r := &runner{d: d, gh: gh, published: "skipped"}
	return r.run(ctx)
}

func (r *runner) run(ctx context.Context) int {
	cfg, err := readConfig(r.d.Getenv)
	// Mask first: a later message must not be able to print a secret.
	for _, s := range append(cfg.Creds.Secrets(), cfg.GitHubToken) {
		if s != "" {
			r.gh.AddMask(s)
		}
	}
	if err != nil {
		for _, e := range unjoin(err) {
			r.gh.Errorf("%v", e)
		}
		return 1
	}
	r.cfg = cfg
	r.ctx, err = r.gh.Context()
	if err != nil {
		r.gh.Warningf("reading the GITHUB_* environment: %v", err)
	}
	if ev, err := readEvent(r.ctx.EventPath); err != nil {
		r.gh.Warningf("%v; treating this run as one without a pull request", err)
	} else {
		r.pr = ev.pr()
	}
	r.rep = prcomment.Report{Mode: cfg.Mode, Commit: r.ctx.SHA}
	if r.pr.HeadSHA != "" {
		// GITHUB_SHA of a pull_request run is a merge commit nobody pushed.
		r.rep.Commit = r.pr.HeadSHA
	}
	if r.ctx.RunID > 0 && r.ctx.Repository != "" {
		r.rep.RunURL = fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(r.ctx.ServerURL, "/"), r.ctx.Repository, r.ctx.RunID)
		r.rep.RunLabel = strings.TrimSpace(fmt.Sprintf("%s #%d", r.ctx.Workflow, r.ctx.RunNumber))
	}
	r.gh.Infof("event %s, mode %s, pull request %s", orNone(r.ctx.EventName), cfg.Mode, prLabel(r.pr))

	ok := r.pipeline(ctx)
	r.publish(ctx, ok)
	r.comment(ctx)
	r.report()
	if r.failed {
		return 1
	}
	return 0
}

func (r *runner) pipeline(ctx context.Context) bool {
	c := r.cfg
	r.gh.Group("Build the notebook from " + c.CellsDir)
	nb, buildErr := r.d.Pipeline.Build(ctx, c.CellsDir, c.OutDir)
	r.gh.EndGroup()
	if buildErr != nil {
		r.fail("", 0, buildErr.Error())
	} else {
		r.notebook = nb
		r.rep.Notebook = r.relToWorkspace(nb)
		r.gh.Infof("built %s", nb)
	}

	// Validate even after a failed build: its file:line list is what the author needs.
	r.gh.Group("Validate " + c.CellsDir)
	probs, err := r.d.Pipeline.Validate(ctx, c.CellsDir)
	r.gh.EndGroup()
	if err != nil {
		r.rep.ValidErr = err.Error()
		r.fail("", 0, "validation could not run: "+err.Error())
	} else {
		r.rep.Validated = true
		for i := range probs {
			probs[i].File = r.relToWorkspace(probs[i].File)
		}
		r.rep.Problems = probs
		r.annotate(probs)
	}
	if buildErr != nil || err != nil || len(probs) > 0 {
		if c.Mode != "build" {
			r.rep.ExecErr = "not run: fix the build and validation problems first"
		}
		return false
	}
	if c.Mode == "build" {
		return true
	}

	r.gh.Group("Run the notebook (" + c.Mode + ")")
	err = r.d.Pipeline.Execute(ctx, ExecOptions{
		Mode: c.Mode, DataPath: c.DataPath, ProjectRoot: c.ProjectRoot, NotebookPath: nb,
		CellsDir: c.CellsDir, OutDir: c.OutDir, SampleSize: c.SampleSize, ModelName: c.ModelName,
	})
	r.gh.EndGroup()
	if err != nil {
		r.rep.ExecErr = err.Error()
		r.fail("", 0, err.Error())
		return false
	}
	m, err := ReadMetrics(c.ProjectRoot, c.Mode)
	if err != nil {
		r.rep.ExecErr = err.Error()
		r.fail("", 0, err.Error())
		return false
	}
	r.metrics = m
	r.rep.QuickStart = m.QuickStart
	r.rep.Models = m.rows
	return true
}

// maxAnnotations is GitHub's limit of error annotations shown per step.
const maxAnnotations = 10

func (r *runner) annotate(probs []Problem) {
	for i, p := range probs {
		if i >= maxAnnotations {
			r.gh.Infof("%s", problemLine(p))
			continue
		}
		r.fail(p.File, p.Line, p.Message)
	}
	if len(probs) > maxAnnotations {
		r.gh.Errorf("%d validation problems; GitHub shows %d as annotations, all are listed in the log above and in the job summary", len(probs), maxAnnotations)
	}
}

func problemLine(p Problem) string {
	switch {
	case p.File == "":
		return p.Message
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Message)
}

// relToWorkspace makes annotation paths relative to the checkout, as GitHub needs.
func (r *runner) relToWorkspace(file string) string {
	ws := r.ctx.Workspace
	if ws == "" || file == "" || !filepath.IsAbs(file) {
		return filepath.ToSlash(file)
	}
	if rel, err := filepath.Rel(ws, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(file)
}

// fail prints an ::error annotation and marks the run failed.
func (r *runner) fail(file string, line int, msg string) {
	r.failed = true
	fields := map[string]string{}
	if file != "" {
		fields["file"] = file
	}
	if line > 0 {
		fields["line"] = strconv.Itoa(line)
	}
	r.gh.WithFieldsMap(fields).Errorf("%s", msg)
}

func (r *runner) publish(ctx context.Context, ok bool) {
	c := r.cfg
	switch {
	case !ok:
		r.rep.PublishMsg = "Not published: the notebook must build, validate and run first."
		r.gh.Infof("publish skipped: an earlier step failed")
		return
	case r.pr.Fork:
		r.rep.PublishMsg = fmt.Sprintf("Not published to Google Drive: this pull request comes from a fork (%s), whose runs get no secrets. The notebook was built, validated and run; a maintainer's push or re-run publishes it.", r.pr.HeadRepo)
		r.gh.Infof("Pull request from a fork (%s): secrets are not available, so publishing to Google Drive and the PR comment are skipped. Build, validation and the run still count.", r.pr.HeadRepo)
		return
	}
	plan, err := drive.BuildPlan(drive.Sources{
		ProjectRoot: existingDir(c.ProjectRoot), Notebook: r.notebook,
		SrcDir: existingDir(filepath.Join(c.OutDir, "src")), MaxFileBytes: c.MaxFileBytes,
	})
	if err != nil {
		r.rep.PublishMsg = "Not published: " + err.Error()
		r.fail("", 0, "publish: "+err.Error())
		return
	}
	for _, s := range plan.Skipped {
		if !strings.HasSuffix(s.Rel, "/") || s.Reason == "training checkpoint" {
			r.gh.Infof("not published: %s (%s)", s.Rel, s.Reason)
		}
	}
	r.gh.Group("Publish")
	defer r.gh.EndGroup()
	if c.Creds.Empty() {
		if c.FolderID != "" {
			r.gh.Warningf("folder-id is set but no Google credentials reached this run (are the secrets defined, and is this not a Dependabot or fork run?); publishing to the local folder %s instead", drive.LocalProjectRoot(c.LocalDriveRoot))
		}
		rep, err := drive.PublishLocal(c.LocalDriveRoot, plan, r.gh.Infof)
		if err != nil {
			r.rep.PublishMsg = "Not published: " + err.Error()
			r.fail("", 0, "publish: "+err.Error())
			return
		}
		r.published = "local"
		r.rep.PublishMsg = fmt.Sprintf("Not published to Google Drive (no credentials configured); copied to `%s` on the runner.", rep.Root)
		r.gh.Infof("published locally to %s", rep.Root)
		return
	}
	opts := drive.Options{
		FolderID: c.FolderID, Share: c.Share, Endpoint: r.d.Getenv(drive.EnvEndpoint),
		HTTPClient: r.d.HTTPClient, Backoff: r.d.DriveBackoff, Logf: r.gh.Infof,
	}
	cl, err := drive.New(ctx, c.Creds, opts)
	var rep *drive.Report
	if err == nil {
		rep, err = cl.Publish(ctx, plan)
	}
	if err != nil {
		r.rep.PublishMsg = "Publishing to Google Drive failed: " + err.Error()
		r.fail("", 0, "publish to Google Drive: "+err.Error())
		return
	}
	for _, w := range rep.Warnings {
		r.gh.Warningf("%s", w)
	}
	r.published = "drive"
	r.fileID = rep.NotebookID
	r.rep.ColabURL = rep.ColabURL
	r.rep.FolderURL = "https://drive.google.com/drive/folders/" + c.FolderID
	r.gh.Infof("Colab: %s", rep.ColabURL)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func existingDir(p string) string {
	if p == "" || !isDir(p) {
		return ""
	}
	return p
}

func (r *runner) comment(ctx context.Context) {
	c := r.cfg
	switch {
	case !c.Comment:
		r.gh.Infof("PR comment disabled (comment: false)")
		return
	case r.pr.Number == 0:
		r.gh.Infof("No pull request in this %s event: no PR comment; the job summary carries the same report.", orNone(r.ctx.EventName))
		return
	case r.pr.Fork:
		// Already explained in publish; the token is read-only anyway.
		return
	case c.GitHubToken == "":
		r.gh.Warningf("no github-token: the PR comment is skipped")
		return
	}
	owner, repo := r.ctx.Repo()
	hc := r.d.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	gh, err := prcomment.NewClient(hc, r.ctx.APIURL, c.GitHubToken)
	if err != nil {
		r.gh.Warningf("PR comment skipped: %v", err)
		return
	}
	cm := &prcomment.Commenter{Client: gh, Owner: owner, Repo: repo, Logf: r.gh.Infof}
	cm.Author = cm.ResolveAuthor(ctx)
	res, err := cm.Upsert(ctx, r.pr.Number, prcomment.Comment(r.rep, 0))
	if err != nil {
		// The comment repeats what the log and summary say: losing it must not fail the build.
		r.gh.Warningf("%v", err)
		return
	}
	r.gh.Infof("PR comment %s: %s", res.Action, res.URL)
}

func (r *runner) report() {
	metricsJSON := "{}"
	if r.metrics != nil {
		if b, err := json.Marshal(r.metrics); err == nil {
			metricsJSON = string(b)
		}
	}
	outputs := [][2]string{
		{"notebook-path", r.notebook},
		{"drive-file-id", r.fileID},
		{"colab-url", r.rep.ColabURL},
		{"metrics-json", metricsJSON},
		{"published", r.published},
		{"validation-problems", strconv.Itoa(len(r.rep.Problems))},
	}
	// go-githubactions panics without these files; outside a runner, print instead.
	for _, o := range outputs {
		if r.d.Getenv("GITHUB_OUTPUT") != "" {
			r.gh.SetOutput(o[0], o[1])
		} else {
			r.gh.Infof("output %s=%s", o[0], o[1])
		}
	}
	if r.d.Getenv("GITHUB_STEP_SUMMARY") != "" {
		r.gh.AddStepSummary(prcomment.Summary(r.rep))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func prLabel(p pullRequest) string {
	switch {
	case p.Number == 0:
		return "none"
	case p.Fork:
		return fmt.Sprintf("#%d from fork %s", p.Number, p.HeadRepo)
	}
	return fmt.Sprintf("#%d", p.Number)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
