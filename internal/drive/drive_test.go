package drive

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
)

const folderID = "root-folder"

// fixture lays out a built notebook, a src tree and a run's PROJECT_ROOT.
type fixture struct {
	dir, notebook, src, project string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	fx := fixture{
		dir:      dir,
		notebook: filepath.Join(dir, "build", "product_categorization_colab.ipynb"),
		src:      filepath.Join(dir, "build", "src"),
		project:  filepath.Join(dir, "project"),
	}
	write(t, fx.notebook, builtNotebook)
	write(t, filepath.Join(fx.src, "config.py"), "SEED = 42\n")
	write(t, filepath.Join(fx.src, "api", "app.py"), "app = None\n")
	write(t, filepath.Join(fx.project, "data", "processed", "train.csv"), "text,label\nx,0\n")
	write(t, filepath.Join(fx.project, "results", "quickstart_metrics.json"), `{"accuracy": 0.9}`)
	write(t, filepath.Join(fx.project, "results", "plots", "confusion.png"), "\x89PNG fake")
	write(t, filepath.Join(fx.project, "models", "checkpoint-500", "optimizer.pt"), "state")
	write(t, filepath.Join(fx.project, "models", ".label_map.json.tmp123"), "{")
	// A stale copy of src written by an older run: the built src must win.
	write(t, filepath.Join(fx.project, "src", "config.py"), "SEED = 0\n")
	return fx
}

