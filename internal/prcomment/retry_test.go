package prcomment

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v84/github"

	"github.com/prodcat/colab-notebook-action/internal/prcomment/githubtest"
)

func TestResolveAuthorFailureIsAnError(t *testing.T) {
	srv := newGitHub(t)
	srv.AddComment(5, "alice", Marker+"\nalice's sticky comment from an earlier run")
	// A person's token, and GitHub briefly failing on GET /user.
	srv.Fail(githubtest.Fault{Method: "GET", Path: "/user", Kind: "server"})
	gh, _ := NewClient(&http.Client{}, srv.URL, "pat")
	c := &Commenter{Client: gh, Owner: "octo", Repo: "shop"}
	author, err := c.ResolveAuthor(context.Background())
	if err == nil {
		t.Fatalf("a 502 on GET /user gave author %q and no error: Upsert would look for a bot's comment and post a duplicate", author)
	}
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusBadGateway || !strings.Contains(err.Error(), "GET /user") {
		t.Errorf("error %v does not carry GitHub's answer", err)
	}
	// The installation token's 403 is an answer, not a failure.
	gh, _ = NewClient(&http.Client{}, srv.URL, "app")
	c = &Commenter{Client: gh, Owner: "octo", Repo: "shop"}
	if author, err := c.ResolveAuthor(context.Background()); err != nil || author != "" {
		t.Errorf("installation token: author %q, err %v", author, err)
	}
}

func TestRateLimitedCallsAreRetried(t *testing.T) {
	for _, kind := range []string{"secondary", "primary"} {
		t.Run(kind, func(t *testing.T) {
			srv := newGitHub(t)
			srv.Fail(githubtest.Fault{Method: "POST", Path: "/repos/octo/shop/issues/4/comments", Kind: kind, RetryAfter: 1})
			var logs []string
			c := commenter(t, srv, "app")
			c.Logf = func(f string, a ...any) { logs = append(logs, f) }
			started := time.Now()
			res, err := c.Upsert(context.Background(), 4, Comment(sampleReport(), 0))
			if err != nil {
				t.Fatal(err)
			}
			if res.Action != "created" || len(srv.Comments(4)) != 1 {
				t.Errorf("after the retry: %+v, %d comments", res, len(srv.Comments(4)))
			}
			if time.Since(started) < 900*time.Millisecond {
				t.Errorf("retried after %s, before GitHub's wait of 1 s", time.Since(started))
			}
			if len(logs) == 0 || !strings.Contains(logs[0], "rate limited") {
				t.Errorf("no log line about the wait: %v", logs)
			}
		})
	}
}

func TestRateLimitLongerThanMaxWait(t *testing.T) {
	srv := newGitHub(t)
	srv.Fail(githubtest.Fault{Method: "GET", Path: "/repos/octo/shop/issues/4/comments", Kind: "secondary", RetryAfter: 3600})
	c := commenter(t, srv, "app")
	c.MaxWait = time.Second
	_, err := c.Upsert(context.Background(), 4, Comment(sampleReport(), 0))
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || !strings.Contains(err.Error(), "secondary rate limit") {
		t.Errorf("got %v, want the secondary rate limit error, wrapped", err)
	}
}

func TestErrorsKeepTheirCause(t *testing.T) {
	srv := newGitHub(t)
	gh, _ := NewClient(&http.Client{}, srv.URL, "fork")
	c := &Commenter{Client: gh, Owner: "octo", Repo: "shop"}
	_, err := c.Upsert(context.Background(), 1, Comment(sampleReport(), 0))
	var ge *github.ErrorResponse
	if !errors.Is(err, ErrNoPermission) || !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusForbidden {
		t.Errorf("err %v: want ErrNoPermission wrapping GitHub's 403", err)
	}
}

func TestPullHead(t *testing.T) {
	srv := newGitHub(t)
	srv.AddPull(githubtest.Pull{Number: 8, HeadSHA: "abc123", HeadRepo: "mallory/shop"})
	c := commenter(t, srv, "app")
	sha, repo, err := c.PullHead(context.Background(), 8)
	if err != nil || sha != "abc123" || repo != "mallory/shop" {
		t.Errorf("PullHead = %q, %q, %v", sha, repo, err)
	}
	if _, _, err := c.PullHead(context.Background(), 9); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing pull request: %v", err)
	}
}
