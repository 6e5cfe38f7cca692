package action

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prodcat/colab-notebook-action/internal/drive/drivetest"
	"github.com/prodcat/colab-notebook-action/internal/prcomment"
	"github.com/prodcat/colab-notebook-action/internal/prcomment/githubtest"
	"github.com/prodcat/colab-notebook-action/internal/texttest"
)

const forkHead = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d" // testdata/events/pull_request_fork.json

// workflowRunEvent writes the payload GitHub gives the notebook-comment
// workflow when the fork's notebook run completes.
func workflowRunEvent(t *testing.T, dir, headSHA, headRepo string) string {
	t.Helper()
	ev := map[string]any{
		"action": "completed",
		"workflow_run": map[string]any{
			"id": 991, "name": "notebook", "event": "pull_request", "head_sha": headSHA, "head_branch": "main",
			"run_number": 5, "conclusion": "success", "html_url": "https://github.com/octo/shop/actions/runs/991",
			"head_repository": map[string]any{"full_name": headRepo},
			// GitHub leaves this empty for forks: the number has to come from the report.
			"pull_requests": []any{},
		},
		"repository": map[string]any{"full_name": "octo/shop", "default_branch": "main"},
	}
	b, _ := json.Marshal(ev)
	p := filepath.Join(dir, "workflow_run.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// commentMode turns the harness into the notebook-comment workflow's step:
// the default branch's action, a write token, the fork's report downloaded.
func (h *harness) commentMode(reportDir, eventPath string) {
	for k := range h.env {
		if strings.HasPrefix(k, "INPUT_") {
			delete(h.env, k)
		}
	}
	h.env["INPUT_MODE"] = "comment"
	h.env["INPUT_REPORT-DIR"] = reportDir
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_app"
	h.env["GITHUB_EVENT_NAME"] = "workflow_run"
	h.env["GITHUB_EVENT_PATH"] = eventPath
}

func TestForkReportCommentedByWorkflowRun(t *testing.T) {
	h := newHarness(t, "pull_request_fork")
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly"
	if code := h.run(); code != 0 {
		t.Fatalf("fork run: exit %d\n%s", code, h.out.String())
	}
	reportDir := h.outputs()["report-dir"]
	if reportDir == "" || len(h.gh.Calls()) > 0 {
		t.Fatalf("fork run: report-dir %q, GitHub calls %v", reportDir, h.gh.Calls())
	}
	if _, err := os.Stat(filepath.Join(reportDir, "comment.md")); err != nil {
		t.Errorf("no comment.md for people reading the artifact: %v", err)
	}
	// The artifact travels to another workflow run: copy it, as download-artifact would.
	art := filepath.Join(t.TempDir(), "report")
	if err := os.CopyFS(art, os.DirFS(reportDir)); err != nil {
		t.Fatal(err)
	}
	h.gh.AddPull(githubtest.Pull{Number: 43, HeadSHA: forkHead, HeadRepo: "mallory/shop"})
	h.gh.AddPull(githubtest.Pull{Number: 42, HeadSHA: "4f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a", HeadRepo: "octo/shop"})
	h.commentMode(art, workflowRunEvent(t, h.dir, forkHead, "mallory/shop"))
	h.pipe = &fakePipeline{} // mode comment must not build or run anything
	if code := h.run(); code != 0 {
		t.Fatalf("comment run: exit %d\n%s", code, h.out.String())
	}
	if h.pipe.validated != 0 || len(h.pipe.executed) != 0 {
		t.Error("mode comment ran the pipeline")
	}
	cs := h.gh.Comments(43)
	if len(cs) != 1 {
		t.Fatalf("%d comments on #43", len(cs))
	}
	texttest.Contains(t, "fork comment", cs[0].Body, prcomment.Marker, "comes from a fork (mallory/shop)", "forks get no Drive preview",
		"git fetch origin pull/43/head:pr-43", "| 0.9125 |", "`9e8d7c6`", "[notebook #5](https://github.com/octo/shop/actions/runs/991)")
	firstID := cs[0].ID

	t.Run("injected Markdown, HTML and a huge traceback", func(t *testing.T) {
		var a map[string]any
		b, _ := os.ReadFile(filepath.Join(art, ArtifactFile))
		json.Unmarshal(b, &a)
		evil := `<img src=x onerror=alert(1)> [click](https://evil.example) ![t](https://evil.example/t.png) | cell | @octo/admins`
		a["problems"] = []map[string]any{{"File": "cells/01`x.py", "Line": 3, "Message": evil}}
		a["execution_error"] = evil
		a["runner"] = evil
		a["failure"] = map[string]any{"kind": "cell_error", "cell": "2/9", "section": evil, "file": "cells/05_quickstart.py", "line": 4,
			"exception": "ValueError: " + evil, "traceback": strings.Repeat("x", 900_000) + "\n```\n</details><script>alert(1)</script>"}
		a["quickstart"] = map[string]any{"accuracy": 7.5, "macro_f1": 0.5, "dataset": evil, "device": evil, "n_train": -4}
		a["models"] = []map[string]any{{"Model": evil, "Accuracy": 0.9}}
		a["pull_request"] = 43
		writeJSON(t, filepath.Join(art, ArtifactFile), a)
		if code := h.run(); code != 0 {
			t.Fatalf("exit %d\n%s", code, h.out.String())
		}
		cs := h.gh.Comments(43)
		if len(cs) != 1 || cs[0].ID != firstID {
			t.Fatalf("want the same single comment, got %d comments", len(cs))
		}
		body := cs[0].Body
		if len(body) > prcomment.MaxBody || !utf8.ValidString(body) {
			t.Fatalf("body is %d bytes", len(body))
		}
		open := strings.Index(body, "<details>")
		closeAt := strings.LastIndex(body, "</details>")
		if open < 0 || closeAt < open {
			t.Fatalf("no traceback block:\n%s", body[:2000])
		}
		outside := body[:open] + body[closeAt:]
		for _, bad := range []string{"<img", "](https://evil", "![t]", "| cell |", "@octo/admins", "<script>"} {
			if texttest.Unescaped(outside, bad) {
				t.Errorf("untrusted %q renders outside the traceback block", bad)
			}
		}
		inside := body[open:closeAt]
		if !strings.HasPrefix(inside, "<details><summary>Traceback") || !strings.Contains(inside, "````text\n") ||
			!strings.Contains(inside, "```\n</details><script>alert(1)</script>\n````") {
			t.Errorf("the traceback is not fenced by a longer fence than the backticks it holds:\n%s", inside[:min(len(inside), 400)])
		}
		if strings.Contains(body, "7.5000") || strings.Contains(body, "| -4 ") {
			t.Error("numbers outside what a metric can be were shown")
		}
	})

	t.Run("a report larger than 1 MiB is refused", func(t *testing.T) {
		before := h.gh.Comments(43)[0].Body
		os.WriteFile(filepath.Join(art, ArtifactFile), []byte(`{"pull_request": 43, "execution_error": "`+strings.Repeat("a", 2<<20)+`"}`), 0o644)
		if code := h.run(); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		texttest.Contains(t, "log", h.out.String(), "is over 1048576 bytes: not read")
		if h.gh.Comments(43)[0].Body != before {
			t.Error("the comment changed")
		}
	})

	t.Run("a report naming another pull request is refused", func(t *testing.T) {
		writeJSON(t, filepath.Join(art, ArtifactFile), map[string]any{"pull_request": 42, "mode": "quickstart"})
		if code := h.run(); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		texttest.Contains(t, "log", h.out.String(), "the report names pull request #42, whose head is 4f1c2a9 in octo/shop, but the run that wrote it built 9e8d7c6 in mallory/shop: nothing was posted")
		if len(h.gh.Comments(42)) != 0 {
			t.Error("a comment was posted on #42")
		}
	})

	t.Run("a same-repository run needs no workflow_run comment", func(t *testing.T) {
		h.env["GITHUB_EVENT_PATH"] = workflowRunEvent(t, t.TempDir(), "4f1c2a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a", "octo/shop")
		calls := len(h.gh.Calls())
		if code := h.run(); code != 0 || len(h.gh.Calls()) != calls {
			t.Errorf("exit %d, %d GitHub calls", code, len(h.gh.Calls())-calls)
		}
	})
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenEventFile(t *testing.T) {
	for name, setup := range map[string]func(h *harness){
		"missing": func(h *harness) { h.env["GITHUB_EVENT_PATH"] = filepath.Join(h.dir, "no-such-event.json") },
		"not JSON": func(h *harness) {
			p := filepath.Join(h.dir, "event.json")
			os.WriteFile(p, []byte(`{"pull_request": {"number": 42,`), 0o644)
			h.env["GITHUB_EVENT_PATH"] = p
		},
		"unset": func(h *harness) { delete(h.env, "GITHUB_EVENT_PATH") },
		"pull_request without its object": func(h *harness) {
			p := filepath.Join(h.dir, "event.json")
			os.WriteFile(p, []byte(`{"action": "opened", "repository": {"full_name": "octo/shop"}}`), 0o644)
			h.env["GITHUB_EVENT_PATH"] = p
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "pull_request").withDrive()
			setup(h)
			code := h.run() // a panic fails the test
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			var errs []string
			for _, ln := range strings.Split(h.out.String(), "\n") {
				if strings.HasPrefix(ln, "::error") {
					errs = append(errs, ln)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], "nothing was built or published") {
				t.Errorf("want one error line saying nothing was published, got %q\n%s", errs, h.out.String())
			}
			if h.pipe.validated != 0 || len(h.pipe.executed) != 0 || len(h.gh.Calls()) != 0 ||
				h.drive.Count("files.create", "")+h.drive.Count("files.update", "") > 0 {
				t.Error("something ran or was published")
			}
			if _, err := os.Stat(filepath.Join(h.dir, "_drive")); err == nil {
				t.Error("published to the local folder")
			}
			if out := h.outputs(); out["published"] != "skipped" {
				t.Errorf("published = %q", out["published"])
			}
		})
	}
}

func TestSelfHostedRunnerRefusesPullRequests(t *testing.T) {
	h := newHarness(t, "pull_request").withDrive()
	h.env["RUNNER_ENVIRONMENT"] = "self-hosted"
	if code := h.run(); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	texttest.Contains(t, "log", h.out.String(), "pull request code is not run on a self-hosted runner")
	if h.pipe.validated != 0 || len(h.pipe.executed) != 0 {
		t.Error("the pipeline ran")
	}
	// A push (code already on the default branch) may use one.
	h = newHarness(t, "push").withDrive()
	h.env["RUNNER_ENVIRONMENT"] = "self-hosted"
	if code := h.run(); code != 0 {
		t.Errorf("push on a self-hosted runner: exit %d\n%s", code, h.out.String())
	}
}

func TestEnvironmentCannotRedirectCredentials(t *testing.T) {
	h := newHarness(t, "push").withDrive()
	// An earlier step wrote these to GITHUB_ENV, pointing at a listener of its own.
	h.env["GOOGLE_OAUTH_TOKEN_URL"] = "http://127.0.0.1:9/token"
	h.env["DRIVE_API_ENDPOINT"] = "http://127.0.0.1:9/drive/v3/"
	d := h.deps()
	d.DriveEndpoint, d.TokenURL = "", ""
	rec := &drivetest.HostRecorder{}
	d.HTTPClient.Transport = rec
	Run(t.Context(), d)
	if len(rec.Hosts()) == 0 {
		t.Fatal("no request was made")
	}
	for _, host := range rec.Hosts() {
		if host != "oauth2.googleapis.com" && host != "www.googleapis.com" {
			t.Errorf("a request went to %s", host)
		}
	}
}