// builtNotebook is shaped like the builder's output: a parameters cell with the
// two values a preview copy gets.
const builtNotebook = `{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "01-parameters-0",
   "metadata": {
    "tags": [
     "parameters",
     "quickstart"
    ]
   },
   "outputs": [],
   "source": [
    "RUN_MODE = \"full\"  # quickstart | smoke | full\n",
    "PROJECT_ROOT_OVERRIDE = \"\"  # outside Colab: where artifacts go\n",
    "PARENT_PROJECT_ROOT = \"\"  # a preview's parent project folder\n",
    "FORCE = False"
   ]
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func (fx fixture) sources() Sources {
	return Sources{ProjectRoot: fx.project, Notebook: fx.notebook, SrcDir: fx.src}
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) logf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", a...)
}
func (l *logBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func newServer(t *testing.T) *drivetest.Server {
	t.Helper()
	srv := drivetest.New()
	t.Cleanup(srv.Close)
	srv.AddFolder(folderID, "product_categorization_project", drivetest.RootID, "", true)
	srv.RefreshTokens = []string{"good-refresh"}
	return srv
}

func oauthCreds(srv *drivetest.Server) Credentials {
	return Credentials{ClientID: "cid", ClientSecret: "csecret", RefreshToken: "good-refresh", TokenURL: srv.TokenURL()}
}

func testOptions(srv *drivetest.Server, log *logBuf) Options {
	return Options{
		FolderID:   folderID,
		Endpoint:   srv.Endpoint(),
		HTTPClient: &http.Client{Timeout: 2 * time.Second},
		Backoff:    func(int) time.Duration { return time.Millisecond },
		Logf:       log.logf,
	}
}

// mainTarget is a push on the default branch, main.
var mainTarget = BranchTarget("main", "main")

func publish(t *testing.T, srv *drivetest.Server, creds Credentials, opts Options, src Sources) (*Report, error) {
	t.Helper()
	return publishTo(t, creds, opts, src, mainTarget)
}

func publishTo(t *testing.T, creds Credentials, opts Options, src Sources, target Target) (*Report, error) {
	t.Helper()
	plan, err := BuildPlan(src, target)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := Open(ctx, creds, opts)
	if err != nil {
		return nil, err
	}
	return p.Publish(ctx, plan)
}

func TestPublishUpdatesInPlace(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	log := &logBuf{}
	// A same-named notebook in another folder must never be touched.
	srv.AddFolder("elsewhere", "other", "", "", true)
	otherID := srv.AddFile("product_categorization_colab.ipynb", "elsewhere", ColabMIME, []byte("theirs"), nil)

	first, err := publish(t, srv, oauthCreds(srv), testOptions(srv, log), fx.sources())
	if err != nil {
		t.Fatalf("first publish: %v\n%s", err, log)
	}
	nb, ok := srv.Lookup(folderID, "product_categorization_colab.ipynb")
	if !ok {
		t.Fatalf("notebook not at the folder root; files: %+v", srv.Files(""))
	}
	if nb.MimeType != ColabMIME || nb.AppProperties[PathProperty] != "product_categorization_colab.ipynb" || nb.AppProperties[OwnerProperty] != "1" || nb.AppProperties[SumProperty] != nb.Md5Checksum {
		t.Errorf("notebook metadata = %s %v", nb.MimeType, nb.AppProperties)
	}
	if first.Notebook.ID != nb.ID || first.Notebook.URL != "https://colab.research.google.com/drive/"+nb.ID || first.Top != first.Notebook {
		t.Errorf("report notebook %+v, top %+v, stored %q", first.Notebook, first.Top, nb.ID)
	}
	if _, ok := srv.Lookup(folderID, "ci/main/run/results/plots/confusion.png"); !ok {
		t.Error("the run's artifacts are not under ci/main/run/")
	}
	for _, rel := range []string{"results/quickstart_metrics.json", "results/plots/confusion.png", "data/processed/train.csv"} {
		if _, ok := srv.Lookup(folderID, rel); ok {
			t.Errorf("%s written at the top of the project folder, where the user's own runs write", rel)
		}
	}
	for _, d := range Tree {
		if f, ok := srv.Lookup(folderID, d); !ok || f.MimeType != FolderMIME {
			t.Errorf("folder %s missing", d)
		}
	}
	cfg, _ := srv.Lookup(folderID, "src/config.py")
	if string(cfg.Content) != "SEED = 42\n" {
		t.Errorf("src/config.py = %q, want the built copy", cfg.Content)
	}
	if _, ok := srv.Lookup(folderID, "ci/main/run/models/checkpoint-500"); ok {
		t.Error("checkpoint folder was uploaded")
	}
	if _, ok := srv.Lookup(folderID, "ci/main/run/models/.label_map.json.tmp123"); ok {
		t.Error("temp file was uploaded")
	}
	countBefore := len(srv.Files(""))

	// Second push: the notebook changed, the rest did not.
	write(t, fx.notebook, `{"cells": [{"id": "a"}], "nbformat": 4, "nbformat_minor": 5}`)
	second, err := publish(t, srv, oauthCreds(srv), testOptions(srv, log), fx.sources())
	if err != nil {
		t.Fatalf("second publish: %v", err)
	}
	if second.Notebook.ID != first.Notebook.ID {
		t.Fatalf("notebook ID changed %s -> %s: the Colab link would break", first.Notebook.ID, second.Notebook.ID)
	}
	if len(second.Kept) != 0 {
		t.Errorf("kept %+v although nobody changed the notebook since the action wrote it", second.Kept)
	}
	if n := len(srv.Files("")); n != countBefore {
		t.Errorf("second publish changed the file count %d -> %d (duplicates?)", countBefore, n)
	}
	actions := map[string]string{}
	for _, r := range second.Files {
		actions[r.Rel] = r.Action
	}
	if actions["product_categorization_colab.ipynb"] != "updated" || actions["src/config.py"] != "unchanged" {
		t.Errorf("second publish actions = %v", actions)
	}
	nb, _ = srv.Lookup(folderID, "product_categorization_colab.ipynb")
	if !strings.Contains(string(nb.Content), `"id": "a"`) || nb.Version != 2 {
		t.Errorf("notebook content not updated: version %d %q", nb.Version, nb.Content)
	}
	for _, f := range srv.Files("elsewhere") {
		if f.ID == otherID && (string(f.Content) != "theirs" || f.Version != 1) {
			t.Error("a same-named file in another folder was modified")
		}
	}
}

// The top notebook is generated from cells/, so a same-named one that someone
// uploaded by hand is taken over, its content first kept as a revision.
func TestAdoptsExistingNotebookByName(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	// Someone uploaded the notebook by hand before the action existed.
	id := srv.AddFile("product_categorization_colab.ipynb", folderID, ColabMIME, []byte("old"), nil)
	rep, err := publish(t, srv, oauthCreds(srv), testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Notebook.ID != id {
		t.Fatalf("notebook ID %s, want the existing %s", rep.Notebook.ID, id)
	}
	nb, _ := srv.Lookup(folderID, "product_categorization_colab.ipynb")
	if nb.AppProperties[PathProperty] == "" || nb.AppProperties[OwnerProperty] == "" {
		t.Error("adopted file was not tagged")
	}
	if len(nb.Revisions) != 2 || !nb.Revisions[0].KeepForever || string(nb.Revisions[0].Content) != "old" {
		t.Errorf("the hand-uploaded content was not kept forever: %+v", nb.Revisions)
	}
	if len(rep.Kept) != 1 || !strings.Contains(rep.Kept[0].Where, "File → Revision history") {
		t.Errorf("kept = %+v", rep.Kept)
	}
	// Renamed by a person afterwards: still found through the app property.
	write(t, fx.notebook, "{}")
	renameInServer(t, srv, id, "my copy.ipynb")
	rep, err = publish(t, srv, oauthCreds(srv), testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Notebook.ID != id {
		t.Errorf("after rename: notebook ID %s, want %s", rep.Notebook.ID, id)
	}
}

// renameInServer renames through the public API, as a person in the Drive UI would.
func renameInServer(t *testing.T, srv *drivetest.Server, id, name string) {
	t.Helper()
	patch(t, srv, "/drive/v3/files/"+id, `{"name":`+fmt.Sprintf("%q", name)+`}`)
}

func TestQuotedNames(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	names := []string{`it's "best".csv`, `back\slash.txt`, `a' or name != 'x.txt`,
		// Too long for the path property (124 bytes): matched by name alone.
		strings.Repeat("long_name_", 12) + ".csv"}
	for _, n := range names {
		write(t, filepath.Join(dir, "results", n), n)
	}
	for round := 1; round <= 2; round++ {
		if round == 2 {
			for _, n := range names {
				write(t, filepath.Join(dir, "results", n), n+" v2")
			}
		}
		rep, err := publish(t, srv, oauthCreds(srv), testOptions(srv, &logBuf{}), Sources{ProjectRoot: dir})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want := map[int]string{1: "created", 2: "updated"}[round]
		for _, r := range rep.Files {
			if r.Action != want {
				t.Errorf("round %d: %s was %s, want %s", round, r.Rel, r.Action, want)
			}
		}
	}
	for _, n := range names {
		f, ok := srv.Lookup(folderID, "ci/main/run/results/"+n)
		if !ok || string(f.Content) != n+" v2" {
			t.Errorf("%s: found=%v content=%q", n, ok, f.Content)
		}
	}
}

