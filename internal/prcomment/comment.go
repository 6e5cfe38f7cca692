package prcomment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"
)

// NewClient returns a go-github client for apiURL (GITHUB_API_URL; "" = api.github.com).
func NewClient(hc *http.Client, apiURL, token string) (*github.Client, error) {
	c := github.NewClient(hc).WithAuthToken(token)
	if apiURL != "" {
		u, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q: %w", apiURL, err)
		}
		c.BaseURL = u
	}
	return c, nil
}

// Commenter upserts the sticky comment on one repository's pull requests.
type Commenter struct {
	Client      *github.Client
	Owner, Repo string
	// Author restricts which comments count as ours, so a person quoting the
	// marker never has their comment overwritten. Empty means "any bot account":
	// GITHUB_TOKEN and GitHub App tokens cannot ask who they are.
	Author string
	Logf   func(format string, args ...any)
	// MaxWait caps how long a rate-limited call waits before its retry
	// (GitHub's Retry-After or the primary limit's reset); 0 means 2 minutes.
	MaxWait time.Duration
}

// Result says what Upsert did.
type Result struct {
	ID     int64
	URL    string
	Action string // created, updated, unchanged
}

// ResolveAuthor asks GitHub who the token belongs to: a person's token (PAT)
// answers with its login. Installation tokens (GITHUB_TOKEN, GitHub Apps) get
// 403 "Resource not accessible by integration" here, and "" makes Upsert match
// bot accounts instead. Any other failure is an error: guessing "a bot" after a
// transient failure of a person's token would miss its comment and post a
// second one.
func (c *Commenter) ResolveAuthor(ctx context.Context) (string, error) {
	var u *github.User
	err := c.retry(ctx, "ask GitHub who the token belongs to", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		u, resp, err = c.Client.Users.Get(ctx, "")
		return resp, err
	})
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusForbidden &&
		strings.Contains(ge.Message, "Resource not accessible by integration") {
		return "", nil
	}
	if err != nil {
		return "", explain(err, "ask GitHub who the token belongs to (GET /user)")
	}
	return u.GetLogin(), nil
}

// retry runs call, and runs it again after GitHub's rate limits say to wait:
// the secondary limit's Retry-After, or the primary limit's reset when it is
// within MaxWait. Other errors return at once.
func (c *Commenter) retry(ctx context.Context, doing string, call func() (*github.Response, error)) error {
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = 2 * time.Minute
	}
	const attempts = 4
	for n := 1; ; n++ {
		_, err := call()
		if err == nil || n == attempts {
			return err
		}
		var wait time.Duration
		var abuse *github.AbuseRateLimitError
		var rate *github.RateLimitError
		switch {
		case errors.As(err, &abuse):
			wait = time.Minute
			if abuse.RetryAfter != nil {
				wait = *abuse.RetryAfter
			}
		case errors.As(err, &rate):
			wait = time.Until(rate.Rate.Reset.Time) + time.Second
		default:
			return err
		}
		if wait > maxWait {
			return fmt.Errorf("%s: GitHub's rate limit asks to wait %s, longer than %s: %w", doing, wait.Round(time.Second), maxWait, err)
		}
		if c.Logf != nil {
			c.Logf("%s: rate limited by GitHub, retrying in %s", doing, wait.Round(time.Second))
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", doing, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Commenter) ours(cm *github.IssueComment) bool {
	if !strings.Contains(cm.GetBody(), Marker) {
		return false
	}
	if c.Author == "" {
		return cm.GetUser().GetType() == "Bot"
	}
	return strings.EqualFold(cm.GetUser().GetLogin(), c.Author)
}

// Upsert edits our marked comment on PR number, or creates it when there is none.
// Duplicates left by an earlier race between two runs are deleted.
func (c *Commenter) Upsert(ctx context.Context, number int, body string) (Result, error) {
	if err := checkBody(body); err != nil {
		return Result{}, err
	}
	ours, err := c.listOurs(ctx, number)
	if err != nil {
		return Result{}, err
	}
	if len(ours) == 0 {
		return c.create(ctx, number, body)
	}
	keep := ours[0]
	c.deleteDuplicates(ctx, ours[1:])
	if keep.GetBody() == body {
		return Result{ID: keep.GetID(), URL: keep.GetHTMLURL(), Action: "unchanged"}, nil
	}
	return c.update(ctx, number, keep, body)
}

// checkBody refuses a body that could never be found again, or that GitHub would refuse.
func checkBody(body string) error {
	if !strings.Contains(body, Marker) {
		return errors.New("comment body has no marker: it could never be found again")
	}
	if len(body) > MaxBody {
		return fmt.Errorf("comment body is %d bytes, over GitHub's %d limit", len(body), MaxBody)
	}
	return nil
}

// listOurs reads every page of PR number's comments and keeps ours, oldest first.
func (c *Commenter) listOurs(ctx context.Context, number int) ([]*github.IssueComment, error) {
	var ours []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	doing := fmt.Sprintf("list comments on #%d", number)
	for {
		var page []*github.IssueComment
		var resp *github.Response
		err := c.retry(ctx, doing, func() (*github.Response, error) {
			var err error
			page, resp, err = c.Client.Issues.ListComments(ctx, c.Owner, c.Repo, number, opts)
			return resp, err
		})
		if err != nil {
			return nil, explain(err, doing)
		}
		for _, cm := range page {
			if c.ours(cm) {
				ours = append(ours, cm)
			}
		}
		if resp.NextPage == 0 {
			return ours, nil
		}
		opts.Page = resp.NextPage
	}
}

// create posts body as a new comment on PR number.
func (c *Commenter) create(ctx context.Context, number int, body string) (Result, error) {
	return c.write(ctx, fmt.Sprintf("create the comment on #%d", number), "created", func() (*github.IssueComment, *github.Response, error) {
		return c.Client.Issues.CreateComment(ctx, c.Owner, c.Repo, number, &github.IssueComment{Body: github.Ptr(body)})
	})
}

// deleteDuplicates removes the extra copies of our comment; a failure is only logged,
// since the one kept is still right.
func (c *Commenter) deleteDuplicates(ctx context.Context, dups []*github.IssueComment) {
	logf := c.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	for _, dup := range dups {
		err := c.retry(ctx, "delete a duplicate comment", func() (*github.Response, error) {
			return c.Client.Issues.DeleteComment(ctx, c.Owner, c.Repo, dup.GetID())
		})
		if err != nil {
			logf("warning: could not delete duplicate comment %d: %v", dup.GetID(), err)
		} else {
			logf("deleted duplicate sticky comment %d", dup.GetID())
		}
	}
}

// update replaces the body of our comment keep on PR number.
func (c *Commenter) update(ctx context.Context, number int, keep *github.IssueComment, body string) (Result, error) {
	return c.write(ctx, fmt.Sprintf("update comment %d on #%d", keep.GetID(), number), "updated", func() (*github.IssueComment, *github.Response, error) {
		return c.Client.Issues.EditComment(ctx, c.Owner, c.Repo, keep.GetID(), &github.IssueComment{Body: github.Ptr(body)})
	})
}

// write runs one create or edit call through retry; action says which it was.
func (c *Commenter) write(ctx context.Context, doing, action string, call func() (*github.IssueComment, *github.Response, error)) (Result, error) {
	var cm *github.IssueComment
	err := c.retry(ctx, doing, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		cm, resp, err = call()
		return resp, err
	})
	if err != nil {
		return Result{}, explain(err, doing)
	}
	return Result{ID: cm.GetID(), URL: cm.GetHTMLURL(), Action: action}, nil
}

