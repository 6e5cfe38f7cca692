package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prodcat/colab-notebook-action/internal/notebook"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
)

// A fork's pull_request run has a read-only token, so it cannot comment. It
// writes its report as an artifact (report.json, plus comment.md for people),
// and the notebook-comment workflow, started by workflow_run from the default
// branch, runs the action in mode comment: it reads that file as untrusted
// input (anyone can open a pull request), checks it belongs to the run that
// triggered it, and posts the sticky comment. It runs none of the PR's code.

// Artifact is report.json.
type Artifact struct {
	Version     int                   `json:"version"`
	PullRequest int                   `json:"pull_request"`
	HeadSHA     string                `json:"head_sha"`
	Mode        string                `json:"mode"`
	Built       bool                  `json:"built"`
	Validated   bool                  `json:"validated"`
	ValidErr    string                `json:"validation_error,omitempty"`
	Problems    []prcomment.Problem   `json:"problems"`
	Executed    bool                  `json:"executed"`
	ExecErr     string                `json:"execution_error,omitempty"`
	Failure     *prcomment.Failure    `json:"failure,omitempty"`
	QuickStart  *prcomment.QuickStart `json:"quickstart,omitempty"`
	Models      []prcomment.ModelRow  `json:"models,omitempty"`
	Runner      string                `json:"runner"`
}

// ArtifactFile is the report's name inside report-dir.
const ArtifactFile = "report.json"

// Limits on what a report may bring in; past them it is cut, or refused.
const (
	maxArtifactBytes = 1 << 20
	maxProblems      = 200
	maxModels        = 50
	maxShort         = 300      // names, paths, sections, devices
	maxMessage       = 1000     // a validation message
	maxTraceback     = 32 << 10 // the comment keeps the end of a longer one anyway
)

func (r *runner) reportDirIfWritten() string {
	if _, err := os.Stat(filepath.Join(r.cfg.ReportDir, ArtifactFile)); err == nil && r.pr.Number > 0 {
		return r.cfg.ReportDir
	}
	return ""
}

// happened says what this run did, for the fork message.
type happened struct{ built, validated, problems, executed bool }

func (r *runner) happened() happened {
	return happened{built: r.notebook != "", validated: r.rep.Validated, problems: len(r.rep.Problems) > 0 || r.rep.ValidErr != "", executed: r.executed}
}

// forkMessage says exactly what a fork's run did in its mode, that nothing was
// published, why, and how a maintainer can publish a preview.
func forkMessage(mode string, h happened, pr pullRequest) string {
	var did string
	run := map[string]string{ModeQuickstart: "its Quick Start", ModeFull: "the whole notebook"}[mode]
	switch {
	case !h.built && !h.validated:
		did = "the notebook could not be built or validated"
	case !h.built || h.problems || !h.validated:
		did = "the notebook was checked and has build or validation problems (listed below), so nothing was executed"
	case mode == ModeBuild:
		did = "the notebook was built and validated (mode build: nothing was executed)"
	case h.executed:
		did = "the notebook was built and validated, and " + run + " ran on the runner"
	default:
		did = "the notebook was built and validated; " + run + " did not finish (see below)"
	}
	return fmt.Sprintf("This pull request comes from a fork (%s), whose runs get no secrets: %s. "+
		"Nothing was published to Google Drive: forks get no Drive preview, because a fork's notebook is code that would run with the reviewer's Drive mounted. "+
		"To publish one after reviewing the code, a maintainer can push the PR's head to a branch here "+
		"(`git fetch origin pull/%d/head:pr-%d && git push origin pr-%d`) and run the notebook-full workflow on that branch.",
		pr.HeadRepo, did, pr.Number, pr.Number, pr.Number)
}