func TestEscapeQ(t *testing.T) {
	for in, want := range map[string]string{`plain`: `plain`, `it's`: `it\'s`, `a\b`: `a\\b`, `\'`: `\\\'`} {
		if got := EscapeQ(in); got != want {
			t.Errorf("EscapeQ(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResumableUpload(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640,000 bytes: three 256 KiB chunks
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "weights.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "REPORT", "small.md"), "# small")
	opts := testOptions(srv, &logBuf{})
	opts.ChunkSize = 256 << 10
	// One chunk fails with a 503 and is retried by the client library mid-upload.
	srv.Fail(drivetest.Fault{Op: "upload.chunk", Status: 503})
	if _, err := publish(t, srv, oauthCreds(srv), opts, Sources{ProjectRoot: dir}); err != nil {
		t.Fatal(err)
	}
	f, ok := srv.Lookup(folderID, "ci/main/run/models/weights.bin")
	if !ok || !bytes.Equal(f.Content, big) {
		t.Fatalf("resumable upload stored %d bytes, want %d", len(f.Content), len(big))
	}
	if n := srv.Count("files.create", "resumable"); n != 1 {
		t.Errorf("resumable sessions = %d, want 1", n)
	}
	if n := srv.Count("files.create", "multipart"); n != 1 {
		t.Errorf("multipart creates = %d, want 1 (the small file)", n)
	}
	if n := srv.Count("upload.chunk", ""); n != 4 {
		t.Errorf("chunk requests = %d, want 3 chunks + 1 retry", n)
	}
	big[0] = 'X'
	if err := os.WriteFile(filepath.Join(dir, "models", "weights.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := publish(t, srv, oauthCreds(srv), opts, Sources{ProjectRoot: dir}); err != nil {
		t.Fatal(err)
	}
	f2, _ := srv.Lookup(folderID, "ci/main/run/models/weights.bin")
	if f2.ID != f.ID || !bytes.Equal(f2.Content, big) || srv.Count("files.update", "resumable") != 1 {
		t.Errorf("resumable update: id %s->%s, equal=%v, updates=%d", f.ID, f2.ID, bytes.Equal(f2.Content, big), srv.Count("files.update", "resumable"))
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name   string
		faults []drivetest.Fault
		op     string
		want   int // requests of op, including failed ones
	}{
		{"429 then success", []drivetest.Fault{{Op: "files.list", Status: 429, Reason: "rateLimitExceeded"}}, "files.list", 0},
		{"500 twice then success", []drivetest.Fault{{Op: "files.create", Status: 500, Reason: "backendError", Times: 2}}, "files.create", 0},
		{"403 rate limit", []drivetest.Fault{{Op: "files.get", Status: 403, Reason: "userRateLimitExceeded"}}, "files.get", 2},
		{"network timeout", []drivetest.Fault{{Op: "files.get", Hang: 3 * time.Second}}, "files.get", 2},
		{"503 with Retry-After", []drivetest.Fault{{Op: "permissions.create", Status: 503, RetryAfter: "1"}}, "permissions.create", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			baseline := newServer(t)
			fx := newFixture(t)
			opts := testOptions(baseline, &logBuf{})
			opts.Share = true
			if _, err := publish(t, baseline, oauthCreds(baseline), opts, fx.sources()); err != nil {
				t.Fatal(err)
			}
			clean := baseline.Count(tc.op, "")

			srv := newServer(t)
			for _, f := range tc.faults {
				srv.Fail(f)
			}
			log := &logBuf{}
			opts = testOptions(srv, log)
			opts.Share = true
			opts.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond}
			start := time.Now()
			rep, err := publish(t, srv, oauthCreds(srv), opts, fx.sources())
			if err != nil {
				t.Fatalf("publish: %v\n%s", err, log)
			}
			failures := 0
			for _, f := range tc.faults {
				failures += max(f.Times, 1)
			}
			if got := srv.Count(tc.op, ""); got != clean+failures {
				t.Errorf("%s requests = %d, want %d clean + %d failed", tc.op, got, clean, failures)
			}
			if !strings.Contains(log.String(), "retry") {
				t.Errorf("no retry logged:\n%s", log)
			}
			if _, ok := srv.Lookup(folderID, "product_categorization_colab.ipynb"); !ok || rep.Notebook.URL == "" {
				t.Error("notebook not published after retries")
			}
			if tc.faults[0].RetryAfter != "" && time.Since(start) < time.Second {
				t.Error("Retry-After was not honoured")
			}
			// A retried create must not leave a duplicate behind.
			seen := map[string]bool{}
			for _, f := range srv.Files("") {
				key := strings.Join(f.Parents, ",") + "/" + f.Name
				if seen[key] {
					t.Errorf("duplicate %s", key)
				}
				seen[key] = true
			}
		})
	}
}

func TestTimedOutCreateIsNotDuplicated(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	// The server stores the notebook but answers after the client gave up.
	srv.Fail(drivetest.Fault{Op: "files.create", UploadType: "multipart", HangAfter: time.Second})
	opts := testOptions(srv, &logBuf{})
	opts.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	opts.FolderID = folderID
	rep, err := publish(t, srv, oauthCreds(srv), opts, Sources{Notebook: fx.notebook})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range srv.Files(folderID) {
		if f.Name == "product_categorization_colab.ipynb" {
			n++
		}
	}
	if n != 1 || srv.Count("files.create", "multipart") != 1 {
		t.Errorf("%d notebooks after a timed-out create (%d creates), want 1", n, srv.Count("files.create", "multipart"))
	}
	if rep.Files[0].Action != "created" || rep.Files[0].ID == "" {
		t.Errorf("retry after the lost answer: %+v, want created with the landed file's ID", rep.Files[0])
	}
}

func TestErrors(t *testing.T) {
	saKey := serviceAccountJSON(t, "publisher@proj.iam.gserviceaccount.com", "")
	tests := []struct {
		name  string
		setup func(srv *drivetest.Server, c *Credentials, o *Options)
		want  []string
	}{
		{"folder 404", func(srv *drivetest.Server, c *Credentials, o *Options) { o.FolderID = "nope" },
			[]string{"folder nope does not exist", "share the folder"}},
		{"not a folder", func(srv *drivetest.Server, c *Credentials, o *Options) {
			o.FolderID = srv.AddFile("x.txt", folderID, "text/plain", nil, nil)
		}, []string{"not a folder"}},
		{"read-only folder", func(srv *drivetest.Server, c *Credentials, o *Options) {
			srv.AddFolder("ro", "ro", "", "", false)
			o.FolderID = "ro"
		}, []string{"can read but not write", "Editor"}},
		{"revoked refresh token", func(srv *drivetest.Server, c *Credentials, o *Options) { c.RefreshToken = "revoked" },
			[]string{"invalid_grant", EnvRefreshToken, "7 days"}},
		{"token endpoint 401", func(srv *drivetest.Server, c *Credentials, o *Options) {
			srv.Fail(drivetest.Fault{Op: "token", Status: 401, Body: `{"error": "invalid_client", "error_description": "Unauthorized"}`})
		}, []string{"invalid_client", EnvClientID, EnvClientSecret}},
		{"expired access token", func(srv *drivetest.Server, c *Credentials, o *Options) {
			*c = Credentials{AccessToken: "expired"}
		}, []string{"401", "access token"}},
		{"service account without quota", func(srv *drivetest.Server, c *Credentials, o *Options) {
			*c = Credentials{JSON: saKey, TokenURL: srv.TokenURL(), Source: "DRIVE_SERVICE_ACCOUNT_JSON"}
			srv.Fail(drivetest.Fault{Op: "files.create", Status: 403, Reason: "storageQuotaExceeded", Message: "Service Accounts do not have storage quota.", Times: 100})
		}, []string{"publisher@proj.iam.gserviceaccount.com", "no Drive storage", "shared drive", EnvRefreshToken}},
		{"drive api disabled", func(srv *drivetest.Server, c *Credentials, o *Options) {
			srv.Fail(drivetest.Fault{Op: "files.get", Status: 403, Reason: "accessNotConfigured"})
		}, []string{"enable it"}},
		{"500 forever", func(srv *drivetest.Server, c *Credentials, o *Options) {
			srv.Fail(drivetest.Fault{Op: "files.list", Status: 500, Times: 100})
		}, []string{"gave up after 6 attempts"}},
		{"malformed credentials JSON", func(srv *drivetest.Server, c *Credentials, o *Options) {
			*c = Credentials{JSON: []byte(`{"type": "service_account", "private_key": "abc`), Source: "DRIVE_SERVICE_ACCOUNT_JSON"}
		}, []string{"DRIVE_SERVICE_ACCOUNT_JSON is not valid JSON", "whole downloaded key file"}},
		{"credentials JSON without type", func(srv *drivetest.Server, c *Credentials, o *Options) {
			*c = Credentials{JSON: []byte(`{"client_email": "x"}`)}
		}, []string{"no \"type\" field"}},
		{"service account with broken key", func(srv *drivetest.Server, c *Credentials, o *Options) {
			*c = Credentials{JSON: []byte(`{"type":"service_account","client_email":"a@b","private_key":"not a pem"}`), TokenURL: srv.TokenURL()}
		}, []string{"key"}},
		{"incomplete OAuth", func(srv *drivetest.Server, c *Credentials, o *Options) { c.ClientSecret = "" },
			[]string{EnvClientSecret, "missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			fx := newFixture(t)
			creds := oauthCreds(srv)
			opts := testOptions(srv, &logBuf{})
			tc.setup(srv, &creds, &opts)
			_, err := publish(t, srv, creds, opts, fx.sources())
			if err == nil {
				t.Fatal("publish succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not mention %q", err, w)
				}
			}
			for _, secret := range []string{"csecret", "good-refresh", "PRIVATE KEY"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q: %v", secret, err)
				}
			}
		})
	}
}

