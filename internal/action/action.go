// Package action is the GitHub Action entry point: build → validate → run the
// notebook, publish it to Google Drive, keep one PR comment with the Colab link and
// metrics, and report through outputs, annotations and the job summary.
//
// It reads inputs as INPUT_* variables, so it runs the same from action.yml's
// composite step, a workflow `run:` step, or a test that sets the environment.
// Build, validation and execution are Go calls (package notebook, validate,
// execute); their problems and failures come back as values.
//
// Every text that leaves a run (log, annotations, outputs, job summary, PR
// comment, report artifact, and the files it publishes) passes through one
// redact.Redactor holding the credentials the run knows.
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
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
	"github.com/prodcat/colab-notebook-action/internal/drive"
	"github.com/prodcat/colab-notebook-action/internal/execute"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
	"github.com/prodcat/colab-notebook-action/internal/redact"
)

// Deps are the action's connections to the outside, replaceable in tests.
type Deps struct {
	Getenv func(string) string
	// Environ is the process environment; credentials in it (ACTIONS_RUNTIME_TOKEN,
	// GITHUB_TOKEN, ...) are redacted from everything the run writes. nil: none.
	Environ      func() []string
	Out          io.Writer               // log and workflow commands (stdout on a runner)
	Pipeline     Pipeline                // nil = InProcess with the python input
	HTTPClient   *http.Client            // for Drive, the token endpoint and GitHub; nil = defaults
	DriveBackoff func(int) time.Duration // nil = exponential backoff with jitter
	// DriveEndpoint and TokenURL point Drive and the OAuth token exchange at
	// local fake servers in tests. Only Go code can set them: an environment
	// variable that any earlier workflow step could set must never redirect
	// the credentials.
	DriveEndpoint, TokenURL string
	// GPU names the runner's GPU ("" for none); nil asks nvidia-smi.
	GPU func(context.Context) string
}

// Config is the action's inputs, parsed.
type Config struct {
	CellsDir, Mode, DataPath, ModelName string
	QuickstartSampleSize                int // 0 keeps the notebook's default
	OutDir, ProjectRoot, LocalDriveRoot string
	ReportDir                           string
	Python                              string
	FolderID                            string
	Share, Comment                      bool
	GitHubToken                         string
	MaxFileBytes                        int64
	Creds                               drive.Credentials
	ShareWith                           []drive.Grant // share-with, with share-role
	// TimeBudget, TimeoutPerCell, RunTimeout: 0 = not given; negative = no limit.
	TimeBudget, TimeoutPerCell, RunTimeout time.Duration
}

// Modes of the action. ModeComment runs none of the repository's notebook code:
// it posts a fork's report (see report.go).
const (
	ModeBuild      = "build"
	ModeQuickstart = "quickstart"
	ModeFull       = "full"
	ModeComment    = "comment"
)

// input reads INPUT_<NAME>. The runner keeps hyphens in the variable name
// (INPUT_FOLDER-ID), which shells cannot set, so INPUT_FOLDER_ID is accepted too.
func input(getenv func(string) string, name string) string {
	up := strings.ToUpper(name)
	if v := strings.TrimSpace(getenv("INPUT_" + up)); v != "" {
		return v
	}
	return strings.TrimSpace(getenv("INPUT_" + strings.ReplaceAll(up, "-", "_")))
}

// readConfig reads the action's inputs into a Config; every wrong input is reported,
// joined into one error, so a run names them all at once.
func readConfig(getenv func(string) string) (Config, error) {
	in := &inputs{getenv: getenv}
	c := Config{
		CellsDir:       in.str("cells", "cells"),
		Mode:           in.str("mode", ModeQuickstart),
		DataPath:       in.str("data", ""),
		ModelName:      in.str("model-name", ""),
		OutDir:         in.str("out-dir", "build"),
		ProjectRoot:    in.str("project-root", "product_categorization_project"),
		LocalDriveRoot: in.str("local-drive-root", drive.DefaultLocalRoot),
		Python:         in.str("python", ""),
		FolderID:       in.str("folder-id", ""),
		GitHubToken:    in.str("github-token", ""),
		Share:          in.boolean("share", false),
		Comment:        in.boolean("comment", true),
		TimeoutPerCell: in.duration("timeout-per-cell"),
		RunTimeout:     in.duration("run-timeout"),
	}
	c.ReportDir = in.str("report-dir", filepath.Join(c.OutDir, "pr-report"))
	in.checkMode(c.Mode)
	c.QuickstartSampleSize = in.sampleSize()
	c.TimeBudget = in.timeBudget()
	c.ShareWith = in.shareWith()
	c.MaxFileBytes = in.maxFileBytes()
	c.Creds = in.credentials()
	return c, errors.Join(in.errs...)
}