// writeReport leaves report.json and comment.md in report-dir for a pull
// request's run; a fork's workflow uploads them as an artifact.
func (r *runner) writeReport() {
	if r.pr.Number == 0 {
		return
	}
	h := r.happened()
	a := Artifact{
		Version: 1, PullRequest: r.pr.Number, HeadSHA: r.pr.HeadSHA, Mode: r.cfg.Mode,
		Built: h.built, Validated: r.rep.Validated, ValidErr: r.rep.ValidErr, Problems: r.rep.Problems,
		Executed: h.executed, ExecErr: r.rep.ExecErr, Failure: r.rep.Failure,
		QuickStart: r.rep.QuickStart, Models: r.rep.Models, Runner: r.rep.Runner,
	}
	b, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		r.gh.Warningf("report not written: %v", err)
		return
	}
	if err := os.MkdirAll(r.cfg.ReportDir, 0o755); err != nil {
		r.gh.Warningf("report not written: %v", err)
		return
	}
	files := map[string]string{
		ArtifactFile: string(b),
		"comment.md": prcomment.Comment(r.rep, 0),
	}
	for name, text := range files {
		if err := notebook.WriteFileAtomic(filepath.Join(r.cfg.ReportDir, name), []byte(r.red.String(text))); err != nil {
			r.gh.Warningf("report not written: %v", err)
			return
		}
	}
	r.gh.Infof("report written to %s", r.cfg.ReportDir)
}

// ReadArtifact reads report.json from dir as untrusted input: it refuses a
// file over 1 MiB, cuts long texts and lists, and drops numbers that are not
// metrics. Escaping happens when the comment is rendered, as for every run.
func ReadArtifact(dir string) (*Artifact, error) {
	p := filepath.Join(dir, ArtifactFile)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read the report: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxArtifactBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the report: %w", err)
	}
	if len(b) > maxArtifactBytes {
		return nil, fmt.Errorf("the report %s is over %d bytes: not read", p, maxArtifactBytes)
	}
	var a Artifact
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, &withCause{fmt.Sprintf("the report %s is not the expected JSON: %v", p, oneLineErr(err)), err}
	}
	a.sanitize()
	return &a, nil
}

func (a *Artifact) sanitize() {
	switch a.Mode {
	case ModeBuild, ModeQuickstart, ModeFull:
	default:
		a.Mode = ModeQuickstart
	}
	a.HeadSHA = clip(a.HeadSHA, 64)
	a.ValidErr, a.ExecErr, a.Runner = clip(a.ValidErr, maxMessage), clip(a.ExecErr, maxMessage), clip(a.Runner, maxShort)
	if len(a.Problems) > maxProblems {
		a.Problems = a.Problems[:maxProblems]
	}
	for i := range a.Problems {
		p := &a.Problems[i]
		p.File, p.Message, p.Line = clip(p.File, maxShort), clip(p.Message, maxMessage), clamp(p.Line)
	}
	if len(a.Models) > maxModels {
		a.Models = a.Models[:maxModels]
	}
	for i := range a.Models {
		m := &a.Models[i]
		m.Model = clip(m.Model, maxShort)
		m.Accuracy, m.MacroF1, m.WeightedF1, m.Top3Acc = metric(m.Accuracy), metric(m.MacroF1), metric(m.WeightedF1), metric(m.Top3Acc)
	}
	if q := a.QuickStart; q != nil {
		q.Accuracy, q.MacroF1 = metric(q.Accuracy), metric(q.MacroF1)
		if math.IsNaN(q.TrainSeconds) || math.IsInf(q.TrainSeconds, 0) || q.TrainSeconds < 0 || q.TrainSeconds > 1e7 {
			q.TrainSeconds = math.NaN()
		}
		q.NTrain, q.NTest, q.NClasses, q.NRows = clamp(q.NTrain), clamp(q.NTest), clamp(q.NClasses), clamp(q.NRows)
		q.Device, q.Dataset, q.DataSource = clip(q.Device, maxShort), clip(q.Dataset, maxShort), clip(q.DataSource, maxShort)
	}
	if f := a.Failure; f != nil {
		f.Kind, f.Cell, f.Section, f.File = clip(f.Kind, 20), clip(f.Cell, 20), clip(f.Section, maxShort), clip(f.File, maxShort)
		f.CellID, f.Exception, f.Timeout, f.Line = clip(f.CellID, 64), clip(f.Exception, 2000), clip(f.Timeout, 20), clamp(f.Line)
		if len(f.Traceback) > maxTraceback {
			f.Traceback = "… (the report's traceback was cut to its last 32 KiB)\n" + strings.ToValidUTF8(f.Traceback[len(f.Traceback)-maxTraceback:], "")
		}
		f.Traceback = strings.ToValidUTF8(f.Traceback, "�")
	}
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "�")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func clamp(n int) int { return max(0, min(n, 1_000_000_000)) }

// metric keeps a score in [0, 1]; anything else is shown as "–".
func metric(v float64) float64 {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return math.NaN()
	}
	return v
}

