package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
	"github.com/prodcat/colab-notebook-action/internal/execute"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
	"github.com/prodcat/colab-notebook-action/internal/prcomment/githubtest"
	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

// fakePipeline stands in for build/validate/run and writes the files they would.
type fakePipeline struct {
	problems  []Problem
	execErr   error
	accuracy  float64
	executed  []execute.Options
	validated int
}

func (f *fakePipeline) Build(_ context.Context, cellsDir, outDir string) (string, error) {
	nb := filepath.Join(outDir, NotebookFile)
	if err := os.MkdirAll(filepath.Join(outDir, "src", "api"), 0o755); err != nil {
		return "", err
	}
	os.WriteFile(filepath.Join(outDir, "src", "config.py"), []byte("SEED = 42\n"), 0o644)
	os.WriteFile(filepath.Join(outDir, "src", "api", "app.py"), []byte("app = None\n"), 0o644)
	// A parameters cell like cells/01_parameters.py's: a preview copy gets its own values.
	cells := `[{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": ["PROJECT_ROOT_OVERRIDE = \"\"\n", "PARENT_PROJECT_ROOT = \"\"\n"]}]`
	return nb, os.WriteFile(nb, []byte(fmt.Sprintf(`{"cells": %s, "metadata": {"accuracy": %v}}`, cells, f.accuracy)), 0o644)
}

func (f *fakePipeline) Validate(context.Context, string) ([]Problem, error) {
	f.validated++
	return f.problems, nil
}

func (f *fakePipeline) Execute(_ context.Context, o execute.Options) (execute.Result, error) {
	f.executed = append(f.executed, o)
	if f.execErr != nil {
		return execute.Result{}, f.execErr
	}
	res := filepath.Join(o.ProjectRoot, "results")
	os.MkdirAll(filepath.Join(res, "plots"), 0o755)
	qs := fmt.Sprintf(`{"accuracy": %v, "macro_f1": 0.8712, "train_seconds": 4.2, "device": "cpu", "n_train": 640, "n_test": 160, "n_classes": 4, "dataset": "demo"}`, f.accuracy)
	os.WriteFile(filepath.Join(res, "quickstart_metrics.json"), []byte(qs), 0o644)
	os.WriteFile(filepath.Join(res, "plots", "confusion_matrix.png"), []byte("png"), 0o644)
	if o.Mode == "full" {
		csv := "model,accuracy,macro_precision,macro_recall,macro_f1,weighted_precision,weighted_recall,weighted_f1,top2_accuracy,top3_accuracy\n" +
			"tfidf_linearsvc,0.91,0.9,0.9,0.905,0.91,0.91,0.91,0.97,0.99\n" +
			"bert,0.95,0.94,0.94,0.945,0.95,0.95,0.95,0.98,nan\n"
		os.WriteFile(filepath.Join(res, "metrics.csv"), []byte(csv), 0o644)
	}
	return execute.Result{Mode: o.Mode}, nil
}

type harness struct {
	t     *testing.T
	dir   string
	env   map[string]string
	out   bytes.Buffer
	drive *drivetest.Server
	gh    *githubtest.Server
	pipe  *fakePipeline
}

func newHarness(t *testing.T, event string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), pipe: &fakePipeline{accuracy: 0.9125}}
	h.drive = drivetest.New()
	t.Cleanup(h.drive.Close)
	h.drive.AddFolder("proj-folder", "product_categorization_project", drivetest.RootID, "", true)
	h.drive.RefreshTokens = []string{"refresh-123"}
	h.gh = githubtest.New("octo", "shop")
	t.Cleanup(h.gh.Close)
	h.gh.Tokens["ghs_app"] = githubtest.Token{Login: "github-actions[bot]", App: true}
	h.gh.Tokens["ghs_readonly"] = githubtest.Token{Login: "github-actions[bot]", App: true, ReadOnly: true}

	eventPath, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", event+".json"))
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(event, "_fork")
	h.env = map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": eventPath, "GITHUB_REF": "refs/heads/main",
		"GITHUB_REPOSITORY": "octo/shop", "GITHUB_SHA": "deadbeefcafe0000", "GITHUB_RUN_ID": "777",
		"GITHUB_RUN_NUMBER": "12", "GITHUB_WORKFLOW": "notebook", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_API_URL": h.gh.URL, "GITHUB_WORKSPACE": h.dir,
		"GITHUB_OUTPUT": filepath.Join(h.dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(h.dir, "summary"),
		"INPUT_CELLS": "cells", "INPUT_OUT-DIR": filepath.Join(h.dir, "build"),
		"INPUT_PROJECT-ROOT": filepath.Join(h.dir, "project"), "INPUT_LOCAL-DRIVE-ROOT": filepath.Join(h.dir, "_drive"),
		"INPUT_GITHUB-TOKEN": "ghs_app", "INPUT_MODE": "quickstart", "INPUT_SHARE": "false", "INPUT_COMMENT": "true",
		"RUNNER_ENVIRONMENT": "github-hosted", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
	}
	return h
}

