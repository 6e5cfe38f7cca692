package drive

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

// snapshot is every stored file's ID -> version, content and trash state.
func snapshot(srv *drivetest.Server) map[string]drivetest.File {
	out := map[string]drivetest.File{}
	for _, f := range srv.Files("") {
		out[f.ID] = f
	}
	return out
}

// changed lists the files of before that a later snapshot shows written or trashed.
func changed(before, after map[string]drivetest.File) []string {
	var out []string
	for id, b := range before {
		a := after[id]
		if a.Version != b.Version || a.Trashed != b.Trashed || a.Name != b.Name {
			out = append(out, id+" "+b.Name)
		}
	}
	return out
}

func mustLookup(t *testing.T, srv *drivetest.Server, rel string) drivetest.File {
	t.Helper()
	f, ok := srv.Lookup(folderID, rel)
	if !ok {
		t.Fatalf("%s not on Drive", rel)
	}
	return f
}

// Notebook source lines of the published file, to read its parameters.
func sourceOf(t *testing.T, content []byte) string {
	t.Helper()
	var nb struct {
		Cells []struct {
			Source []string `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(content, &nb); err != nil {
		t.Fatalf("published notebook is not JSON: %v", err)
	}
	return strings.Join(nb.Cells[0].Source, "")
}

func TestUserFilesWithArtifactNamesAreUntouched(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	write(t, filepath.Join(fx.project, "NOTES.md"), "# CI notes")
	write(t, filepath.Join(fx.project, "summary.txt"), "CI summary")
	// The user's own Colab runs wrote these at the top; one of theirs even sits where
	// the CI run's copy goes.
	srv.AddFolder("user-results", "results", folderID, "", true)
	userMetrics := srv.AddFile("quickstart_metrics.json", "user-results", "application/json", []byte(`{"accuracy": 0.71}`), nil)
	userNotes := srv.AddFile("NOTES.md", folderID, "text/markdown", []byte("my notes"), nil)
	userSummary := srv.AddFile("summary.txt", folderID, "text/plain", []byte("my summary"), nil)
	srv.AddFolder("user-ci", "ci", folderID, "", true)
	srv.AddFolder("user-ci-main", "main", "user-ci", "", true)
	srv.AddFolder("user-ci-run", "run", "user-ci-main", "", true)
	planted := srv.AddFile("summary.txt", "user-ci-run", "text/plain", []byte("planted"), nil)
	before := snapshot(srv)

	log := &logBuf{}
	rep, err := publish(t, srv, oauthCreds(srv), testOptions(srv, log), fx.sources())
	if err != nil {
		t.Fatal(err)
	}
	if c := changed(before, snapshot(srv)); len(c) > 0 {
		t.Errorf("files the action did not create were changed: %v", c)
	}
	for id, want := range map[string]string{userMetrics: `{"accuracy": 0.71}`, userNotes: "my notes", userSummary: "my summary", planted: "planted"} {
		if f, _ := srv.File(id); string(f.Content) != want || len(f.AppProperties) != 0 {
			t.Errorf("%s: %q %v", f.Name, f.Content, f.AppProperties)
		}
	}
	if len(rep.NotOurs) != 1 || rep.NotOurs[0] != "ci/main/run/summary.txt" {
		t.Errorf("NotOurs = %v", rep.NotOurs)
	}
	texttest.Contains(t, "warnings", strings.Join(rep.Warnings, "\n"), "left untouched: ci/main/run/summary.txt already exists and was not created by this action")
	if notes := mustLookup(t, srv, "ci/main/run/NOTES.md"); string(notes.Content) != "# CI notes" {
		t.Errorf("the run's NOTES.md = %q", notes.Content)
	}
}

func TestPullRequestNeverChangesTheTopNotebook(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	opts := testOptions(srv, &logBuf{})
	main1, err := publish(t, srv, oauthCreds(srv), opts, fx.sources())
	if err != nil {
		t.Fatal(err)
	}
	topFiles := map[string]drivetest.File{}
	for _, rel := range []string{NotebookFile, "src/config.py", "src/api/app.py"} {
		topFiles[rel] = mustLookup(t, srv, rel)
	}

	write(t, fx.notebook, strings.Replace(builtNotebook, "FORCE = False", "FORCE = True", 1))
	write(t, filepath.Join(fx.src, "config.py"), "SEED = 7\n")
	pr, err := publishTo(t, oauthCreds(srv), opts, fx.sources(), PRTarget(7))
	if err != nil {
		t.Fatal(err)
	}
	for rel, f := range topFiles {
		if now := mustLookup(t, srv, rel); now.Version != f.Version || now.ID != f.ID {
			t.Errorf("the pull request run changed %s (version %d -> %d)", rel, f.Version, now.Version)
		}
	}
	prNB := mustLookup(t, srv, "ci/pr-7/"+NotebookFile)
	if pr.Notebook.ID != prNB.ID || pr.Notebook.ID == main1.Notebook.ID || pr.Top.ID != main1.Notebook.ID {
		t.Errorf("links: notebook %+v top %+v; stored preview %s", pr.Notebook, pr.Top, prNB.ID)
	}
	src := sourceOf(t, prNB.Content)
	texttest.Contains(t, "preview parameters", src,
		`PROJECT_ROOT_OVERRIDE = "/content/drive/MyDrive/product_categorization_project/ci/pr-7"  # outside Colab: where artifacts go`,
		`PARENT_PROJECT_ROOT = "/content/drive/MyDrive/product_categorization_project"  # a preview's parent`,
		"FORCE = True")
	if pr.Notebook.MountPath != "/content/drive/MyDrive/product_categorization_project/ci/pr-7" {
		t.Errorf("mount path %q", pr.Notebook.MountPath)
	}
	if cfg := mustLookup(t, srv, "ci/pr-7/src/config.py"); string(cfg.Content) != "SEED = 7\n" {
		t.Errorf("the preview's src/config.py = %q", cfg.Content)
	}
	if _, ok := srv.Lookup(folderID, "ci/pr-7/run/results/quickstart_metrics.json"); !ok {
		t.Error("the pull request's run artifacts are not under ci/pr-7/run/")
	}
}

func TestSamePullRequestUpdatesTheSameFiles(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	opts := testOptions(srv, &logBuf{})
	first, err := publishTo(t, oauthCreds(srv), opts, fx.sources(), PRTarget(7))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, f := range first.Files {
		ids[f.Rel] = f.ID
	}
	count := len(srv.Files(""))
	write(t, filepath.Join(fx.project, "results", "quickstart_metrics.json"), `{"accuracy": 0.95}`)
	write(t, fx.notebook, strings.Replace(builtNotebook, "FORCE = False", "FORCE = True", 1))
	second, err := publishTo(t, oauthCreds(srv), opts, fx.sources(), PRTarget(7))
	if err != nil {
		t.Fatal(err)
	}
	if second.Notebook.ID != first.Notebook.ID || second.Notebook.URL != first.Notebook.URL {
		t.Errorf("the preview's link changed: %s -> %s", first.Notebook.URL, second.Notebook.URL)
	}
	for _, f := range second.Files {
		if ids[f.Rel] != f.ID {
			t.Errorf("%s: file ID %s -> %s", f.Rel, ids[f.Rel], f.ID)
		}
	}
	if n := len(srv.Files("")); n != count {
		t.Errorf("%d files after the second push, %d before: duplicates", n, count)
	}
	if m := mustLookup(t, srv, "ci/pr-7/run/results/quickstart_metrics.json"); string(m.Content) != `{"accuracy": 0.95}` {
		t.Errorf("metrics not updated: %q", m.Content)
	}
}

func TestInterleavedPullRequestsKeepToTheirFolders(t *testing.T) {
	srv := newServer(t)
	fx5, fx6 := newFixture(t), newFixture(t)
	write(t, filepath.Join(fx6.project, "results", "quickstart_metrics.json"), `{"accuracy": 0.6}`)
	opts := testOptions(srv, &logBuf{})
	// One Publisher per run, as two workflow runs would have.
	push := func(fx fixture, n int) *Report {
		t.Helper()
		rep, err := publishTo(t, oauthCreds(srv), opts, fx.sources(), PRTarget(n))
		if err != nil {
			t.Fatalf("pr-%d: %v", n, err)
		}
		return rep
	}
	inside := func(f drivetest.File, n int) bool {
		dir, _ := srv.Lookup(folderID, "ci/pr-"+strconv.Itoa(n))
		for id := f.ID; id != folderID && id != ""; {
			if id == dir.ID {
				return true
			}
			p, _ := srv.File(id)
			if len(p.Parents) == 0 {
				break
			}
			id = p.Parents[0]
		}
		return false
	}
	push(fx5, 5)
	push(fx6, 6)
	for round := 0; round < 2; round++ {
		for _, n := range []int{5, 6} {
			fx := map[int]fixture{5: fx5, 6: fx6}[n]
			write(t, filepath.Join(fx.project, "results", "quickstart_metrics.json"), `{"round": `+strconv.Itoa(round)+`}`)
			before := snapshot(srv)
			push(fx, n)
			for _, id := range changed(before, snapshot(srv)) {
				f, _ := srv.File(strings.Fields(id)[0])
				if !inside(f, n) {
					t.Errorf("pr-%d's push changed %s, outside ci/pr-%d/", n, id, n)
				}
			}
		}
	}
	m5 := mustLookup(t, srv, "ci/pr-5/run/results/quickstart_metrics.json")
	m6 := mustLookup(t, srv, "ci/pr-6/run/results/quickstart_metrics.json")
	if m5.ID == m6.ID || string(m5.Content) != `{"round": 1}` || string(m6.Content) != `{"round": 1}` {
		t.Errorf("pr-5 %s %q, pr-6 %s %q", m5.ID, m5.Content, m6.ID, m6.Content)
	}
}

func TestClosePreviewTrashesExactlyThatFolder(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	opts := testOptions(srv, &logBuf{})
	ctx := context.Background()
	if _, err := publish(t, srv, oauthCreds(srv), opts, fx.sources()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{5, 6} {
		src := fx.sources()
		src.Record = []byte(`{"ref": "pr-` + strconv.Itoa(n) + `", "commit": "abc"}`)
		if _, err := publishTo(t, oauthCreds(srv), opts, src, PRTarget(n)); err != nil {
			t.Fatal(err)
		}
	}
	pr5 := mustLookup(t, srv, "ci/pr-5")
	before := snapshot(srv)

	p, err := Open(ctx, oauthCreds(srv), opts)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := p.ClosePreview(ctx, PRTarget(5))
	if err != nil {
		t.Fatal(err)
	}
	if !cr.Trashed || cr.Folder != "ci/pr-5" || !strings.Contains(cr.Where, "trash") || string(cr.Record) != `{"ref": "pr-5", "commit": "abc"}` || cr.Top.URL == "" {
		t.Errorf("close report %+v", cr)
	}
	after := snapshot(srv)
	if f := after[pr5.ID]; !f.Trashed {
		t.Error("ci/pr-5 is not in the trash")
	}
	for id, b := range before {
		a := after[id]
		under := false
		for cur := b; ; {
			if cur.ID == pr5.ID {
				under = true
				break
			}
			if len(cur.Parents) == 0 {
				break
			}
			cur = after[cur.Parents[0]]
		}
		if a.Trashed != under {
			t.Errorf("%s (%s): trashed %v, want %v", id, b.Name, a.Trashed, under)
		}
		if a.Version != b.Version {
			t.Errorf("closing rewrote %s", b.Name)
		}
	}
	if _, ok := srv.Lookup(folderID, "ci/pr-6/"+NotebookFile); !ok {
		t.Error("pr-6's notebook went with pr-5's folder")
	}

	// A folder of that name the action did not create stays; an absent one is no error.
	srv.AddFolder("users-pr-9", "pr-9", mustLookup(t, srv, "ci").ID, "", true)
	if cr, err := p.ClosePreview(ctx, PRTarget(9)); err != nil || cr.Trashed || !cr.NotOurs {
		t.Errorf("close of someone's pr-9: %+v %v", cr, err)
	}
	if f, _ := srv.File("users-pr-9"); f.Trashed {
		t.Error("someone's pr-9 folder was trashed")
	}
	if cr, err := p.ClosePreview(ctx, PRTarget(12)); err != nil || cr.Found {
		t.Errorf("close of a pull request with no preview: %+v %v", cr, err)
	}
}

func TestUsersEditsAreKeptAsARevision(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	log := &logBuf{}
	opts := testOptions(srv, log)
	if _, err := publish(t, srv, oauthCreds(srv), opts, fx.sources()); err != nil {
		t.Fatal(err)
	}
	nb := mustLookup(t, srv, NotebookFile)
	// The user ran the notebook in Colab, which saved its outputs into the file.
	srv.SetContent(nb.ID, []byte(`{"cells": [{"outputs": ["the user's run"]}]}`))
	userRev := mustLookup(t, srv, NotebookFile).HeadRevision

	write(t, fx.notebook, strings.Replace(builtNotebook, "FORCE = False", "FORCE = True", 1))
	rep, err := publish(t, srv, oauthCreds(srv), opts, fx.sources())
	if err != nil {
		t.Fatal(err)
	}
	nb = mustLookup(t, srv, NotebookFile)
	if !strings.Contains(string(nb.Content), "FORCE = True") {
		t.Error("the notebook was not updated")
	}
	kept := 0
	for _, r := range nb.Revisions {
		if r.KeepForever {
			kept++
			if r.ID != userRev || !strings.Contains(string(r.Content), "the user's run") {
				t.Errorf("kept revision %s %q, want the user's %s", r.ID, r.Content, userRev)
			}
		}
	}
	if kept != 1 || len(rep.Kept) != 1 || rep.Kept[0].Rel != NotebookFile || !strings.Contains(rep.Kept[0].Where, "File → Revision history") || rep.Kept[0].Modified == "" {
		t.Errorf("kept %d revisions, report %+v", kept, rep.Kept)
	}
	texttest.Contains(t, "log", log.String(), "kept      "+NotebookFile, "File → Revision history")

	// The next push finds what the action wrote: nothing more to keep.
	write(t, fx.notebook, builtNotebook)
	rep, err = publish(t, srv, oauthCreds(srv), opts, fx.sources())
	if err != nil || len(rep.Kept) != 0 {
		t.Errorf("third push kept %+v (%v)", rep.Kept, err)
	}

	// When Drive refuses to keep the revision, the user's version is not written over.
	srv.SetContent(nb.ID, []byte("edited again"))
	srv.Fail(drivetest.Fault{Op: "revisions.update", Status: 403, Reason: "insufficientFilePermissions", Times: 10})
	write(t, fx.notebook, strings.Replace(builtNotebook, "FORCE = False", "FORCE = 1", 1))
	rep, err = publish(t, srv, oauthCreds(srv), opts, fx.sources())
	if err != nil {
		t.Fatal(err)
	}
	if nb := mustLookup(t, srv, NotebookFile); string(nb.Content) != "edited again" {
		t.Errorf("overwritten although its revision could not be kept: %q", nb.Content)
	}
	texttest.Contains(t, "warnings", strings.Join(rep.Warnings, "\n"), "not updated: "+NotebookFile)
}

func TestPreviewFolderPathFromAncestry(t *testing.T) {
	tests := []struct {
		name  string
		setup func(srv *drivetest.Server) string // returns the project folder's ID
		want  string
		warn  string
	}{
		{"My Drive, nested", func(srv *drivetest.Server) string {
			srv.AddFolder("work", "work", drivetest.RootID, "", true)
			srv.AddFolder("ml", "ML projects", "work", "", true)
			srv.AddFolder("proj", "prodcat", "ml", "", true)
			return "proj"
		}, "/content/drive/MyDrive/work/ML projects/prodcat", ""},
		{"shared drive", func(srv *drivetest.Server) string {
			srv.AddDrive("sd1", "Team ML")
			srv.AddFolder("sd-top", "projects", "sd1", "sd1", true)
			srv.AddFolder("sd-proj", "prodcat", "sd-top", "sd1", true)
			return "sd-proj"
		}, "/content/drive/Shareddrives/Team ML/projects/prodcat", ""},
		{"shared with the account", func(srv *drivetest.Server) string {
			srv.AddFolder("theirs", "alice's prodcat", "", "", true)
			return "theirs"
		}, "/content/drive/MyDrive/alice's prodcat", "Add shortcut"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			fx := newFixture(t)
			opts := testOptions(srv, &logBuf{})
			opts.FolderID = tc.setup(srv)
			rep, err := publishTo(t, oauthCreds(srv), opts, Sources{Notebook: fx.notebook}, PRTarget(3))
			if err != nil {
				t.Fatal(err)
			}
			nb, ok := srv.Lookup(opts.FolderID, "ci/pr-3/"+NotebookFile)
			if !ok {
				t.Fatal("no preview notebook")
			}
			texttest.Contains(t, "preview parameters", sourceOf(t, nb.Content),
				`PROJECT_ROOT_OVERRIDE = "`+tc.want+`/ci/pr-3"`, `PARENT_PROJECT_ROOT = "`+tc.want+`"`)
			warnings := strings.Join(rep.Warnings, "\n")
			if (tc.warn == "") != (warnings == "") || !strings.Contains(warnings, tc.warn) {
				t.Errorf("warnings %q, want %q", warnings, tc.warn)
			}
		})
	}
}

func TestShareWithReviewers(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	log := &logBuf{}
	opts := testOptions(srv, log)
	opts.Share = true
	var err error
	opts.ShareWith, err = ParseShareWith("ana@example.com, group:reviewers@example.com", "commenter")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publish(t, srv, oauthCreds(srv), opts, fx.sources()); err != nil {
		t.Fatal(err)
	}
	if _, err := publishTo(t, oauthCreds(srv), opts, fx.sources(), PRTarget(4)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"anyone/": "reader", "user/ana@example.com": "commenter", "group/reviewers@example.com": "commenter"}
	check := func(rel string, want map[string]string) {
		t.Helper()
		f := mustLookup(t, srv, rel)
		got := map[string]string{}
		for _, p := range f.Permissions {
			k := p.Type + "/" + p.EmailAddress
			if _, dup := got[k]; dup {
				t.Errorf("%s: %s granted twice", rel, k)
			}
			got[k] = p.Role
		}
		if len(got) != len(want) {
			t.Errorf("%s permissions %v, want %v", rel, got, want)
		}
		for k, r := range want {
			if got[k] != r {
				t.Errorf("%s: %s = %q, want %q", rel, k, got[k], r)
			}
		}
	}
	check(NotebookFile, want)
	check("ci/pr-4/"+NotebookFile, want)
	creates := srv.Count("permissions.create", "")
	if creates != 6 {
		t.Errorf("%d permissions created, want 3 on each of the two notebooks", creates)
	}

	// Pushed again: nothing is granted twice. A stronger grant someone made is kept,
	// a weaker one raised.
	top := mustLookup(t, srv, NotebookFile)
	raiseRole(t, srv, top.ID, "ana@example.com", "writer")
	raiseRole(t, srv, mustLookup(t, srv, "ci/pr-4/"+NotebookFile).ID, "ana@example.com", "reader")
	if _, err := publishTo(t, oauthCreds(srv), opts, fx.sources(), PRTarget(4)); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("permissions.create", ""); n != creates {
		t.Errorf("permissions created on the second push: %d", n-creates)
	}
	want["user/ana@example.com"] = "writer"
	check(NotebookFile, want)
	want["user/ana@example.com"] = "commenter"
	check("ci/pr-4/"+NotebookFile, want)

	// A domain policy that refuses is a warning; the publish stands.
	srv2 := newServer(t)
	opts2 := testOptions(srv2, &logBuf{})
	opts2.ShareWith = opts.ShareWith
	srv2.Fail(drivetest.Fault{Op: "permissions.create", Status: 403, Reason: "cannotShareTeamDriveWithNonGoogleAccounts", Times: 10})
	rep, err := publishTo(t, oauthCreds(srv2), opts2, fx.sources(), PRTarget(4))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 2 || rep.Notebook.URL == "" {
		t.Errorf("warnings %q", rep.Warnings)
	}
	texttest.Contains(t, "warnings", strings.Join(rep.Warnings, "\n"), "could not be shared with ana@example.com", "policy")
}

// raiseRole sets a grant's role as a person would in the sharing dialog.
func raiseRole(t *testing.T, srv *drivetest.Server, fileID, email, role string) {
	t.Helper()
	f, _ := srv.File(fileID)
	for _, p := range f.Permissions {
		if p.EmailAddress == email {
			patch(t, srv, "/drive/v3/files/"+fileID+"/permissions/"+p.ID, `{"role": "`+role+`"}`)
			return
		}
	}
	t.Fatalf("no grant for %s", email)
}

// patch sends a PATCH to the fake as a person's client would.
func patch(t *testing.T, srv *drivetest.Server, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer admin")
	srv.AcceptTokens = append(srv.AcceptTokens, "admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH %s: %s", path, res.Status)
	}
}