// PullHead returns the head commit and head repository (owner/name) of pull
// request number, as GitHub knows them: the trusted facts a report from a
// fork's run is checked against.
func (c *Commenter) PullHead(ctx context.Context, number int) (sha, repo string, err error) {
	var pr *github.PullRequest
	doing := fmt.Sprintf("read pull request #%d", number)
	err = c.retry(ctx, doing, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		pr, resp, err = c.Client.PullRequests.Get(ctx, c.Owner, c.Repo, number)
		return resp, err
	})
	if err != nil {
		return "", "", explain(err, doing)
	}
	return pr.GetHead().GetSHA(), pr.GetHead().GetRepo().GetFullName(), nil
}

// ErrNoPermission marks a token that may not comment; the action treats it as
// "skip with an explanation" only for forks, and as a failure otherwise.
var ErrNoPermission = errors.New("no permission to comment")

// apiError is GitHub's answer explained; it wraps go-github's typed error, so
// callers can still errors.As it (and errors.Is(err, ErrNoPermission) for a 403).
type apiError struct {
	msg  string
	perm bool
	err  error
}

func (e *apiError) Error() string        { return e.msg }
func (e *apiError) Unwrap() error        { return e.err }
func (e *apiError) Is(target error) bool { return e.perm && target == ErrNoPermission }

func explain(err error, doing string) error {
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rate):
		return &apiError{msg: fmt.Sprintf("%s: GitHub's API rate limit is used up until %s: %s", doing, rate.Rate.Reset.Format(time.RFC3339), rate.Message), err: err}
	case errors.As(err, &abuse):
		return &apiError{msg: fmt.Sprintf("%s: GitHub's secondary rate limit: %s", doing, abuse.Message), err: err}
	}
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	switch code := ge.Response.StatusCode; {
	case code == http.StatusForbidden && strings.Contains(ge.Message, "Resource not accessible"):
		return &apiError{msg: fmt.Sprintf("%s: GitHub answered 403 %q: the token cannot write pull request comments. Grant it with `permissions: pull-requests: write` in the workflow job; a pull request from a fork always gets a read-only token, so its comment is skipped", doing, ge.Message), perm: true, err: err}
	case code == http.StatusForbidden:
		return &apiError{msg: fmt.Sprintf("%s: GitHub answered 403 %q: check the github-token's permissions (pull-requests: write)", doing, ge.Message), perm: true, err: err}
	case code == http.StatusUnauthorized:
		return &apiError{msg: fmt.Sprintf("%s: GitHub answered 401 %q: the github-token input is invalid or expired", doing, ge.Message), err: err}
	case code == http.StatusNotFound:
		return &apiError{msg: fmt.Sprintf("%s: GitHub answered 404: the repository or pull request does not exist for this token (a fine-grained token must include this repository)", doing), err: err}
	}
	return fmt.Errorf("%s: %w", doing, err)
}
