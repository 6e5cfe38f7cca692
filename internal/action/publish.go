package action

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/prodcat/colab-notebook-action/internal/drive"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
)

// Publishing: which folder a run writes (its target), the publish itself, the
// comparison with the default branch, and a closed pull request's cleanup.

// target is where this run publishes: a pull request's own ci/pr-<N>/, or the
// pushed branch's ci/<branch>/ (the default branch also writes the top notebook).
func (r *runner) target() drive.Target {
	if r.pr.Number > 0 {
		return drive.PRTarget(r.pr.Number)
	}
	ref := r.ctx.Ref
	branch, isBranch := strings.CutPrefix(ref, "refs/heads/")
	if !isBranch {
		// A tag or another ref never publishes the top notebook.
		return drive.BranchTarget(strings.TrimPrefix(ref, "refs/"), "")
	}
	return drive.BranchTarget(branch, r.ctx.Event.Repository.DefaultBranch)
}

// runRecord is what ci/<ref>/run/ci_run.json says about a run; a pull request's
// comment reads the default branch's as its baseline.
type runRecord struct {
	Ref         string                `json:"ref"`
	Commit      string                `json:"commit"`
	PullRequest int                   `json:"pull_request,omitempty"`
	RunURL      string                `json:"run_url,omitempty"`
	Mode        string                `json:"mode"`
	QuickStart  *prcomment.QuickStart `json:"quickstart"`
	Models      []map[string]any      `json:"models"`
}

func (r *runner) record(t drive.Target) []byte {
	rec := runRecord{Ref: t.Ref, Commit: r.rep.Commit, PullRequest: t.PR, RunURL: r.rep.RunURL, Mode: r.cfg.Mode, Models: []map[string]any{}}
	if r.metrics != nil {
		rec.QuickStart, rec.Models = r.metrics.QuickStart, r.metrics.Models
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil
	}
	// The metrics are the notebook's output (pull request code): redacted like every file.
	return append([]byte(r.red.String(string(b))), '\n')
}

// openPublisher connects to the Drive folder, or to the local stand-in when no
// credentials reached the run (saying so when a folder-id was set).
func (r *runner) openPublisher(ctx context.Context) (*drive.Publisher, error) {
	c := r.cfg
	creds := c.Creds
	creds.TokenURL = r.d.TokenURL
	opts := drive.Options{
		FolderID: c.FolderID, LocalRoot: c.LocalDriveRoot, Share: c.Share, ShareWith: c.ShareWith,
		Endpoint: r.d.DriveEndpoint, HTTPClient: r.d.HTTPClient, Backoff: r.d.DriveBackoff, Logf: r.gh.Infof,
	}
	if creds.Empty() {
		if c.FolderID != "" {
			r.gh.Warningf("folder-id is set but no Google credentials reached this run (are the secrets defined, and is this not a Dependabot or fork run?); publishing to the local folder %s instead", drive.LocalProjectRoot(c.LocalDriveRoot))
		}
		opts.FolderID = ""
	}
	return drive.Open(ctx, creds, opts)
}

func (r *runner) publish(ctx context.Context, ok bool) {
	c := r.cfg
	switch {
	case r.pr.Fork:
		r.rep.PublishMsg = forkMessage(c.Mode, r.happened(), r.pr)
		r.gh.Infof("Pull request from a fork (%s): its run gets no secrets, so nothing is published to Google Drive; the report is written to %s for the notebook-comment workflow to post.", r.pr.HeadRepo, c.ReportDir)
		return
	case !ok:
		r.rep.PublishMsg = "Not published: the notebook must build, validate and run first."
		r.gh.Infof("publish skipped: an earlier step failed")
		return
	}
	t := r.target()
	if !t.Default && r.pr.Number == 0 && r.ctx.Event.Repository.DefaultBranch == "" {
		r.gh.Warningf("the event payload names no repository.default_branch: this run publishes to %s/ only, never the top notebook", t.Dir())
	}
	plan, err := drive.BuildPlan(drive.Sources{
		ProjectRoot: existingDir(c.ProjectRoot), Notebook: r.notebook,
		SrcDir: existingDir(filepath.Join(c.OutDir, "src")), Record: r.record(t), MaxFileBytes: c.MaxFileBytes,
	}, t)
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
	group := "Publish to " + t.Dir() + "/"
	if t.Default {
		group += " and the top notebook"
	}
	r.gh.Group(group)
	defer r.gh.EndGroup()
	pub, err := r.openPublisher(ctx)
	if err != nil {
		r.rep.PublishMsg = "Publishing to Google Drive failed: " + err.Error()
		r.fail("", 0, "publish to Google Drive: "+err.Error())
		return
	}
	if !t.Default {
		r.compare(ctx, pub)
	}
	rep, err := pub.Publish(ctx, plan)
	if err != nil {
		if pub.Kind() == "local" {
			r.rep.PublishMsg = "Not published: " + err.Error()
			r.fail("", 0, "publish: "+err.Error())
		} else {
			r.rep.PublishMsg = "Publishing to Google Drive failed: " + err.Error()
			r.fail("", 0, "publish to Google Drive: "+err.Error())
		}
		return
	}
	for _, w := range rep.Warnings {
		r.gh.Warningf("%s", w)
	}
	pubd := &prcomment.Publication{NotOurs: rep.NotOurs}
	for _, k := range rep.Kept {
		pubd.Kept = append(pubd.Kept, prcomment.KeptCopy{File: k.Rel, Saved: k.Modified, Where: k.Where})
		r.gh.Infof("%s had changes saved since the action last wrote it; that version is kept: %s", k.Rel, k.Where)
	}
	if !t.Default && rep.Target == "drive" {
		pubd.Dir, pubd.PR = t.Dir(), t.PR > 0
	}
	r.rep.Published = pubd
	r.published = rep.Target
	if rep.Target == "local" {
		r.rep.PublishMsg = fmt.Sprintf("Not published to Google Drive (no credentials configured); copied to `%s` on the runner (`%s/`).", rep.Root, t.Dir())
		r.gh.Infof("published locally to %s (%s)", rep.Root, t.Dir())
		return
	}
	r.fileID = rep.Notebook.ID
	r.rep.ColabURL = rep.Notebook.URL
	r.rep.FolderURL = rep.FolderURL
	if !t.Default {
		pubd.TopURL = rep.Top.URL
	}
	r.gh.Infof("Colab: %s", rep.Notebook.URL)
	if !t.Default {
		r.gh.Infof("this is %s's own notebook (PROJECT_ROOT %s); the default branch's notebook, unchanged: %s", t.Ref, rep.Notebook.MountPath, orNone(rep.Top.URL))
	}
}

