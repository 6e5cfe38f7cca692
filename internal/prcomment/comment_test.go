package prcomment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prodcat/colab-notebook-action/internal/prcomment/githubtest"
)

const bot = "github-actions[bot]"

func newGitHub(t *testing.T) *githubtest.Server {
	t.Helper()
	srv := githubtest.New("octo", "shop")
	t.Cleanup(srv.Close)
	srv.Tokens["app"] = githubtest.Token{Login: bot, App: true}
	srv.Tokens["fork"] = githubtest.Token{Login: bot, App: true, ReadOnly: true}
	srv.Tokens["pat"] = githubtest.Token{Login: "alice"}
	return srv
}

func commenter(t *testing.T, srv *githubtest.Server, token string) *Commenter {
	t.Helper()
	gh, err := NewClient(&http.Client{}, srv.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	c := &Commenter{Client: gh, Owner: "octo", Repo: "shop"}
	if c.Author, err = c.ResolveAuthor(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleReport() Report {
	return Report{
		Mode: "quickstart", Commit: "0123456789abcdef", RunURL: "https://github.com/octo/shop/actions/runs/9", RunLabel: "CI #9",
		ColabURL: "https://colab.research.google.com/drive/f0001", Validated: true,
		QuickStart: &QuickStart{Accuracy: 0.91234, MacroF1: 0.8765, TrainSeconds: 12.34, Device: "cpu", NTrain: 800, NTest: 200, NClasses: 5, Dataset: "fixture"},
	}
}

func TestUpsertKeepsOneComment(t *testing.T) {
	srv := newGitHub(t)
	srv.PerPageMax = 2
	// A busy PR: our comment sits on page 3 behind other people's comments,
	// one of which quotes the marker and must not be touched.
	for i := 0; i < 4; i++ {
		srv.AddComment(7, "bob", fmt.Sprintf("comment %d", i))
	}
	quoted := srv.AddComment(7, "bob", "why does the bot write "+Marker+"?")
	c := commenter(t, srv, "app")
	if c.Author != "" {
		t.Fatalf("author = %q, want \"\" (any bot) for an installation token", c.Author)
	}
	r := sampleReport()
	first, err := c.Upsert(context.Background(), 7, Comment(r, 0))
	if err != nil {
		t.Fatal(err)
	}
	if first.Action != "created" {
		t.Fatalf("first upsert %s", first.Action)
	}
	srv.AddComment(7, "bob", "later comment pushes ours to an earlier page")
	srv.AddComment(7, "bob", "and another")

	r.Commit = "fedcba9876543210"
	r.QuickStart.Accuracy = 0.95
	for run := 0; run < 2; run++ { // a re-run of the same push
		second, err := c.Upsert(context.Background(), 7, Comment(r, 0))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"updated", "unchanged"}[run]
		if second.ID != first.ID || second.Action != want {
			t.Errorf("run %d: id %d action %s, want id %d action %s", run, second.ID, second.Action, first.ID, want)
		}
	}
	var ours int
	for _, cm := range srv.Comments(7) {
		if cm.ID == quoted && !strings.HasPrefix(cm.Body, "why does") {
			t.Error("a person's comment quoting the marker was overwritten")
		}
		if cm.Login == bot {
			ours++
			if !strings.Contains(cm.Body, "0.9500") || !strings.Contains(cm.Body, "`fedcba9`") {
				t.Errorf("comment not updated: %s", cm.Body)
			}
		}
	}
	if ours != 1 {
		t.Errorf("%d bot comments, want 1", ours)
	}
	var lists int
	for _, call := range srv.Calls() {
		if strings.HasPrefix(call, "GET /repos/octo/shop/issues/7/comments") {
			lists++
		}
	}
	// Pages of 2: 5 comments then 8 then 8 make 3 + 4 + 4 list calls.
	if lists != 11 {
		t.Errorf("%d list calls, want 11: pagination not followed", lists)
	}
}

func TestUpsertRemovesDuplicates(t *testing.T) {
	srv := newGitHub(t)
	// Two concurrent runs raced and both created a comment.
	a := srv.AddComment(3, bot, Marker+"\nold a")
	srv.AddComment(3, bot, Marker+"\nold b")
	c := commenter(t, srv, "app")
	res, err := c.Upsert(context.Background(), 3, Comment(sampleReport(), 0))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Comments(3)
	if res.ID != a || len(got) != 1 || got[0].ID != a {
		t.Errorf("kept %d, comments %+v", res.ID, got)
	}
}

func TestUpsertWithPersonalToken(t *testing.T) {
	srv := newGitHub(t)
	srv.AddComment(5, bot, Marker+"\nfrom GITHUB_TOKEN")
	c := commenter(t, srv, "pat")
	if c.Author != "alice" {
		t.Fatalf("author = %q", c.Author)
	}
	res, err := c.Upsert(context.Background(), 5, Comment(sampleReport(), 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != "created" || len(srv.Comments(5)) != 2 {
		t.Errorf("PAT should not adopt the bot's comment: %s, %d comments", res.Action, len(srv.Comments(5)))
	}
}

func TestUpsertErrors(t *testing.T) {
	tests := []struct {
		name, token string
		repo        string
		want        []string
		perm        bool
	}{
		{"read-only token", "fork", "shop", []string{"Resource not accessible by integration", "pull-requests: write", "fork"}, true},
		{"bad token", "nope", "shop", []string{"401", "github-token"}, false},
		{"missing repo", "app", "gone", []string{"404"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newGitHub(t)
			gh, _ := NewClient(&http.Client{}, srv.URL, tc.token)
			c := &Commenter{Client: gh, Owner: "octo", Repo: tc.repo}
			_, err := c.Upsert(context.Background(), 1, Comment(sampleReport(), 0))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if errors.Is(err, ErrNoPermission) != tc.perm {
				t.Errorf("errors.Is(ErrNoPermission) = %v", !tc.perm)
			}
		})
	}
}

func TestCommentSizeLimit(t *testing.T) {
	r := sampleReport()
	for i := 0; i < 3000; i++ {
		r.Problems = append(r.Problems, Problem{File: fmt.Sprintf("cells/%02d_step.py", i%20), Line: i, Message: strings.Repeat("ünïcode problem ", 4)})
	}
	for i := 0; i < 2000; i++ {
		r.Models = append(r.Models, ModelRow{Model: fmt.Sprintf("model-%d", i), Accuracy: 0.5})
	}
	tests := []struct {
		name        string
		limit       int
		wantInBody  []string
		wantMissing []string
	}{
		{"GitHub limit", 0, []string{"… and 2980 more", "model-0 ", "Quick Start metrics"}, nil},
		{"problems go first", 3000, []string{"… and 3000 more", "model-19 ", "… and 1980 more models"}, []string{"model-20 "}},
		{"then the model table", 1000, []string{"… and 3000 more", "… and 2000 more models"}, []string{"model-0 "}},
		{"tiny limit hard cut", 300, []string{"truncated"}, []string{"Quick Start metrics"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := Comment(r, tc.limit)
			limit := tc.limit
			if limit == 0 {
				limit = MaxBody
			}
			if len(body) > limit || !utf8.ValidString(body) {
				t.Fatalf("body %d bytes (limit %d), valid UTF-8 %v", len(body), limit, utf8.ValidString(body))
			}
			if !strings.HasPrefix(body, Marker) || !strings.Contains(body, r.ColabURL) {
				t.Error("marker or Colab link lost")
			}
			for _, w := range tc.wantInBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, w := range tc.wantMissing {
				if strings.Contains(body, w) {
					t.Errorf("body still has %q", w)
				}
			}
		})
	}
	// And GitHub accepts it.
	srv := newGitHub(t)
	if _, err := commenter(t, srv, "app").Upsert(context.Background(), 1, Comment(r, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Report)
		want []string
	}{
		{"quickstart", func(r *Report) {}, []string{
			"[![Open In Colab]", "| Validation | ✅ passed |", "| Commit | `0123456` |",
			"| 0.9123 | 0.8765 | 12.3 s | cpu | 800 / 200 | 5 | fixture |", "[CI #9](https://github.com/octo/shop/actions/runs/9)"}},
		{"problems", func(r *Report) {
			r.Problems = []Problem{{"cells/03_x.py", 12, "markdown line must start with \"# \""}, {"cells/src/a.py", 0, "no src cell"}}
		}, []string{"❌ 2 problems", "- `cells/03_x.py:12` markdown line", "- `cells/src/a.py` no src cell"}},
		{"not published", func(r *Report) {
			r.ColabURL, r.Notebook, r.PublishMsg = "", "build/nb.ipynb", "Not published: pull request from a fork has no secrets."
		}, []string{"`build/nb.ipynb`", "> Not published: pull request from a fork"}},
		{"execution failed", func(r *Report) { r.QuickStart, r.ExecErr = nil, "cell 7 raised ValueError" }, []string{"| Execution | ❌ cell 7 raised ValueError |"}},
		{"full", func(r *Report) {
			r.Mode = "full"
			r.Models = []ModelRow{{"tfidf|svm", 0.9, 0.88, 0.89, 0.99}}
		}, []string{"Full pipeline", `| tfidf\|svm | 0.9000 | 0.8800 | 0.8900 | 0.9900 |`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport()
			tc.edit(&r)
			body := Comment(r, 0)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			if s := Summary(r); strings.Contains(s, Marker) {
				t.Error("job summary carries the comment marker")
			}
		})
	}
}

func TestUpsertWithAppToken(t *testing.T) {
	srv := newGitHub(t)
	srv.Tokens["myapp"] = githubtest.Token{Login: "shop-notebook[bot]", App: true}
	id := srv.AddComment(9, "shop-notebook[bot]", Marker+"\nold")
	res, err := commenter(t, srv, "myapp").Upsert(context.Background(), 9, Comment(sampleReport(), 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != id || res.Action != "updated" || len(srv.Comments(9)) != 1 {
		t.Errorf("app token: %+v, %d comments", res, len(srv.Comments(9)))
	}
}

// TestIntegration upserts twice on a real pull request when a token is given.
func TestIntegration(t *testing.T) {
	token, repo, pr := os.Getenv("PRCOMMENT_TEST_TOKEN"), os.Getenv("PRCOMMENT_TEST_REPO"), os.Getenv("PRCOMMENT_TEST_PR")
	if token == "" || repo == "" || pr == "" {
		t.Skip("set PRCOMMENT_TEST_TOKEN, PRCOMMENT_TEST_REPO (owner/name) and PRCOMMENT_TEST_PR to comment on a real pull request")
	}
	owner, name, _ := strings.Cut(repo, "/")
	number, err := strconv.Atoi(pr)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := NewClient(&http.Client{}, os.Getenv("GITHUB_API_URL"), token)
	if err != nil {
		t.Fatal(err)
	}
	c := &Commenter{Client: gh, Owner: owner, Repo: name, Logf: t.Logf}
	if c.Author, err = c.ResolveAuthor(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := sampleReport()
	first, err := c.Upsert(context.Background(), number, Comment(r, 0))
	if err != nil {
		t.Fatal(err)
	}
	r.QuickStart.Accuracy += 0.0001
	second, err := c.Upsert(context.Background(), number, Comment(r, 0))
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != second.ID || second.Action != "updated" {
		t.Errorf("second upsert %+v after %+v", second, first)
	}
}