func TestNewNeedsFolderID(t *testing.T) {
	srv := newServer(t)
	if _, err := New(context.Background(), oauthCreds(srv), Options{}); err == nil || !strings.Contains(err.Error(), "folder-id") {
		t.Errorf("err = %v", err)
	}
}

func TestCredentialErrorsAreMarked(t *testing.T) {
	_, err := Credentials{JSON: []byte("{")}.Resolve(context.Background(), nil)
	if !errors.Is(err, ErrCredentials) {
		t.Errorf("malformed JSON error %v is not ErrCredentials", err)
	}
}

func serviceAccountJSON(t *testing.T, email, driveHint string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": email, "private_key_id": "k1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri":   "https://oauth2.googleapis.com/token",
	})
	return b
}

func TestServiceAccountOnSharedDrive(t *testing.T) {
	srv := newServer(t)
	srv.AddFolder("sd-folder", "product_categorization_project", "", "shared-drive-1", true)
	fx := newFixture(t)
	log := &logBuf{}
	opts := testOptions(srv, log)
	opts.FolderID = "sd-folder"
	opts.Share = true
	creds := Credentials{JSON: serviceAccountJSON(t, "sa@p.iam.gserviceaccount.com", ""), TokenURL: srv.TokenURL()}
	rep, err := publish(t, srv, creds, opts, fx.sources())
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	nb, ok := srv.Lookup("sd-folder", "product_categorization_colab.ipynb")
	if !ok || nb.DriveID != "shared-drive-1" || nb.ID != rep.Notebook.ID {
		t.Fatalf("notebook on shared drive: ok=%v %+v", ok, nb)
	}
	if len(nb.Permissions) != 1 || nb.Permissions[0].Type != "anyone" || nb.Permissions[0].Role != "reader" {
		t.Errorf("permissions = %+v", nb.Permissions)
	}
	for _, r := range srv.Requests() {
		if r.Op == "files.list" && (r.Params["corpora"] != "drive" || r.Params["driveId"] != "shared-drive-1") {
			t.Errorf("files.list on a shared drive without corpora=drive: %v", r.Params)
			break
		}
		if r.Op != "token" && r.Params["supportsAllDrives"] != "true" {
			t.Errorf("%s without supportsAllDrives", r.Op)
			break
		}
	}
	if strings.Contains(log.String(), "no Drive storage") {
		t.Error("warned about quota although the folder is on a shared drive")
	}
}