// withDrive adds the secrets a same-repository run gets.
func (h *harness) withDrive() *harness {
	h.env["INPUT_FOLDER-ID"] = "proj-folder"
	h.env["INPUT_OAUTH-CLIENT-ID"] = "client-1"
	h.env["INPUT_OAUTH-CLIENT-SECRET"] = "secret-shh"
	h.env["INPUT_OAUTH-REFRESH-TOKEN"] = "refresh-123"
	return h
}

func (h *harness) run() int {
	h.out.Reset()
	os.Remove(h.env["GITHUB_OUTPUT"])
	os.Remove(h.env["GITHUB_STEP_SUMMARY"])
	return Run(context.Background(), h.deps())
}

func (h *harness) deps() Deps {
	return Deps{
		Getenv:        func(k string) string { return h.env[k] },
		Out:           &h.out,
		Pipeline:      h.pipe,
		HTTPClient:    &http.Client{Timeout: 5 * time.Second},
		DriveBackoff:  func(int) time.Duration { return time.Millisecond },
		DriveEndpoint: h.drive.Endpoint(),
		TokenURL:      h.drive.TokenURL(),
		GPU:           func(context.Context) string { return "" },
	}
}

// outputs parses GITHUB_OUTPUT's name<<DELIM ... DELIM blocks.
func (h *harness) outputs() map[string]string {
	b, err := os.ReadFile(h.env["GITHUB_OUTPUT"])
	if err != nil {
		h.t.Fatalf("no GITHUB_OUTPUT: %v", err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func (h *harness) summary() string {
	b, _ := os.ReadFile(h.env["GITHUB_STEP_SUMMARY"])
	return string(b)
}

func (h *harness) comments() []githubtest.Comment { return h.gh.Comments(42) }

func TestPullRequestPublishesAndComments(t *testing.T) {
	h := newHarness(t, "pull_request").withDrive()
	if code := h.run(); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.out.String())
	}
	out := h.outputs()
	nb, ok := h.drive.Lookup("proj-folder", "ci/pr-42/"+NotebookFile)
	if !ok {
		t.Fatal("notebook not on Drive")
	}
	colab := "https://colab.research.google.com/drive/" + nb.ID
	if out["drive-file-id"] != nb.ID || out["colab-url"] != colab || out["published"] != "drive" || out["validation-problems"] != "0" {
		t.Errorf("outputs = %v", out)
	}
	var m Metrics
	if err := json.Unmarshal([]byte(out["metrics-json"]), &m); err != nil || m.QuickStart == nil || m.QuickStart.Accuracy != 0.9125 {
		t.Errorf("metrics-json %q: %v", out["metrics-json"], err)
	}
	if _, ok := h.drive.Lookup("proj-folder", "ci/pr-42/run/results/plots/confusion_matrix.png"); !ok {
		t.Error("run artifacts not published")
	}
	cs := h.comments()
	if len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	texttest.Contains(t, "comment", cs[0].Body, prcomment.Marker, colab, "✅ passed", "| 0.9125 | 0.8712 | 4.2 s | cpu | 640 / 160 | 4 | demo |",
		"`4f1c2a9`", "[notebook #12](https://github.com/octo/shop/actions/runs/777)", "| Runner | GitHub-hosted, Linux X64, GPU: none |")
	sum := h.summary()
	texttest.Contains(t, "summary", sum, "Quick Start metrics", "| 0.9125 |", colab)
	if strings.Contains(sum, prcomment.Marker) {
		t.Error("summary has the comment marker")
	}
	log := h.out.String()
	texttest.Contains(t, "log", log, "::add-mask::secret-shh", "::add-mask::refresh-123", "::add-mask::ghs_app")
	for _, secret := range []string{"secret-shh", "refresh-123", "ghs_app"} {
		if n := strings.Count(log, secret); n != 1 {
			t.Errorf("%q appears %d times in the log; only its add-mask line may carry it", secret, n)
		}
	}

	// The next push: new metrics, same Colab link, the same single comment.
	h.pipe.accuracy = 0.9433
	if code := h.run(); code != 0 {
		t.Fatalf("second run exit %d\n%s", code, h.out.String())
	}
	if got := h.outputs()["drive-file-id"]; got != nb.ID {
		t.Errorf("second push moved the notebook %s -> %s", nb.ID, got)
	}
	cs = h.comments()
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "| 0.9433 |") {
		t.Errorf("after the second push: %d comments, body %q", len(cs), cs[0].Body)
	}
	// A re-run of the same push changes nothing.
	if code := h.run(); code != 0 || len(h.comments()) != 1 {
		t.Errorf("re-run: exit %d, %d comments", code, len(h.comments()))
	}
	texttest.Contains(t, "re-run log", h.out.String(), "PR comment unchanged")
}

