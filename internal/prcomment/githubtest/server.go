// Package githubtest is an in-memory GitHub REST server for the issue-comment
// endpoints (list with Link-header pagination, create, edit, delete), GET /user
// and GET /repos/{owner}/{repo}/pulls/{n}, with GitHub's rate-limit and error
// answers on demand, so the real go-github client can be tested over HTTP.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Comment is a stored issue comment.
type Comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	Login   string `json:"-"`
	Issue   int    `json:"-"`
	HTMLURL string `json:"html_url"`
	User    User   `json:"user"`
}

// User is a comment's author.
type User struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

// Token describes what a bearer token may do.
type Token struct {
	Login    string
	ReadOnly bool // fork PR tokens: writes answer 403 "Resource not accessible by integration"
	App      bool // installation tokens cannot read GET /user
}

// Pull is a stored pull request.
type Pull struct {
	Number   int
	HeadSHA  string
	HeadRepo string // owner/name; a fork's differs from the base
}

// Fault makes the next Times requests matching Method and Path (a prefix;
// empty matches any) answer like GitHub does when something is wrong.
type Fault struct {
	Method, Path string
	Times        int
	// Kind: "secondary" (403, the secondary rate limit's documentation URL,
	// Retry-After: RetryAfter seconds), "primary" (403, X-RateLimit-Remaining: 0,
	// reset RetryAfter seconds from now) or "server" (502).
	Kind       string
	RetryAfter int
}

// Server is the fake. Set fields before the first request.
type Server struct {
	*httptest.Server
	Owner, Repo string
	Tokens      map[string]Token
	PerPageMax  int // caps per_page so pagination is exercised

	mu       sync.Mutex
	comments []*Comment
	pulls    map[int]Pull
	faults   []*Fault
	nextID   int64
	calls    []string
}

// New starts a server for owner/repo.
func New(owner, repo string) *Server {
	s := &Server{Owner: owner, Repo: repo, Tokens: map[string]Token{}, pulls: map[int]Pull{}, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddComment stores a comment as if login had written it.
func (s *Server) AddComment(issue int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(issue, login, body).ID
}

func (s *Server) add(issue int, login, body string) *Comment {
	s.nextID++
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	c := &Comment{ID: s.nextID, Body: body, Login: login, Issue: issue, User: User{Login: login, Type: typ},
		HTMLURL: fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", s.Owner, s.Repo, issue, s.nextID)}
	s.comments = append(s.comments, c)
	return c
}

// AddPull stores a pull request.
func (s *Server) AddPull(p Pull) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls[p.Number] = p
}

// Fail queues a fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// fault answers a queued fault for r, if one matches.
func (s *Server) fault(w http.ResponseWriter, r *http.Request) bool {
	for _, f := range s.faults {
		if f.Times <= 0 || (f.Method != "" && f.Method != r.Method) || !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		f.Times--
		switch f.Kind {
		case "secondary":
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "You have exceeded a secondary rate limit.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
		case "primary":
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Duration(f.RetryAfter)*time.Second).Unix(), 10))
			ghError(w, http.StatusForbidden, "API rate limit exceeded for installation.")
		default:
			ghError(w, http.StatusBadGateway, "Server Error")
		}
		return true
	}
	return false
}

// Comments returns the comments on issue, oldest first.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Calls lists "METHOD path" for each request served.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

var (
	listRE    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`)
	commentRE = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$`)
	pullRE    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	tokStr, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok, ok := s.Tokens[tokStr]
	if !ok {
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	if s.fault(w, r) {
		return
	}
	if m := pullRE.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet {
		n, _ := strconv.Atoi(m[3])
		p, ok := s.pulls[n]
		if !ok || m[1] != s.Owner || m[2] != s.Repo {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"number": p.Number, "state": "open",
			"head": map[string]any{"sha": p.HeadSHA, "repo": map[string]any{"full_name": p.HeadRepo}}})
		return
	}
	if r.URL.Path == "/user" && r.Method == http.MethodGet {
		if tok.App {
			ghError(w, http.StatusForbidden, "Resource not accessible by integration")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"login": tok.Login})
		return
	}
	write := r.Method != http.MethodGet
	if m := listRE.FindStringSubmatch(r.URL.Path); m != nil {
		if m[1] != s.Owner || m[2] != s.Repo {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		issue, _ := strconv.Atoi(m[3])
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, issue)
		case http.MethodPost:
			if tok.ReadOnly {
				ghError(w, http.StatusForbidden, "Resource not accessible by integration")
				return
			}
			body, ok := readBody(w, r)
			if !ok {
				return
			}
			writeJSON(w, http.StatusCreated, s.add(issue, tok.Login, body))
		default:
			ghError(w, http.StatusMethodNotAllowed, "method")
		}
		return
	}
	if m := commentRE.FindStringSubmatch(r.URL.Path); m != nil && write {
		if tok.ReadOnly {
			ghError(w, http.StatusForbidden, "Resource not accessible by integration")
			return
		}
		id, _ := strconv.ParseInt(m[3], 10, 64)
		idx := -1
		for i, c := range s.comments {
			if c.ID == id {
				idx = i
			}
		}
		if idx < 0 || m[1] != s.Owner || m[2] != s.Repo {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		c := s.comments[idx]
		if c.Login != tok.Login {
			// GitHub lets a repository writer edit others' comments, but an app token
			// editing a person's comment is exactly the bug the author check prevents.
			ghError(w, http.StatusForbidden, "Resource not accessible by integration")
			return
		}
		switch r.Method {
		case http.MethodPatch:
			body, ok := readBody(w, r)
			if !ok {
				return
			}
			c.Body = body
			writeJSON(w, http.StatusOK, c)
		case http.MethodDelete:
			s.comments = append(s.comments[:idx], s.comments[idx+1:]...)
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	ghError(w, http.StatusNotFound, "Not Found")
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, issue int) {
	var mine []*Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			mine = append(mine, c)
		}
	}
	per := 30
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	if s.PerPageMax > 0 {
		per = min(per, s.PerPageMax)
	}
	page := 1
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (len(mine)+per-1)/per)
	from := min((page-1)*per, len(mine))
	to := min(from+per, len(mine))
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="%s"`, s.URL, r.URL.Path, per, p, rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, http.StatusOK, mine[from:to])
}

func readBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.")
		return "", false
	}
	if utf8.RuneCountInString(*in.Body) > 65536 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"message": "Validation Failed",
			"errors":  []map[string]string{{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}},
		})
		return "", false
	}
	return *in.Body, true
}

func ghError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