// inputs reads the action's inputs and gathers what is wrong with them.
type inputs struct {
	getenv func(string) string
	errs   []error
}

func (in *inputs) fail(err error) { in.errs = append(in.errs, err) }

// str is input name, or def when it is not given.
func (in *inputs) str(name, def string) string {
	if v := input(in.getenv, name); v != "" {
		return v
	}
	return def
}

func (in *inputs) boolean(name string, def bool) bool {
	v := in.str(name, strconv.FormatBool(def))
	b, err := strconv.ParseBool(v)
	if err != nil {
		in.fail(fmt.Errorf("input %s must be true or false, got %q", name, v))
	}
	return b
}

func (in *inputs) duration(name string) time.Duration {
	v := in.str(name, "")
	d, err := parseMinutes(v)
	if err != nil {
		in.fail(fmt.Errorf("input %s must be minutes (e.g. 45) or a duration (e.g. 90s, 1h30m), 0 for no limit; got %q", name, v))
	}
	return d
}

func (in *inputs) checkMode(mode string) {
	switch mode {
	case ModeBuild, ModeQuickstart, ModeFull, ModeComment:
	default:
		in.fail(fmt.Errorf("input mode must be build, quickstart, full or comment, got %q", mode))
	}
}

// sampleSize is quickstart-sample-size (0: not given); the old name sample-size is an error.
func (in *inputs) sampleSize() int {
	n := 0
	if v := in.str("quickstart-sample-size", ""); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		if err != nil || n <= 0 {
			in.fail(fmt.Errorf("input quickstart-sample-size must be a positive whole number of rows, got %q", v))
		}
	}
	if v := in.str("sample-size", ""); v != "" {
		in.fail(fmt.Errorf("input sample-size was renamed quickstart-sample-size: it sets the rows the Quick Start samples (SAMPLE_SIZE) and no other step; got %q", v))
	}
	return n
}

// timeBudget is time-budget-minutes (0: not given).
func (in *inputs) timeBudget() time.Duration {
	v := in.str("time-budget-minutes", "")
	if v == "" {
		return 0
	}
	m, err := strconv.ParseFloat(v, 64)
	if err != nil || m <= 0 {
		in.fail(fmt.Errorf("input time-budget-minutes must be a positive number of minutes, got %q", v))
	}
	return time.Duration(m * float64(time.Minute))
}

// shareWith is share-with, each address with share-role.
func (in *inputs) shareWith() []drive.Grant {
	g, err := drive.ParseShareWith(in.str("share-with", ""), in.str("share-role", "reader"))
	if err != nil {
		in.fail(fmt.Errorf("input %w", err))
		return nil
	}
	return g
}

// maxFileBytes is max-file-mb in bytes; 0 or less means no cap (-1).
func (in *inputs) maxFileBytes() int64 {
	mb, err := strconv.ParseFloat(in.str("max-file-mb", "100"), 64)
	if err != nil {
		in.fail(fmt.Errorf("input max-file-mb must be a number of MiB, got %q", in.str("max-file-mb", "")))
	}
	if mb <= 0 {
		return -1
	}
	return int64(mb * (1 << 20))
}

// credentials are the Drive credentials given as inputs, completed from the environment.
func (in *inputs) credentials() drive.Credentials {
	creds := drive.Credentials{
		ClientID:     in.str("oauth-client-id", ""),
		ClientSecret: in.str("oauth-client-secret", ""),
		RefreshToken: in.str("oauth-refresh-token", ""),
		AccessToken:  in.str("access-token", ""),
	}
	if j := in.str("credentials", ""); j != "" {
		creds.JSON, creds.Source = []byte(j), "the credentials input"
	}
	creds, err := drive.CredentialsFromEnv(creds, in.getenv)
	if err != nil {
		in.fail(err)
	}
	return creds
}