// A person's token (PAT) whose sticky comment is already on the PR: a transient GET /user
// failure skips this run's comment with a warning. It must not make the upsert look for a
// bot's comment instead, miss the person's and post a second one.
func TestTransientUserFailureNeverPostsASecondComment(t *testing.T) {
	h := newHarness(t, "pull_request")
	h.gh.Tokens["ghp_alice"] = githubtest.Token{Login: "alice"}
	h.env["INPUT_GITHUB-TOKEN"] = "ghp_alice"
	old := prcomment.Marker + "\nalice's sticky comment from an earlier run"
	h.gh.AddComment(42, "alice", old)
	h.gh.Fail(githubtest.Fault{Method: "GET", Path: "/user", Kind: "server"})
	if code := h.run(); code != 0 {
		t.Fatalf("exit %d: a lost PR comment must not fail the build\n%s", code, h.out.String())
	}
	if cs := h.comments(); len(cs) != 1 || cs[0].Body != old {
		t.Fatalf("after a 502 on GET /user: %d comments, want alice's one untouched", len(cs))
	}
	texttest.Contains(t, "log", h.out.String(), "::warning::PR comment skipped", "GET /user")
	// GitHub answers again: the next run updates alice's comment in place.
	if code := h.run(); code != 0 {
		t.Fatalf("second run exit %d\n%s", code, h.out.String())
	}
	if cs := h.comments(); len(cs) != 1 || cs[0].Body == old || !strings.Contains(cs[0].Body, prcomment.Marker) {
		t.Errorf("after GitHub recovered: %d comments, want alice's one updated", len(cs))
	}
	texttest.Contains(t, "log", h.out.String(), "PR comment updated")
}

