package drive

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	drivev3 "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// FolderMIME is Drive's folder type.
const FolderMIME = "application/vnd.google-apps.folder"

// PathProperty is the app property holding a file's slash path under PROJECT_ROOT.
// It lets a publish find its own file again even after someone renamed it in Drive.
const PathProperty = "prodcat_path"

const maxPropertyBytes = 124

// ColabURL is the link that opens a Drive notebook in Colab.
func ColabURL(fileID string) string { return "https://colab.research.google.com/drive/" + fileID }

// Options configure a Drive publish.
type Options struct {
	FolderID string // the Drive folder that plays PROJECT_ROOT
	Share    bool   // give "anyone with the link" read access to the notebook

	Endpoint   string       // API base URL override, e.g. an httptest server + "/drive/v3/"
	HTTPClient *http.Client // base transport and timeouts; nil means a 2-minute timeout
	ChunkSize  int          // resumable chunk size; files larger than this upload resumably

	// Attempts bounds tries per operation on 429, 5xx, rate-limit 403s and network errors.
	Attempts int
	// Backoff is the wait before retry n (1-based); tests make it instant.
	Backoff func(n int) time.Duration

	Logf func(format string, args ...any)
}

// FileResult is what happened to one planned file.
type FileResult struct {
	Rel    string
	ID     string
	Action string // "created", "updated", "unchanged"
}

// Report is a publish's outcome.
type Report struct {
	Target     string // "drive" or "local"
	FolderID   string // Drive: the PROJECT_ROOT folder
	Root       string // local: the PROJECT_ROOT folder on disk
	NotebookID string // Drive file ID of the notebook
	ColabURL   string
	Notebook   string // local: the notebook's path
	Files      []FileResult
	Skipped    []Skip
	Warnings   []string
}

// Client publishes to one Drive folder.
type Client struct {
	svc     *drivev3.Service
	auth    *Auth
	opts    Options
	driveID string            // the shared drive holding the folder, "" for My Drive
	folders map[string]string // rel dir -> folder ID; "" is the root folder
	checked bool              // the target folder was found and is writable
}