// commentFromReport is mode comment, run by workflow_run after a fork's
// pull_request run: it posts that run's report on its pull request.
func (r *runner) commentFromReport(ctx context.Context) int {
	wr := r.ctx.Event.WorkflowRun
	if r.ctx.EventName != "workflow_run" || wr == nil {
		r.gh.Errorf("mode comment runs on the workflow_run event (after a pull request's run), not on %s", orNone(r.ctx.EventName))
		return 1
	}
	if wr.Event != "pull_request" {
		r.gh.Infof("the run that finished (%s) served a %s event, not a pull request: nothing to post", wr.HTMLURL, wr.Event)
		return 0
	}
	if strings.EqualFold(wr.HeadRepository.FullName, r.ctx.Repository) {
		r.gh.Infof("the pull request's head is in this repository: its own run posted the comment")
		return 0
	}
	a, err := ReadArtifact(r.cfg.ReportDir)
	if err != nil {
		r.gh.Errorf("%v (the pull request's run %s may have stopped before writing it: see its log)", err, wr.HTMLURL)
		return 1
	}
	if a.PullRequest <= 0 {
		r.gh.Errorf("the report names no pull request: nothing was posted")
		return 1
	}
	cm, err := r.commenter(ctx)
	if err != nil {
		r.gh.Errorf("%v", err)
		return 1
	}
	// The number comes from the fork's own files: believe it only if GitHub
	// says that pull request's head is the commit and repository the
	// triggering run built.
	sha, repo, err := cm.PullHead(ctx, a.PullRequest)
	if err != nil {
		r.gh.Errorf("%v", err)
		return 1
	}
	if sha != wr.HeadSHA || !strings.EqualFold(repo, wr.HeadRepository.FullName) {
		r.gh.Errorf("the report names pull request #%d, whose head is %s in %s, but the run that wrote it built %s in %s: nothing was posted",
			a.PullRequest, short(sha), orNone(repo), short(wr.HeadSHA), wr.HeadRepository.FullName)
		return 1
	}
	pr := pullRequest{Number: a.PullRequest, HeadSHA: wr.HeadSHA, Fork: true, HeadRepo: wr.HeadRepository.FullName}
	h := happened{built: a.Built, validated: a.Validated, problems: len(a.Problems) > 0 || a.ValidErr != "", executed: a.Executed}
	rep := prcomment.Report{
		Mode: a.Mode, Commit: wr.HeadSHA, RunURL: wr.HTMLURL, RunLabel: fmt.Sprintf("%s #%d", wr.Name, wr.RunNumber),
		PublishMsg: forkMessage(a.Mode, h, pr), Runner: a.Runner,
		Validated: a.Validated, Problems: a.Problems, ValidErr: a.ValidErr,
		QuickStart: a.QuickStart, Models: a.Models, ExecErr: a.ExecErr, Failure: a.Failure,
	}
	res, err := cm.Upsert(ctx, pr.Number, r.red.String(prcomment.Comment(rep, 0)))
	if err != nil {
		r.gh.Errorf("%v", err)
		return 1
	}
	r.gh.Infof("PR comment %s from the fork's report: %s", res.Action, res.URL)
	if r.d.Getenv("GITHUB_STEP_SUMMARY") != "" {
		r.gh.AddStepSummary(r.red.String(prcomment.Summary(rep)))
	}
	return 0
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return orNone(sha)
}

// runnerInfo names the machine for the comment: where it runs (GitHub-hosted
// or self-hosted), its OS and architecture, and its GPU.
func (r *runner) runnerInfo(ctx context.Context) string {
	where := r.ctx.RunnerEnvironment
	switch where {
	case "github-hosted":
		where = "GitHub-hosted"
	case "":
		where = "local"
	}
	osName, arch := r.ctx.RunnerOS, r.ctx.Arch
	if osName == "" {
		osName, arch = runtime.GOOS, runtime.GOARCH
	}
	gpu := r.gpu(ctx)
	if gpu == "" {
		gpu = "none"
	}
	return fmt.Sprintf("%s, %s %s, GPU: %s", where, osName, arch, gpu)
}

func (r *runner) gpu(ctx context.Context) string {
	if r.d.GPU != nil {
		return r.d.GPU(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name", "--format=csv,noheader").Output()
	if err != nil {
		if !errors.Is(err, exec.ErrNotFound) {
			r.gh.Infof("nvidia-smi: %v", err)
		}
		return ""
	}
	names := strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ","))
	return strings.Join(names, " ")
}