// parseMinutes reads "" (0: not given), "0" (no limit: -1), a number of
// minutes ("45", "1.5") or a Go duration ("90s", "1h30m").
func parseMinutes(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if m, err := strconv.ParseFloat(v, 64); err == nil {
		if m < 0 {
			return 0, errors.New("negative")
		}
		if m == 0 {
			return -1, nil
		}
		return time.Duration(m * float64(time.Minute)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("not a duration")
	}
	if d == 0 {
		return -1, nil
	}
	return d, nil
}

type runner struct {
	d      Deps
	gh     *githubactions.Action
	red    *redact.Redactor
	log    *redact.Writer
	cfg    Config
	ctx    runContext
	pr     pullRequest
	rep    prcomment.Report
	failed bool

	notebook  string
	published string // drive, local, skipped
	fileID    string
	metrics   *Metrics
	executed  bool // the notebook's cells ran to the end
}

// Run executes the action and returns the process exit code.
func Run(ctx context.Context, d Deps) int {
	if d.Getenv == nil {
		panic("action.Run: Deps.Getenv is nil")
	}
	raw := d.Out
	if raw == nil {
		raw = io.Discard
	}
	cfg, cfgErr := readConfig(d.Getenv)
	secrets := knownSecrets(cfg, d.Environ)
	// Mask first, on the raw log (the runner needs the value to mask it); from
	// then on every line goes through the redactor.
	masker := githubactions.New(githubactions.WithGetenv(d.Getenv), githubactions.WithWriter(raw))
	for _, s := range secrets {
		masker.AddMask(s)
	}
	red := redact.New(secrets...)
	log := red.Writer(raw)
	defer log.Flush()
	r := &runner{
		d: d, red: red, log: log, published: "skipped",
		gh: githubactions.New(githubactions.WithGetenv(d.Getenv), githubactions.WithWriter(log)),
	}
	if cfgErr != nil {
		for _, e := range unjoin(cfgErr) {
			r.gh.Errorf("%v", e)
		}
		return 1
	}
	r.cfg = cfg
	if r.d.Pipeline == nil {
		r.d.Pipeline = InProcess{Python: cfg.Python}
	}
	var err error
	r.ctx, err = readContext(d.Getenv)
	if err != nil {
		r.gh.Errorf("%v", err)
		r.report()
		return 1
	}
	if cfg.Mode == ModeComment {
		return r.commentFromReport(ctx)
	}
	return r.run(ctx)
}

// credentialName matches environment variables holding credentials the action
// (or the runner) has: their values are redacted wherever they turn up.
var credentialName = regexp.MustCompile(`(?i)token|secret|passw|credential|private_key|api_key`)

func knownSecrets(cfg Config, environ func() []string) []string {
	out := append(cfg.Creds.Secrets(), cfg.GitHubToken)
	if environ != nil {
		for _, kv := range environ() {
			k, v, _ := strings.Cut(kv, "=")
			if !credentialName.MatchString(k) || strings.HasPrefix(v, "http") || strings.HasPrefix(v, "/") {
				continue // URLs and file paths beside the tokens are not secrets
			}
			out = append(out, v)
		}
	}
	var keep []string
	seen := map[string]bool{}
	for _, s := range out {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			keep = append(keep, s)
		}
	}
	return keep
}

func (r *runner) run(ctx context.Context) int {
	cfg := r.cfg
	r.pr = r.ctx.Event.pr()
	r.rep = prcomment.Report{Mode: cfg.Mode, Commit: r.ctx.SHA, Runner: r.runnerInfo(ctx)}
	if r.pr.HeadSHA != "" {
		// GITHUB_SHA of a pull_request run is a merge commit nobody pushed.
		r.rep.Commit = r.pr.HeadSHA
	}
	if r.ctx.RunID > 0 && r.ctx.Repository != "" {
		r.rep.RunURL = fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(r.ctx.ServerURL, "/"), r.ctx.Repository, r.ctx.RunID)
		r.rep.RunLabel = strings.TrimSpace(fmt.Sprintf("%s #%d", r.ctx.Workflow, r.ctx.RunNumber))
	}
	r.gh.Infof("event %s, mode %s, pull request %s, runner %s", orNone(r.ctx.EventName), cfg.Mode, prLabel(r.pr), r.rep.Runner)
	if err := r.refuseUntrusted(); err != nil {
		r.fail("", 0, err.Error())
		r.rep.PublishMsg = "Not run: " + err.Error()
		r.report()
		return 1
	}

	if r.closing() {
		return r.closePR(ctx)
	}
	ok := r.pipeline(ctx)
	r.redactFiles()
	r.publish(ctx, ok)
	r.writeReport()
	r.comment(ctx)
	r.report()
	if r.failed {
		return 1
	}
	return 0
}