func TestErrorsKeepTheirCause(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	srv.Fail(drivetest.Fault{Op: "files.create", Status: 403, Reason: "insufficientFilePermissions", Times: 10})
	_, err := publish(t, srv, oauthCreds(srv), testOptions(srv, &logBuf{}), fx.sources())
	var ge *googleapi.Error
	if err == nil || !errors.As(err, &ge) || ge.Code != 403 || !strings.Contains(err.Error(), "share folder "+folderID+" with it as Editor") {
		t.Errorf("err = %v (cause %v)", err, ge)
	}
}

func TestParseShareWith(t *testing.T) {
	g, err := ParseShareWith(" a@x.org,b@y.com\ngroup:team@x.org ", "")
	if err != nil || len(g) != 3 || g[2].Type != "group" || g[2].Email != "team@x.org" || g[0].Role != "reader" {
		t.Errorf("grants %+v, %v", g, err)
	}
	for _, bad := range [][2]string{{"alice", ""}, {"a@b", "owner"}, {"@x.org", ""}, {"a@b@c", ""}} {
		if _, err := ParseShareWith(bad[0], bad[1]); err == nil {
			t.Errorf("%q role %q accepted", bad[0], bad[1])
		}
	}
}

func TestRunRecordRoundTrip(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	opts := testOptions(srv, &logBuf{})
	ctx := context.Background()
	p, err := Open(ctx, oauthCreds(srv), opts)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.ReadRecord(ctx, "main"); err != nil || b != nil {
		t.Errorf("record before any publish: %q %v", b, err)
	}
	src := fx.sources()
	src.Record = []byte(`{"commit": "1b2c3d4"}`)
	if _, err := publish(t, srv, oauthCreds(srv), opts, src); err != nil {
		t.Fatal(err)
	}
	if b, err := p.ReadRecord(ctx, "main"); err != nil || string(b) != `{"commit": "1b2c3d4"}` {
		t.Errorf("record %q %v", b, err)
	}
	// One someone put there by hand is not a baseline.
	srv2 := newServer(t)
	srv2.AddFolder("c", "ci", folderID, "", true)
	srv2.AddFolder("cm", "main", "c", "", true)
	srv2.AddFolder("cmr", "run", "cm", "", true)
	srv2.AddFile(RunRecord, "cmr", "application/json", []byte(`{"commit": "forged"}`), nil)
	p2, err := Open(ctx, oauthCreds(srv2), testOptions(srv2, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p2.ReadRecord(ctx, "main"); err != nil || b != nil {
		t.Errorf("someone's ci_run.json read as the action's: %q %v", b, err)
	}
}

func TestRunFolderHoldsOneRun(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	opts := testOptions(srv, &logBuf{})
	write(t, filepath.Join(fx.project, "results", "metrics.csv"), "model,accuracy\nbert,0.9\n")
	write(t, filepath.Join(fx.project, "models", "bert_final", "config.json"), "{}")
	if _, err := publish(t, srv, oauthCreds(srv), opts, fx.sources()); err != nil {
		t.Fatal(err)
	}
	metrics := mustLookup(t, srv, "ci/main/run/results/metrics.csv")
	// Someone keeps a file of their own in the run folder.
	theirs := srv.AddFile("my-notes.txt", mustLookup(t, srv, "ci/main/run/results").ID, "text/plain", []byte("mine"), nil)

	// The next run is a Quick Start: no metrics.csv, no bert_final.
	if err := os.Remove(filepath.Join(fx.project, "results", "metrics.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(fx.project, "models", "bert_final")); err != nil {
		t.Fatal(err)
	}
	rep, err := publish(t, srv, oauthCreds(srv), opts, fx.sources())
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := srv.File(metrics.ID); !f.Trashed {
		t.Error("the earlier run's metrics.csv is still in ci/main/run/")
	}
	if _, ok := srv.Lookup(folderID, "ci/main/run/models/bert_final/config.json"); ok {
		t.Error("the earlier run's model is still in ci/main/run/")
	}
	if f, _ := srv.File(theirs); f.Trashed {
		t.Error("someone's own file in the run folder was trashed")
	}
	if _, ok := srv.Lookup(folderID, "ci/main/run/results/quickstart_metrics.json"); !ok {
		t.Error("this run's metrics were trashed")
	}
	if len(rep.Stale) != 2 {
		t.Errorf("stale = %v", rep.Stale)
	}
	if _, ok := srv.Lookup(folderID, "src/config.py"); !ok {
		t.Error("pruning reached outside ci/main/run/")
	}
}

func TestConcurrentFirstPublishesShareOneCIFolder(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	// The first folder create waits before it lands, so the other run finds no ci/
	// either and creates its own: the race two pull requests' first pushes can run.
	srv.Fail(drivetest.Fault{Op: "files.create", UploadType: "", Hang: 500 * time.Millisecond})
	errs := make(chan error, 2)
	for _, n := range []int{5, 6} {
		go func(n int) {
			_, err := publishTo(t, oauthCreds(srv), testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook}, PRTarget(n))
			errs <- err
		}(n)
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var ci []drivetest.File
	for _, f := range srv.Files(folderID) {
		if f.Name == "ci" && !f.Trashed {
			ci = append(ci, f)
		}
	}
	if len(ci) != 1 {
		t.Fatalf("%d ci/ folders", len(ci))
	}
	for _, n := range []string{"5", "6"} {
		if _, ok := srv.Lookup(folderID, "ci/pr-"+n+"/"+NotebookFile); !ok {
			t.Errorf("pr-%s's notebook is not in the one ci/ folder", n)
		}
	}
}