// compare reads the default branch's last published run as this run's baseline.
func (r *runner) compare(ctx context.Context, pub *drive.Publisher) {
	base := r.ctx.Event.Repository.DefaultBranch
	if base == "" || r.metrics == nil || r.metrics.QuickStart == nil {
		return
	}
	ref := drive.BranchTarget(base, base).Ref
	cmp := &prcomment.Comparison{BaseRef: base, Record: path.Join(drive.CIDir, ref, drive.RunDir, drive.RunRecord)}
	r.rep.Compare = cmp
	b, err := pub.ReadRecord(ctx, ref)
	if err != nil {
		r.gh.Warningf("the %s baseline could not be read (%v): the comment shows none", base, err)
		return
	}
	if b == nil {
		r.gh.Infof("no baseline yet: %s has no published run in %s", base, cmp.Record)
		return
	}
	var rec runRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.QuickStart == nil {
		r.gh.Warningf("%s is not a run record with Quick Start metrics: no baseline", cmp.Record)
		return
	}
	cmp.Base, cmp.BaseCommit = rec.QuickStart, rec.Commit
	r.gh.Infof("baseline: %s at %s, accuracy %.4f", base, short(rec.Commit), rec.QuickStart.Accuracy)
}

// closing says whether this run serves a pull request that was just closed
// (merged or not): it builds and runs nothing, it cleans up.
func (r *runner) closing() bool {
	return r.pr.Number > 0 && r.ctx.Event.Action == "closed"
}

// closePR moves the pull request's preview folder to the trash (recoverable) and
// edits the sticky comment to say so.
func (r *runner) closePR(ctx context.Context) int {
	t := drive.PRTarget(r.pr.Number)
	closed := &prcomment.Closed{Dir: t.Dir()}
	r.rep.Closed = closed
	r.gh.Infof("pull request #%d was closed: its preview folder %s/ goes to the trash", r.pr.Number, t.Dir())
	code := 0
	if r.pr.Fork {
		closed.Note = "It came from a fork, whose runs publish no preview: there was nothing to remove."
		r.gh.Infof("pull request from a fork (%s): no preview was published, nothing to trash", r.pr.HeadRepo)
	} else if err := r.trashPreview(ctx, t, closed); err != nil {
		closed.Note = "Its preview folder could not be moved to the trash: " + err.Error()
		r.fail("", 0, "close the preview: "+err.Error())
		code = 1
	}
	r.comment(ctx)
	r.report()
	return code
}

func (r *runner) trashPreview(ctx context.Context, t drive.Target, closed *prcomment.Closed) error {
	pub, err := r.openPublisher(ctx)
	if err != nil {
		return err
	}
	cr, err := pub.ClosePreview(ctx, t)
	if err != nil {
		return err
	}
	closed.Trashed, closed.Where = cr.Trashed, cr.Where
	switch {
	case cr.Trashed:
		r.gh.Infof("%s/ moved to %s", t.Dir(), cr.Where)
	case cr.NotOurs:
		closed.Note = fmt.Sprintf("A folder %s/ exists but was not created by this action, so it was left where it is.", t.Dir())
		r.gh.Warningf("%s/ was not created by this action: left where it is", t.Dir())
	default:
		r.gh.Infof("%s/ does not exist: nothing to trash", t.Dir())
	}
	if pub.Kind() == "drive" {
		closed.TopURL = cr.Top.URL
	}
	var rec runRecord
	if cr.Record != nil && json.Unmarshal(cr.Record, &rec) == nil {
		closed.Last, closed.LastCommit = rec.QuickStart, rec.Commit
	}
	return nil
}