// refuseUntrusted stops pull request code from running where it must not: a
// self-hosted runner outlives the job, so code from a pull request could leave
// something behind for the next job (which may hold secrets); and a
// pull_request_target run holds the base repository's secrets, which a fork's
// code must never see.
func (r *runner) refuseUntrusted() error {
	if r.pr.Number == 0 {
		return nil
	}
	if strings.EqualFold(r.ctx.RunnerEnvironment, "self-hosted") {
		return fmt.Errorf("pull request #%d: pull request code is not run on a self-hosted runner (RUNNER_ENVIRONMENT=self-hosted): a persistent runner keeps what a job leaves for the next one; run pull requests on GitHub-hosted runners (set the NOTEBOOK_RUNS_ON variable to a GitHub-hosted runner label, e.g. a GPU larger runner)", r.pr.Number)
	}
	if r.ctx.EventName == "pull_request_target" && r.pr.Fork {
		return fmt.Errorf("pull request #%d from %s under pull_request_target: this run holds the repository's secrets, so a fork's notebook is not run here; use the pull_request event (forks then get their comment through the notebook-comment workflow)", r.pr.Number, r.pr.HeadRepo)
	}
	return nil
}

func (r *runner) pipeline(ctx context.Context) bool {
	c := r.cfg
	r.gh.Group("Build the notebook from " + c.CellsDir)
	nb, buildErr := r.d.Pipeline.Build(ctx, c.CellsDir, c.OutDir)
	r.gh.EndGroup()
	var buildProbs cellsrc.Problems
	switch {
	case errors.As(buildErr, &buildProbs):
		r.gh.Infof("the notebook does not build: %d problem(s), listed by validation below", len(buildProbs))
	case buildErr != nil:
		r.fail("", 0, "build: "+buildErr.Error())
	default:
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
		if buildErr != nil && err == nil && len(probs) == 0 {
			// Validation found nothing the builder objected to: still say why.
			r.rep.Problems = append(r.rep.Problems, Problem{Message: "the notebook does not build: " + buildErr.Error()})
		}
		if c.Mode != ModeBuild {
			r.rep.ExecErr = "not run: fix the build and validation problems first"
		}
		return false
	}
	if c.Mode == ModeBuild {
		return true
	}
	return r.execute(ctx)
}