func TestServiceAccountMyDriveWarns(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	log := &logBuf{}
	creds := Credentials{JSON: serviceAccountJSON(t, "sa@p.iam.gserviceaccount.com", ""), TokenURL: srv.TokenURL()}
	if _, err := publish(t, srv, creds, testOptions(srv, log), Sources{Notebook: fx.notebook}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "service accounts have no Drive storage") {
		t.Errorf("no quota warning:\n%s", log)
	}
}

func TestShareRefusedIsAWarning(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	srv.Fail(drivetest.Fault{Op: "permissions.create", Status: 403, Reason: "publishOutNotPermitted"})
	opts := testOptions(srv, &logBuf{})
	opts.Share = true
	rep, err := publish(t, srv, oauthCreds(srv), opts, Sources{Notebook: fx.notebook})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "policy") || rep.Notebook.URL == "" {
		t.Errorf("warnings = %q, colab %q", rep.Warnings, rep.Notebook.URL)
	}
}

func TestPagination(t *testing.T) {
	srv := newServer(t)
	srv.MaxPageSize = 1
	fx := newFixture(t)
	// Three candidates for the name query: the tagged one is on the last page.
	srv.AddFile("product_categorization_colab.ipynb", folderID, ColabMIME, []byte("a"), nil)
	srv.AddFile("product_categorization_colab.ipynb", folderID, ColabMIME, []byte("b"), nil)
	tagged := srv.AddFile("renamed.ipynb", folderID, ColabMIME, []byte("c"), map[string]string{PathProperty: "product_categorization_colab.ipynb"})
	rep, err := publish(t, srv, oauthCreds(srv), testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Notebook.ID != tagged {
		t.Errorf("updated %s, want the tagged file %s on the last page", rep.Notebook.ID, tagged)
	}
}

func TestAccessTokenFromEnvironment(t *testing.T) {
	srv := newServer(t)
	srv.AcceptTokens = []string{"ya29.from-auth-action"}
	fx := newFixture(t)
	env := map[string]string{EnvCloudSDKToken: "ya29.from-auth-action"}
	creds, err := CredentialsFromEnv(Credentials{}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publish(t, srv, creds, testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook}); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.json")
	write(t, keyFile, `{"type":"service_account"}`)
	tests := []struct {
		name    string
		flags   Credentials
		env     map[string]string
		check   func(Credentials) bool
		empty   bool
		wantErr string
	}{
		{"nothing", Credentials{}, nil, nil, true, ""},
		{"oauth trio", Credentials{}, map[string]string{EnvClientID: "i", EnvClientSecret: "s", EnvRefreshToken: "r"},
			func(c Credentials) bool { return c.ClientID == "i" && c.RefreshToken == "r" }, false, ""},
		{"inline service account", Credentials{}, map[string]string{EnvServiceAccountJSON: ` {"type":"service_account"} `},
			func(c Credentials) bool { return c.Source == EnvServiceAccountJSON }, false, ""},
		{"key file", Credentials{}, map[string]string{EnvCredentialsFile: keyFile},
			func(c Credentials) bool { return c.Source == keyFile }, false, ""},
		{"missing key file", Credentials{}, map[string]string{EnvCredentialsFile: filepath.Join(dir, "gone.json")}, nil, false, "cannot be read"},
		{"flag wins", Credentials{RefreshToken: "flag"}, map[string]string{EnvRefreshToken: "env", EnvServiceAccountJSON: "{}"},
			func(c Credentials) bool { return c.RefreshToken == "flag" && len(c.JSON) == 0 }, false, ""},
		{"access token", Credentials{}, map[string]string{EnvAccessToken: "t"},
			func(c Credentials) bool { return c.AccessToken == "t" }, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CredentialsFromEnv(tc.flags, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Empty() != tc.empty {
				t.Errorf("Empty() = %v", c.Empty())
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("credentials = %+v", c)
			}
		})
	}
}

func TestSecretsIncludesKeyLines(t *testing.T) {
	c := Credentials{JSON: serviceAccountJSON(t, "a@b", ""), RefreshToken: "rt"}
	s := c.Secrets()
	if len(s) < 10 || s[0] != "rt" {
		t.Errorf("secrets = %d entries, first %q", len(s), s[0])
	}
}

// TestIntegration publishes to a real Drive folder when credentials are given.
func TestIntegration(t *testing.T) {
	folder := os.Getenv("DRIVE_TEST_FOLDER_ID")
	creds, err := CredentialsFromEnv(Credentials{}, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if folder == "" || creds.Empty() {
		t.Skipf("set DRIVE_TEST_FOLDER_ID and one of %s+%s+%s, %s, %s or %s to publish to a real Drive folder",
			EnvClientID, EnvClientSecret, EnvRefreshToken, EnvServiceAccountJSON, EnvCredentialsFile, EnvAccessToken)
	}
	fx := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i, target := range []Target{mainTarget, PRTarget(1), mainTarget, PRTarget(1)} {
		plan, err := BuildPlan(Sources{Notebook: fx.notebook, SrcDir: fx.src}, target)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(ctx, creds, Options{FolderID: folder, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := p.Publish(ctx, plan)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rep.Notebook.ID)
		t.Logf("push %d (%s): Colab %s, PROJECT_ROOT %s", i+1, target.Ref, rep.Notebook.URL, rep.Notebook.MountPath)
	}
	p, err := Open(ctx, creds, Options{FolderID: folder, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if cr, err := p.ClosePreview(ctx, PRTarget(1)); err != nil || !cr.Trashed {
		t.Errorf("close: %+v %v", cr, err)
	}
	ids = []string{ids[0], ids[2], ids[1], ids[3]}
	if ids[0] != ids[1] || ids[2] != ids[3] || ids[0] == ids[2] {
		t.Errorf("notebook IDs (main, main, pr-1, pr-1) = %v: each must stay the same and differ from the other", ids)
	}
}

func TestAuthorizedUserFile(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	file := []byte(`{"type": "authorized_user", "client_id": "cid", "client_secret": "csecret", "refresh_token": "good-refresh"}`)
	env := map[string]string{EnvServiceAccountJSON: string(file), EnvRefreshToken: "stale-from-env"}
	creds, err := CredentialsFromEnv(Credentials{JSON: file, Source: "the credentials input", TokenURL: srv.TokenURL()}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publish(t, srv, creds, testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook}); err != nil {
		t.Fatalf("authorized_user file with a stray env refresh token: %v", err)
	}
}

func TestNotFoundMidPublish(t *testing.T) {
	srv := newServer(t)
	fx := newFixture(t)
	srv.Fail(drivetest.Fault{Op: "files.create", UploadType: "multipart", Status: 404, Reason: "notFound", Message: "File not found: f0003."})
	_, err := publish(t, srv, oauthCreds(srv), testOptions(srv, &logBuf{}), Sources{Notebook: fx.notebook})
	if err == nil || !strings.Contains(err.Error(), "deleted or unshared while publishing") || strings.Contains(err.Error(), "check the folder-id") {
		t.Errorf("err = %v", err)
	}
}
