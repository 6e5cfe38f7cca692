package prcomment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

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
}

// Result says what Upsert did.
type Result struct {
	ID     int64
	URL    string
	Action string // created, updated, unchanged
}

// ResolveAuthor asks GitHub who the token belongs to: a person's token (PAT)
// answers with its login. Installation tokens (GITHUB_TOKEN, GitHub Apps) get 403
// here, and "" makes Upsert match bot accounts instead.
func (c *Commenter) ResolveAuthor(ctx context.Context) string {
	u, _, err := c.Client.Users.Get(ctx, "")
	if err != nil {
		return ""
	}
	return u.GetLogin()
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
	if !strings.Contains(body, Marker) {
		return Result{}, errors.New("comment body has no marker: it could never be found again")
	}
	if len(body) > MaxBody {
		return Result{}, fmt.Errorf("comment body is %d bytes, over GitHub's %d limit", len(body), MaxBody)
	}
	logf := c.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var ours []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.Client.Issues.ListComments(ctx, c.Owner, c.Repo, number, opts)
		if err != nil {
			return Result{}, explain(err, fmt.Sprintf("list comments on #%d", number))
		}
		for _, cm := range page {
			if c.ours(cm) {
				ours = append(ours, cm)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(ours) == 0 {
		cm, _, err := c.Client.Issues.CreateComment(ctx, c.Owner, c.Repo, number, &github.IssueComment{Body: github.Ptr(body)})
		if err != nil {
			return Result{}, explain(err, fmt.Sprintf("create the comment on #%d", number))
		}
		return Result{ID: cm.GetID(), URL: cm.GetHTMLURL(), Action: "created"}, nil
	}
	keep := ours[0]
	for _, dup := range ours[1:] {
		if _, err := c.Client.Issues.DeleteComment(ctx, c.Owner, c.Repo, dup.GetID()); err != nil {
			logf("warning: could not delete duplicate comment %d: %v", dup.GetID(), err)
		} else {
			logf("deleted duplicate sticky comment %d", dup.GetID())
		}
	}
	if keep.GetBody() == body {
		return Result{ID: keep.GetID(), URL: keep.GetHTMLURL(), Action: "unchanged"}, nil
	}
	cm, _, err := c.Client.Issues.EditComment(ctx, c.Owner, c.Repo, keep.GetID(), &github.IssueComment{Body: github.Ptr(body)})
	if err != nil {
		return Result{}, explain(err, fmt.Sprintf("update comment %d on #%d", keep.GetID(), number))
	}
	return Result{ID: cm.GetID(), URL: cm.GetHTMLURL(), Action: "updated"}, nil
}

// ErrNoPermission marks a token that may not comment; the action treats it as
// "skip with an explanation" only for forks, and as a failure otherwise.
var ErrNoPermission = errors.New("no permission to comment")

type permErr struct{ msg string }

func (e *permErr) Error() string        { return e.msg }
func (e *permErr) Is(target error) bool { return target == ErrNoPermission }

func explain(err error, doing string) error {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	switch code := ge.Response.StatusCode; {
	case code == http.StatusForbidden && strings.Contains(ge.Message, "Resource not accessible"):
		return &permErr{fmt.Sprintf("%s: GitHub answered 403 %q: the token cannot write pull request comments. Grant it with `permissions: pull-requests: write` in the workflow job; a pull request from a fork always gets a read-only token, so its comment is skipped", doing, ge.Message)}
	case code == http.StatusForbidden:
		return &permErr{fmt.Sprintf("%s: GitHub answered 403 %q: check the github-token's permissions (pull-requests: write)", doing, ge.Message)}
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%s: GitHub answered 401 %q: the github-token input is invalid or expired", doing, ge.Message)
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: GitHub answered 404: the repository or pull request does not exist for this token (a fine-grained token must include this repository)", doing)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