func TestEvents(t *testing.T) {
	tests := []struct {
		name, event string
		setup       func(h *harness)
		code        int
		outputs     map[string]string
		log         []string
		noGitHub    bool
		noDrive     bool
		check       func(t *testing.T, h *harness)
	}{
		{
			name: "push publishes without a comment", event: "push",
			setup:    func(h *harness) { h.withDrive() },
			outputs:  map[string]string{"published": "drive"},
			log:      []string{"No pull request in this push event: no PR comment"},
			noGitHub: true,
		},
		{
			name: "workflow_dispatch full pipeline", event: "workflow_dispatch",
			setup: func(h *harness) {
				h.withDrive()
				h.env["INPUT_MODE"] = "full"
				h.env["INPUT_QUICKSTART-SAMPLE-SIZE"] = "2000"
				h.env["INPUT_TIME-BUDGET-MINUTES"] = "90"
				h.env["INPUT_TIMEOUT-PER-CELL"] = "20m"
				h.env["INPUT_MODEL-NAME"] = "distilbert-base-uncased"
			},
			outputs:  map[string]string{"published": "drive"},
			noGitHub: true,
			check: func(t *testing.T, h *harness) {
				o := h.pipe.executed[0]
				if o.Mode != "full" || o.SampleSize != 2000 || o.ModelName != "distilbert-base-uncased" ||
					o.TimeBudget != 90*time.Minute || o.TimeoutPerCell != 20*time.Minute || o.RunTimeout != 0 {
					t.Errorf("executed with %+v", o)
				}
				texttest.Contains(t, "summary", h.summary(), "Full pipeline: model comparison", "| bert | 0.9500 | 0.9450 | 0.9500 | – |", "Quick Start metrics")
				var m map[string]any
				json.Unmarshal([]byte(h.outputs()["metrics-json"]), &m)
				if models, _ := m["models"].([]any); len(models) != 2 {
					t.Errorf("metrics-json models = %v", m["models"])
				}
			},
		},
		{
			name: "fork PR builds, validates, runs and leaves its report", event: "pull_request_fork",
			setup:    func(h *harness) { h.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly" },
			outputs:  map[string]string{"published": "skipped", "colab-url": ""},
			log:      []string{"Pull request from a fork (mallory/shop): its run gets no secrets, so nothing is published to Google Drive"},
			noGitHub: true, noDrive: true,
			check: func(t *testing.T, h *harness) {
				if len(h.pipe.executed) != 1 || h.outputs()["notebook-path"] == "" {
					t.Error("the Quick Start did not run for the fork")
				}
				texttest.Contains(t, "summary", h.summary(), "comes from a fork (mallory/shop), whose runs get no secrets: the notebook was built and validated, and its Quick Start ran on the runner.",
					"forks get no Drive preview", "git fetch origin pull/43/head:pr-43", "| 0.9125 |")
				if h.outputs()["report-dir"] == "" {
					t.Error("no report-dir output for the fork's artifact")
				}
			},
		},
		{
			name: "fork PR in build mode says nothing ran", event: "pull_request_fork",
			setup:    func(h *harness) { h.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly"; h.env["INPUT_MODE"] = "build" },
			outputs:  map[string]string{"published": "skipped"},
			noGitHub: true, noDrive: true,
			check: func(t *testing.T, h *harness) {
				texttest.Contains(t, "summary", h.summary(), "the notebook was built and validated (mode build: nothing was executed)")
				if strings.Contains(h.summary(), "re-run") || len(h.pipe.executed) != 0 {
					t.Errorf("build mode: executed %d times; summary:\n%s", len(h.pipe.executed), h.summary())
				}
			},
		},
		{
			name: "no credentials publishes to the local folder", event: "pull_request",
			outputs: map[string]string{"published": "local"},
			noDrive: true,
			check: func(t *testing.T, h *harness) {
				p := filepath.Join(h.dir, "_drive", "MyDrive", "product_categorization_project", "ci", "pr-42", NotebookFile)
				if _, err := os.Stat(p); err != nil {
					t.Errorf("local publish: %v", err)
				}
				texttest.Contains(t, "comment", h.comments()[0].Body, "no credentials configured")
			},
		},
		{
			name: "validation problems", event: "pull_request",
			setup: func(h *harness) {
				h.withDrive()
				for i := 1; i <= 12; i++ {
					h.pipe.problems = append(h.pipe.problems, Problem{File: filepath.Join(h.dir, "cells", "03_clean.py"), Line: i, Message: fmt.Sprintf("problem %d", i)})
				}
			},
			code:    1,
			outputs: map[string]string{"published": "skipped", "validation-problems": "12"},
			log: []string{"::error file=cells/03_clean.py,line=1::problem 1", "::error file=cells/03_clean.py,line=10::problem 10",
				"cells/03_clean.py:11: problem 11", "12 validation problems; GitHub shows 10"},
			noDrive: true,
			check: func(t *testing.T, h *harness) {
				if n := strings.Count(h.out.String(), "::error file="); n != 10 {
					t.Errorf("%d file annotations, want 10", n)
				}
				if len(h.pipe.executed) != 0 {
					t.Error("executed despite validation problems")
				}
				texttest.Contains(t, "comment", h.comments()[0].Body, "❌ 12 problems", "`cells/03_clean.py:12` problem 12")
			},
		},
		{
			name: "execution failure", event: "pull_request",
			setup: func(h *harness) {
				h.withDrive()
				h.pipe.execErr = &execute.Failure{Kind: execute.CellError, Ordinal: 7, Total: 9, CellID: "quickstart-1",
					Section: "Quick Start", Origin: filepath.Join(h.dir, "cells", "05_quickstart.py") + ":10", EName: "KeyError", EValue: "'category'",
					Traceback: "Traceback (most recent call last):\n" + strings.Repeat("  frame\n", 40) + "KeyError: 'category'"}
			},
			code:    1,
			outputs: map[string]string{"published": "skipped"},
			log:     []string{"::error file=cells/05_quickstart.py,line=10::cell 7/9 failed: KeyError: 'category'"},
			noDrive: true,
			check: func(t *testing.T, h *harness) {
				body := h.comments()[0].Body
				texttest.Contains(t, "comment", body, "| Execution | ❌ cell 7/9 failed: KeyError: 'category' |", "| Section | Quick Start |",
					"| Source | `cells/05_quickstart.py:10` |", "<details><summary>Traceback</summary>", strings.Repeat("  frame\n", 40)+"KeyError: 'category'\n```")
				texttest.Contains(t, "summary", h.summary(), strings.Repeat("  frame\n", 40))
			},
		},
		{
			name: "executor unavailable", event: "pull_request",
			setup: func(h *harness) {
				h.withDrive()
				h.pipe.execErr = errors.New("start executor python3: exec: not found\nmore detail")
			},
			code:    1,
			outputs: map[string]string{"published": "skipped"},
			log:     []string{"::error::start executor python3: exec: not found", "more detail"},
			noDrive: true,
		},
		{
			name: "token without write permission", event: "pull_request",
			setup:   func(h *harness) { h.withDrive(); h.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly" },
			outputs: map[string]string{"published": "drive"},
			log:     []string{"::warning::create the comment on #42: GitHub answered 403", "pull-requests: write"},
		},
		{
			name: "revoked refresh token", event: "pull_request",
			setup:   func(h *harness) { h.withDrive(); h.env["INPUT_OAUTH-REFRESH-TOKEN"] = "revoked-456" },
			code:    1,
			outputs: map[string]string{"published": "skipped", "colab-url": ""},
			log:     []string{"::error::publish to Google Drive: the OAuth refresh token was refused (invalid_grant"},
			check: func(t *testing.T, h *harness) {
				texttest.Contains(t, "comment", h.comments()[0].Body, "Publishing to Google Drive failed")
			},
		},
		{
			name: "service account key malformed", event: "push",
			setup: func(h *harness) {
				h.env["INPUT_FOLDER-ID"] = "proj-folder"
				h.env["INPUT_CREDENTIALS"] = `{"type": "service_account", "private_key": "-----BEGIN`
			},
			code: 1,
			log:  []string{"::error::publish to Google Drive: the credentials input is not valid JSON"},
		},
		{
			name: "folder that does not exist", event: "push",
			setup: func(h *harness) { h.withDrive(); h.env["INPUT_FOLDER-ID"] = "missing-folder" },
			code:  1,
			log:   []string{"folder missing-folder does not exist"},
		},
		{
			name: "bad inputs", event: "push",
			setup:   func(h *harness) { h.env["INPUT_MODE"] = "train"; h.env["INPUT_SHARE"] = "maybe" },
			code:    1,
			log:     []string{"::error::input mode must be build, quickstart, full or comment, got \"train\"", "::error::input share must be true or false"},
			noDrive: true, noGitHub: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.event)
			if tc.setup != nil {
				tc.setup(h)
			}
			code := h.run()
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, h.out.String())
			}
			if len(tc.outputs) > 0 {
				out := h.outputs()
				for k, v := range tc.outputs {
					if out[k] != v {
						t.Errorf("output %s = %q, want %q", k, out[k], v)
					}
				}
			}
			texttest.Contains(t, "log", h.out.String(), tc.log...)
			if tc.noGitHub && len(h.gh.Calls()) > 0 {
				t.Errorf("GitHub API called: %v", h.gh.Calls())
			}
			if tc.noDrive && h.drive.Count("files.create", "")+h.drive.Count("files.update", "") > 0 {
				t.Error("Drive written")
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

func TestReadConfigAcceptsUnderscoreNames(t *testing.T) {
	env := map[string]string{"INPUT_FOLDER_ID": "abc", "INPUT_MAX-FILE-MB": "0.5", "INPUT_QUICKSTART_SAMPLE_SIZE": "300", "INPUT_RUN_TIMEOUT": "0"}
	c, err := readConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.FolderID != "abc" || c.MaxFileBytes != 512<<10 || c.QuickstartSampleSize != 300 || c.Mode != "quickstart" || !c.Comment || c.Share || c.RunTimeout != -1 {
		t.Errorf("config = %+v", c)
	}
	for in, want := range map[string]string{
		"INPUT_QUICKSTART-SAMPLE-SIZE": "-3", "INPUT_SAMPLE-SIZE": "renamed quickstart-sample-size",
		"INPUT_TIME-BUDGET-MINUTES": "positive number of minutes", "INPUT_TIMEOUT-PER-CELL": "minutes (e.g. 45)",
	} {
		v := map[string]string{"INPUT_QUICKSTART-SAMPLE-SIZE": "-3", "INPUT_SAMPLE-SIZE": "500", "INPUT_TIME-BUDGET-MINUTES": "soon", "INPUT_TIMEOUT-PER-CELL": "-5"}[in]
		_, err := readConfig(func(k string) string { return map[string]string{in: v}[k] })
		if err == nil || !strings.Contains(err.Error(), want) && want != "-3" {
			t.Errorf("%s=%s: err %v, want %q", in, v, err, want)
		}
	}
}

func TestParseMinutes(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0": -1, "45": 45 * time.Minute, "1.5": 90 * time.Second, "90s": 90 * time.Second, "1h30m": 90 * time.Minute, "0s": -1} {
		if got, err := parseMinutes(in); err != nil || got != want {
			t.Errorf("parseMinutes(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "soon", "-5m"} {
		if _, err := parseMinutes(bad); err == nil {
			t.Errorf("parseMinutes(%q) accepted", bad)
		}
	}
}