// New authenticates (fetching a token once so a bad credential fails here, with a
// message saying what to fix) and checks the target folder.
func New(ctx context.Context, creds Credentials, opts Options) (*Client, error) {
	if opts.FolderID == "" {
		return nil, errors.New("no Drive folder id: set folder-id (--folder-id) to the ID at the end of the folder's URL, drive.google.com/drive/folders/ID")
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 6
	}
	if opts.Backoff == nil {
		opts.Backoff = defaultBackoff
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 2 * time.Minute}
	}
	auth, err := creds.Resolve(ctx, base)
	if err != nil {
		return nil, err
	}
	if _, err := auth.TokenSource.Token(); err != nil {
		return nil, tokenError(auth, err)
	}
	hc := &http.Client{
		Timeout:   base.Timeout,
		Transport: &bearer{src: oauth2.ReuseTokenSource(nil, auth.TokenSource), base: base.Transport},
	}
	so := []option.ClientOption{option.WithHTTPClient(hc)}
	if opts.Endpoint != "" {
		so = append(so, option.WithEndpoint(opts.Endpoint))
	}
	svc, err := drivev3.NewService(ctx, so...)
	if err != nil {
		return nil, fmt.Errorf("drive client: %w", err)
	}
	c := &Client{svc: svc, auth: auth, opts: opts, folders: map[string]string{"": opts.FolderID}}
	if err := c.checkFolder(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// bearer adds the access token. oauth2.Transport would do, but http.Client's
// Timeout calls its deprecated CancelRequest, which logs a warning into the job log.
type bearer struct {
	src  oauth2.TokenSource
	base http.RoundTripper
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.src.Token()
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	tok.SetAuthHeader(r)
	base := b.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// Auth describes the credentials in use.
func (c *Client) Auth() *Auth { return c.auth }

func (c *Client) checkFolder(ctx context.Context) error {
	var f *drivev3.File
	err := c.retry(ctx, "open folder", func() error {
		var err error
		f, err = c.svc.Files.Get(c.opts.FolderID).SupportsAllDrives(true).
			Fields("id,name,mimeType,driveId,trashed,capabilities(canAddChildren)").Context(ctx).Do()
		return err
	})
	if err != nil {
		return c.explain(err, "open the Drive folder "+c.opts.FolderID)
	}
	switch {
	case f.MimeType != FolderMIME:
		return fmt.Errorf("Drive ID %s is %q (%s), not a folder: set folder-id to a folder's ID", f.Id, f.Name, f.MimeType)
	case f.Trashed:
		return fmt.Errorf("the Drive folder %q (%s) is in the trash: restore it or pick another folder", f.Name, f.Id)
	case f.Capabilities != nil && !f.Capabilities.CanAddChildren:
		return fmt.Errorf("%s can read but not write the Drive folder %q (%s): share it with %s as Editor", c.who(), f.Name, f.Id, c.who())
	}
	c.driveID = f.DriveId
	c.checked = true
	if c.driveID == "" && c.auth.ServiceAccount() {
		// Existing files owned by a person can still be updated, so this only warns;
		// creating a new file will fail with storageQuotaExceeded, explained then.
		c.opts.Logf("warning: %s is a service account and folder %q is in someone's My Drive; service accounts have no Drive storage, so new files cannot be created there. Use a folder on a shared drive that the service account is a member of, or an OAuth refresh token.", c.who(), f.Name)
	}
	return nil
}

func (c *Client) who() string {
	if c.auth.Account != "" {
		return c.auth.Account
	}
	return "the account behind the " + c.auth.Kind
}

// Publish writes plan into the folder: folders first, then the notebook, then the rest.
func (c *Client) Publish(ctx context.Context, plan Plan) (*Report, error) {
	rep := &Report{Target: "drive", FolderID: c.opts.FolderID, Skipped: plan.Skipped}
	for _, d := range plan.Dirs {
		if _, err := c.folder(ctx, d); err != nil {
			return rep, err
		}
	}
	for _, it := range plan.Items {
		res, err := c.upsert(ctx, it)
		if err != nil {
			return rep, err
		}
		rep.Files = append(rep.Files, res)
		c.opts.Logf("%-9s %s", res.Action, it.Rel)
		if it.Notebook {
			rep.NotebookID = res.ID
			rep.ColabURL = ColabURL(res.ID)
		}
	}
	if c.opts.Share && rep.NotebookID != "" {
		if err := c.share(ctx, rep.NotebookID); err != nil {
			// The upload worked; a sharing policy must not lose it.
			w := fmt.Sprintf("the notebook is published but could not be shared with \"anyone with the link\": %v", err)
			rep.Warnings = append(rep.Warnings, w)
			c.opts.Logf("warning: %s", w)
		}
	}
	return rep, nil
}

// folder finds or creates the folder for rel (a slash path), parents first.
func (c *Client) folder(ctx context.Context, rel string) (string, error) {
	if id, ok := c.folders[rel]; ok {
		return id, nil
	}
	parent, err := c.folder(ctx, parentDir(rel))
	if err != nil {
		return "", err
	}
	name := path.Base(rel)
	var id string
	err = c.retry(ctx, "folder "+rel, func() error {
		q := fmt.Sprintf("'%s' in parents and name = '%s' and mimeType = '%s' and trashed = false", EscapeQ(parent), EscapeQ(name), FolderMIME)
		found, err := c.list(ctx, q)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			id = found[0].Id
			return nil
		}
		f, err := c.svc.Files.Create(&drivev3.File{Name: name, MimeType: FolderMIME, Parents: []string{parent}}).
			SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		if err != nil {
			return err
		}
		id = f.Id
		c.opts.Logf("%-9s %s/", "created", rel)
		return nil
	})
	if err != nil {
		return "", c.explain(err, "create folder "+rel)
	}
	c.folders[rel] = id
	return id, nil
}

func parentDir(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

func (c *Client) list(ctx context.Context, q string) ([]*drivev3.File, error) {
	call := c.svc.Files.List().Q(q).SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
		Fields("nextPageToken", "files(id,name,md5Checksum,appProperties,mimeType)").PageSize(100)
	if c.driveID != "" {
		call = call.Corpora("drive").DriveId(c.driveID)
	}
	var out []*drivev3.File
	err := call.Pages(ctx, func(l *drivev3.FileList) error {
		out = append(out, l.Files...)
		return nil
	})
	return out, err
}

// upsert updates the file for it.Rel in its folder, or creates it. Lookup and write
// are retried together, so a create that timed out but landed is found, not duplicated.
func (c *Client) upsert(ctx context.Context, it Item) (FileResult, error) {
	parent, err := c.folder(ctx, parentDir(it.Rel))
	if err != nil {
		return FileResult{}, err
	}
	sum, err := fileMD5(it.Local)
	if err != nil {
		return FileResult{}, fmt.Errorf("read %s: %w", it.Local, err)
	}
	name := path.Base(it.Rel)
	props := map[string]string{PathProperty: it.Rel}
	// Drive caps a property at 124 bytes of key plus value; a longer path is
	// matched by name alone rather than failing the upload.
	tagged := len(PathProperty)+len(it.Rel) <= maxPropertyBytes
	if !tagged {
		props = nil
	}
	res := FileResult{Rel: it.Rel}
	err = c.retry(ctx, "upload "+it.Rel, func() error {
		// Matched inside this one folder only: a same-named file elsewhere is never touched.
		q := fmt.Sprintf("'%s' in parents and trashed = false and name = '%s'", EscapeQ(parent), EscapeQ(name))
		if tagged {
			q = fmt.Sprintf("'%s' in parents and trashed = false and (appProperties has { key='%s' and value='%s' } or name = '%s')",
				EscapeQ(parent), PathProperty, EscapeQ(it.Rel), EscapeQ(name))
		}
		found, err := c.list(ctx, q)
		if err != nil {
			return err
		}
		existing := pick(found, it.Rel)
		f, err := os.Open(it.Local)
		if err != nil {
			return permanent{err}
		}
		defer f.Close()
		media := []googleapi.MediaOption{googleapi.ContentType(it.MimeType)}
		if c.opts.ChunkSize > 0 {
			media = append(media, googleapi.ChunkSize(c.opts.ChunkSize))
		}
		if existing != nil {
			res.ID = existing.Id
			if existing.Md5Checksum == sum && (!tagged || existing.AppProperties[PathProperty] == it.Rel) {
				res.Action = "unchanged"
				return nil
			}
			_, err = c.svc.Files.Update(existing.Id, &drivev3.File{AppProperties: props}).Media(f, media...).
				SupportsAllDrives(true).Fields("id").Context(ctx).Do()
			res.Action = "updated"
			return err
		}
		created, err := c.svc.Files.Create(&drivev3.File{Name: name, Parents: []string{parent}, MimeType: it.MimeType, AppProperties: props}).
			Media(f, media...).SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		if err != nil {
			return err
		}
		res.ID, res.Action = created.Id, "created"
		return nil
	})
	if err != nil {
		return res, c.explain(err, "upload "+it.Rel)
	}
	return res, nil
}

// pick prefers the file this tool tagged with the path over a merely same-named one.
func pick(files []*drivev3.File, rel string) *drivev3.File {
	for _, f := range files {
		if f.AppProperties[PathProperty] == rel {
			return f
		}
	}
	for _, f := range files {
		if f.MimeType != FolderMIME {
			return f
		}
	}
	return nil
}

func (c *Client) share(ctx context.Context, id string) error {
	err := c.retry(ctx, "share", func() error {
		_, err := c.svc.Permissions.Create(id, &drivev3.Permission{Type: "anyone", Role: "reader"}).
			SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		return err
	})
	if err != nil {
		var ge *googleapi.Error
		if errors.As(err, &ge) && ge.Code == http.StatusForbidden {
			return fmt.Errorf("Drive refused (403 %s): a Workspace or shared drive policy forbids link sharing; share the notebook by hand or turn sharing off", reason(ge))
		}
		return err
	}
	c.opts.Logf("shared     notebook: anyone with the link can view")
	return nil
}

// EscapeQ escapes a value for a single-quoted string in a Drive files.list query.
func EscapeQ(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

func fileMD5(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func defaultBackoff(n int) time.Duration {
	d := time.Second << (n - 1)
	if d > 32*time.Second {
		d = 32 * time.Second
	}
	return d/2 + rand.N(d/2+1)
}

// retry runs op until it succeeds, fails for good, or runs out of attempts.
func (c *Client) retry(ctx context.Context, what string, op func() error) error {
	var err error
	for n := 1; ; n++ {
		err = op()
		if err == nil {
			return nil
		}
		wait, ok := retryable(err)
		if !ok || n >= c.opts.Attempts {
			if ok {
				return fmt.Errorf("gave up after %d attempts: %w", n, err)
			}
			return err
		}
		if wait == 0 {
			wait = c.opts.Backoff(n)
		}
		c.opts.Logf("retry     %s in %v (attempt %d of %d): %v", what, wait.Round(time.Millisecond), n+1, c.opts.Attempts, shortErr(err))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// retryable says whether err is transient, and how long the server asked us to wait.
func retryable(err error) (time.Duration, bool) {
	var p permanent
	if errors.As(err, &p) {
		return 0, false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return 0, false
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		wait := retryAfter(ge.Header)
		switch {
		case ge.Code == http.StatusTooManyRequests || ge.Code >= 500:
			return wait, true
		case ge.Code == http.StatusForbidden:
			// Drive reports its rate limits as 403 with these reasons.
			switch reason(ge) {
			case "rateLimitExceeded", "userRateLimitExceeded", "sharingRateLimitExceeded":
				return wait, true
			}
		}
		return 0, false
	}
	if errors.Is(err, context.Canceled) {
		return 0, false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return 0, true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded) {
		return 0, true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "connection refused", "broken pipe"} {
		if strings.Contains(msg, s) {
			return 0, true
		}
	}
	return 0, false
}

func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, time.Minute)
	}
	return 0
}

func reason(ge *googleapi.Error) string {
	for _, e := range ge.Errors {
		if e.Reason != "" {
			return e.Reason
		}
	}
	return ""
}

func shortErr(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		if r := reason(ge); r != "" {
			return fmt.Sprintf("HTTP %d %s", ge.Code, r)
		}
		return fmt.Sprintf("HTTP %d", ge.Code)
	}
	return err.Error()
}

// explain turns an API failure into one message that says what to fix.
func (c *Client) explain(err error, doing string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return tokenError(c.auth, err)
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	r := reason(ge)
	var fix string
	switch {
	case ge.Code == http.StatusUnauthorized:
		fix = fmt.Sprintf("Drive rejected the %s (401): it is invalid or expired. A ready access token lives about an hour; prefer a refresh token or a service account key", c.auth.Kind)
	case ge.Code == http.StatusForbidden && r == "storageQuotaExceeded" && c.auth.ServiceAccount():
		fix = fmt.Sprintf("%s is a service account, and service accounts have no Drive storage (\"Service Accounts do not have storage quota\"), so it cannot create files in a My Drive folder. Use a folder on a shared drive with the service account added as Content manager, or publish with an OAuth refresh token (%s, %s, %s)", c.who(), EnvClientID, EnvClientSecret, EnvRefreshToken)
	case ge.Code == http.StatusForbidden && r == "storageQuotaExceeded":
		fix = "the Drive owner's storage is full: free space or use another account"
	case ge.Code == http.StatusForbidden && (r == "accessNotConfigured" || r == "SERVICE_DISABLED"):
		fix = "the Google Drive API is not enabled for this Cloud project: enable it in the Cloud console (APIs & Services > Library > Google Drive API)"
	case ge.Code == http.StatusForbidden && r == "insufficientFilePermissions":
		fix = fmt.Sprintf("%s may read but not write here: share folder %s with it as Editor", c.who(), c.opts.FolderID)
	case ge.Code == http.StatusForbidden && (r == "insufficientPermissions" || r == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
		fix = fmt.Sprintf("the token lacks the Drive scope: request %s when creating it", Scope)
	case ge.Code == http.StatusForbidden:
		fix = fmt.Sprintf("Drive refused the request (403 %s): check that folder %s is shared with %s as Editor", r, c.opts.FolderID, c.who())
	case ge.Code == http.StatusNotFound && !c.checked:
		// The folder check itself: the ID or the sharing is wrong.
		fix = fmt.Sprintf("Drive says folder %s does not exist for %s (404): check the folder-id (the ID at the end of drive.google.com/drive/folders/ID) and share the folder with that account; for a shared drive, add the account as a member", c.opts.FolderID, c.who())
	case ge.Code == http.StatusNotFound:
		fix = fmt.Sprintf("Drive answered 404: a file or folder was deleted or unshared while publishing; run again (%s)", shortErr(err))
	default:
		return fmt.Errorf("%s: %w", doing, err)
	}
	return fmt.Errorf("%s: %s", doing, fix)
}