func (r *runner) execute(ctx context.Context) bool {
	c := r.cfg
	mode := execute.ModeQuickstart
	if c.Mode == ModeFull {
		mode = execute.ModeFull
	}
	r.gh.Group("Run the notebook (" + c.Mode + ")")
	res, err := r.d.Pipeline.Execute(ctx, execute.Options{
		Mode: mode, CellsDir: c.CellsDir, OutDir: c.OutDir, ProjectRoot: c.ProjectRoot,
		DataPath: c.DataPath, SampleSize: c.QuickstartSampleSize, ModelName: c.ModelName,
		TimeBudget: c.TimeBudget, TimeoutPerCell: c.TimeoutPerCell, RunTimeout: c.RunTimeout,
		Progress: r.log,
	})
	r.gh.EndGroup()
	if res.NotebookPath != "" {
		r.gh.Infof("executed notebook: %s", res.NotebookPath)
	}
	if err != nil {
		var f *execute.Failure
		if errors.As(err, &f) {
			r.rep.Failure = r.failureOf(f)
			r.rep.ExecErr = r.rep.Failure.Headline()
			r.gh.Infof("%v", err) // the whole traceback, in the log
			r.fail(r.rep.Failure.File, r.rep.Failure.Line, r.rep.ExecErr)
			return false
		}
		// Executor and input errors carry the executor's stderr after the first line.
		first, rest, _ := strings.Cut(err.Error(), "\n")
		r.rep.ExecErr = first
		if rest != "" {
			r.gh.Infof("%s", rest)
		}
		r.fail("", 0, first)
		return false
	}
	r.executed = true
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

// failureOf turns execute's failure into the report's, with the cells/ file
// relative to the checkout so the annotation lands on the PR diff.
func (r *runner) failureOf(f *execute.Failure) *prcomment.Failure {
	out := &prcomment.Failure{
		Kind: string(f.Kind), Cell: fmt.Sprintf("%d/%d", f.Ordinal, f.Total), Section: f.Section,
		CellID: f.CellID, Traceback: f.Traceback,
	}
	if f.Timeout > 0 {
		out.Timeout = f.Timeout.String()
	}
	if f.EName != "" {
		out.Exception = f.EName + ": " + f.EValue
	}
	file, line := f.Origin, 0
	if i := strings.LastIndexByte(f.Origin, ':'); i > 0 {
		if n, err := strconv.Atoi(f.Origin[i+1:]); err == nil {
			file, line = f.Origin[:i], n
		}
	}
	if file != "" && !strings.Contains(file, " ") {
		out.File, out.Line = r.relToWorkspace(file), line
	} else {
		out.File = file // "injected parameters cell (from the run flags)"
	}
	return out
}

// redactFiles removes credentials from everything the run wrote that can leave
// the runner: the built and executed notebooks (uploaded as artifacts) and
// PROJECT_ROOT (published to Drive). Notebook code may have found a credential
// in a parent process's environment and printed it or saved it in a file.
func (r *runner) redactFiles() {
	for _, dir := range []string{r.cfg.OutDir, r.cfg.ProjectRoot} {
		changed, err := r.red.Tree(dir)
		if err != nil {
			r.fail("", 0, "redact credentials from "+dir+": "+err.Error())
			continue
		}
		for _, p := range changed {
			r.gh.Warningf("%s contained a credential this run holds; it was replaced by *** before anything was published or uploaded", r.relToWorkspace(p))
		}
	}
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
		// Its token is read-only; the notebook-comment workflow posts the report.
		return
	case c.GitHubToken == "":
		r.gh.Warningf("no github-token: the PR comment is skipped")
		return
	}
	cm, err := r.commenter(ctx)
	if err != nil {
		r.gh.Warningf("PR comment skipped: %v", err)
		return
	}
	res, err := cm.Upsert(ctx, r.pr.Number, r.red.String(prcomment.Comment(r.rep, 0)))
	if err != nil {
		// The comment repeats what the log and summary say: losing it must not fail the build.
		r.gh.Warningf("%v", err)
		return
	}
	r.gh.Infof("PR comment %s: %s", res.Action, res.URL)
}

// commenter connects to GitHub with the github-token and learns whose
// comments are ours; a failure to learn that is an error, never a guess.
func (r *runner) commenter(ctx context.Context) (*prcomment.Commenter, error) {
	owner, repo := r.ctx.Repo()
	hc := r.d.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	gh, err := prcomment.NewClient(hc, r.ctx.APIURL, r.cfg.GitHubToken)
	if err != nil {
		return nil, err
	}
	cm := &prcomment.Commenter{Client: gh, Owner: owner, Repo: repo, Logf: r.gh.Infof}
	if cm.Author, err = cm.ResolveAuthor(ctx); err != nil {
		return nil, err
	}
	return cm, nil
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
		{"report-dir", r.reportDirIfWritten()},
	}
	// go-githubactions panics without these files; outside a runner, print instead.
	for _, o := range outputs {
		v := r.red.String(o[1])
		if r.d.Getenv("GITHUB_OUTPUT") != "" {
			r.gh.SetOutput(o[0], v)
		} else {
			r.gh.Infof("output %s=%s", o[0], v)
		}
	}
	if r.d.Getenv("GITHUB_STEP_SUMMARY") != "" && r.rep.Mode != "" {
		r.gh.AddStepSummary(r.red.String(prcomment.Summary(r.rep)))
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
