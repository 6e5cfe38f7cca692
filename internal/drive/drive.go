package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
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

// The app properties on everything the action creates. OwnerProperty marks a file
// or folder as the action's (a file without it is someone's own, and never written);
// PathProperty holds its slash path under the project folder, so it is found again
// after someone renamed it; SumProperty the MD5 of what it last wrote, so a later
// change by someone else (Colab saving outputs into the notebook) is noticed.
const (
	OwnerProperty = "prodcat"
	PathProperty  = "prodcat_path"
	SumProperty   = "prodcat_md5"
)

const maxPropertyBytes = 124

// ColabURL is the link that opens a Drive notebook in Colab.
func ColabURL(fileID string) string { return "https://colab.research.google.com/drive/" + fileID }

// Options configure a publish.
type Options struct {
	FolderID  string  // the Drive project folder; "" publishes to LocalRoot
	LocalRoot string  // the local stand-in for Google Drive ("" = DefaultLocalRoot)
	Share     bool    // give "anyone with the link" read access to the notebooks
	ShareWith []Grant // people and groups who review (share-with)

	Endpoint   string       // API base URL override, e.g. an httptest server + "/drive/v3/"
	HTTPClient *http.Client // base transport and timeouts; nil means a 2-minute timeout
	ChunkSize  int          // resumable chunk size; files larger than this upload resumably

	// Attempts bounds tries per operation on 429, 5xx, rate-limit 403s and network errors.
	Attempts int
	// Backoff is the wait before retry n (1-based); tests make it instant.
	Backoff func(n int) time.Duration

	Logf func(format string, args ...any)
}

// Client is the Drive store of one project folder.
type Client struct {
	svc     *drivev3.Service
	auth    *Auth
	opts    Options
	name    string            // the project folder's name
	driveID string            // the shared drive holding the folder, "" for My Drive
	folders map[string]*entry // rel dir -> folder; "" is the project folder
	checked bool              // the target folder was found and is writable
	mount   string            // the project folder's path in Colab's mounted Drive
	mountW  string            // why mount is a guess
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
	c := &Client{svc: svc, auth: auth, opts: opts, folders: map[string]*entry{}}
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
	c.name = f.Name
	c.folders[""] = &entry{ID: f.Id, Name: f.Name, Folder: true}
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

const fileFields = "id,name,md5Checksum,appProperties,mimeType,headRevisionId,modifiedTime"

func (c *Client) toEntry(f *drivev3.File, rel string) *entry {
	return &entry{
		ID: f.Id, Rel: rel, Name: f.Name, Folder: f.MimeType == FolderMIME,
		Ours: f.AppProperties[OwnerProperty] != "" || f.AppProperties[PathProperty] != "",
		MD5:  f.Md5Checksum, Written: f.AppProperties[SumProperty],
		Revision: f.HeadRevisionId, Modified: f.ModifiedTime,
	}
}

// tags are the app properties of a file or folder the action writes. Drive caps a
// property at 124 bytes of key plus value: a longer path is left out, and the file
// is then found by name (and still known as the action's by OwnerProperty).
func tags(rel, sum string) map[string]string {
	props := map[string]string{OwnerProperty: "1"}
	if sum != "" {
		props[SumProperty] = sum
	}
	if len(PathProperty)+len(rel) <= maxPropertyBytes {
		props[PathProperty] = rel
	}
	return props
}

func (c *Client) folder(ctx context.Context, rel string, create bool) (*entry, error) {
	if e, ok := c.folders[rel]; ok {
		return e, nil
	}
	parent, err := c.folder(ctx, parentDir(rel), create)
	if err != nil || parent == nil {
		return nil, err
	}
	name := path.Base(rel)
	var e *entry
	err = c.retry(ctx, "folder "+rel, func() error {
		q := fmt.Sprintf("'%s' in parents and name = '%s' and mimeType = '%s' and trashed = false", EscapeQ(parent.ID), EscapeQ(name), FolderMIME)
		found, err := c.list(ctx, q, "createdTime")
		if err != nil {
			return err
		}
		if f := pick(found, rel, true); f != nil {
			e = c.toEntry(f, rel)
			return nil
		}
		if !create {
			return nil
		}
		f, err := c.svc.Files.Create(&drivev3.File{Name: name, MimeType: FolderMIME, Parents: []string{parent.ID}, AppProperties: tags(rel, "")}).
			SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
		if err != nil {
			return err
		}
		e = c.toEntry(f, rel)
		c.opts.Logf("%-9s %s/", "created", rel)
		return c.converge(ctx, q, rel, &e)
	})
	if err != nil {
		return nil, c.explain(err, "create folder "+rel)
	}
	if e != nil {
		c.folders[rel] = e
	}
	return e, nil
}

// converge settles a race: two runs (two pull requests' first pushes) that both
// found no folder may both have created one. Each looks again and keeps the oldest,
// trashing its own newer, still empty, copy, so both write into the same folder.
func (c *Client) converge(ctx context.Context, q, rel string, e **entry) error {
	found, err := c.list(ctx, q, "createdTime")
	if err != nil || len(found) < 2 || found[0].Id == (*e).ID {
		return err
	}
	mine := *e
	*e = c.toEntry(found[0], rel)
	if _, err := c.svc.Files.Update(mine.ID, &drivev3.File{Trashed: true}).SupportsAllDrives(true).Fields("id").Context(ctx).Do(); err != nil {
		c.opts.Logf("warning: a second %s/ was created by a concurrent run and could not be trashed: %v", rel, err)
	}
	return nil
}

func (c *Client) list(ctx context.Context, q, orderBy string) ([]*drivev3.File, error) {
	call := c.svc.Files.List().Q(q).SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
		Fields("nextPageToken", googleapi.Field("files("+fileFields+")")).PageSize(100)
	if orderBy != "" {
		call = call.OrderBy(orderBy)
	}
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

// find looks for rel inside its one parent folder only: a same-named file elsewhere
// is never considered.
func (c *Client) find(ctx context.Context, parentID, rel string) (*entry, error) {
	name := path.Base(rel)
	q := fmt.Sprintf("'%s' in parents and trashed = false and name = '%s'", EscapeQ(parentID), EscapeQ(name))
	if len(PathProperty)+len(rel) <= maxPropertyBytes {
		q = fmt.Sprintf("'%s' in parents and trashed = false and (appProperties has { key='%s' and value='%s' } or name = '%s')",
			EscapeQ(parentID), PathProperty, EscapeQ(rel), EscapeQ(name))
	}
	found, err := c.list(ctx, q, "")
	if err != nil {
		return nil, err
	}
	if f := pick(found, rel, false); f != nil {
		return c.toEntry(f, rel), nil
	}
	return nil, nil
}

func (c *Client) file(ctx context.Context, rel string) (*entry, error) {
	parent, err := c.folder(ctx, parentDir(rel), false)
	if err != nil || parent == nil {
		return nil, err
	}
	var e *entry
	err = c.retry(ctx, "look up "+rel, func() error {
		var err error
		e, err = c.find(ctx, parent.ID, rel)
		return err
	})
	if err != nil {
		return nil, c.explain(err, "look up "+rel)
	}
	return e, nil
}

// pick prefers the file tagged with the path, then one the action made, then a
// merely same-named one (someone's own).
func pick(files []*drivev3.File, rel string, folders bool) *drivev3.File {
	var ours, other *drivev3.File
	for _, f := range files {
		if (f.MimeType == FolderMIME) != folders {
			continue
		}
		switch {
		case f.AppProperties[PathProperty] == rel:
			return f
		case f.Name != path.Base(rel):
		case f.AppProperties[OwnerProperty] != "" && ours == nil:
			ours = f
		case other == nil:
			other = f
		}
	}
	if ours != nil {
		return ours
	}
	return other
}

// put is retried as a whole, lookup included, so a create that timed out but landed
// is found, not duplicated.
func (c *Client) put(ctx context.Context, it Item, sum string, old *entry) (*entry, error) {
	parent, err := c.folder(ctx, parentDir(it.Rel), true)
	if err != nil {
		return nil, err
	}
	name := path.Base(it.Rel)
	props := tags(it.Rel, sum)
	var out *entry
	attempt := 0
	err = c.retry(ctx, "upload "+it.Rel, func() error {
		attempt++
		if old == nil && attempt > 1 {
			e, err := c.find(ctx, parent.ID, it.Rel)
			if err != nil {
				return err
			}
			if e != nil && e.Ours && e.MD5 == sum {
				out = e
				return nil
			}
		}
		var f *drivev3.File
		var err error
		if old != nil && old.MD5 == sum {
			f, err = c.svc.Files.Update(old.ID, &drivev3.File{AppProperties: props}).SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
		} else {
			r, err := it.open()
			if err != nil {
				return permanent{err}
			}
			defer r.Close()
			media := []googleapi.MediaOption{googleapi.ContentType(it.MimeType)}
			if c.opts.ChunkSize > 0 {
				media = append(media, googleapi.ChunkSize(c.opts.ChunkSize))
			}
			if old != nil {
				f, err = c.svc.Files.Update(old.ID, &drivev3.File{AppProperties: props}).Media(r, media...).
					SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
			} else {
				f, err = c.svc.Files.Create(&drivev3.File{Name: name, Parents: []string{parent.ID}, MimeType: it.MimeType, AppProperties: props}).
					Media(r, media...).SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
			}
			if err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
		out = c.toEntry(f, it.Rel)
		return nil
	})
	if err != nil {
		return nil, c.explain(err, "upload "+it.Rel)
	}
	return out, nil
}

// maxRead bounds what read downloads: it reads the action's small JSON records.
const maxRead = 16 << 20

func (c *Client) read(ctx context.Context, e *entry) ([]byte, error) {
	var b []byte
	err := c.retry(ctx, "download "+e.Rel, func() error {
		res, err := c.svc.Files.Get(e.ID).SupportsAllDrives(true).Context(ctx).Download()
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, err = io.ReadAll(io.LimitReader(res.Body, maxRead))
		return err
	})
	if err != nil {
		return nil, c.explain(err, "download "+e.Rel)
	}
	return b, nil
}

func (c *Client) keepRevision(ctx context.Context, e *entry) (string, error) {
	rev := e.Revision
	err := c.retry(ctx, "keep revision of "+e.Rel, func() error {
		if rev == "" {
			f, err := c.svc.Files.Get(e.ID).SupportsAllDrives(true).Fields("headRevisionId").Context(ctx).Do()
			if err != nil {
				return err
			}
			if rev = f.HeadRevisionId; rev == "" {
				return permanent{errors.New("Drive lists no revision for it")}
			}
		}
		_, err := c.svc.Revisions.Update(e.ID, rev, &drivev3.Revision{KeepForever: true}).Fields("id,keepForever").Context(ctx).Do()
		return err
	})
	if err != nil {
		return "", c.explain(err, "keep the current revision of "+e.Rel)
	}
	if strings.HasSuffix(e.Rel, ".ipynb") {
		return fmt.Sprintf("Drive revision %s, kept forever: open the notebook in Colab, File → Revision history", rev), nil
	}
	return fmt.Sprintf("Drive revision %s, kept forever: in Drive, right-click the file → File information → Manage versions", rev), nil
}

func (c *Client) trash(ctx context.Context, e *entry) (string, error) {
	err := c.retry(ctx, "trash "+e.Rel, func() error {
		_, err := c.svc.Files.Update(e.ID, &drivev3.File{Trashed: true}).SupportsAllDrives(true).Fields("id,trashed").Context(ctx).Do()
		return err
	})
	if err != nil {
		return "", c.explain(err, "move "+e.Rel+" to the trash")
	}
	for rel := range c.folders {
		if rel == e.Rel || strings.HasPrefix(rel, e.Rel+"/") {
			delete(c.folders, rel)
		}
	}
	return "the Drive trash (restore it from Trash within 30 days)", nil
}

func (c *Client) children(ctx context.Context, dir *entry) ([]*entry, error) {
	var out []*entry
	err := c.retry(ctx, "list "+dir.Rel, func() error {
		found, err := c.list(ctx, fmt.Sprintf("'%s' in parents and trashed = false", EscapeQ(dir.ID)), "")
		if err != nil {
			return err
		}
		out = out[:0]
		for _, f := range found {
			out = append(out, c.toEntry(f, path.Join(dir.Rel, f.Name)))
		}
		return nil
	})
	if err != nil {
		return nil, c.explain(err, "list "+dir.Rel)
	}
	return out, nil
}

func (c *Client) grant(ctx context.Context, e *entry, g Grant) (string, error) {
	var have []*drivev3.Permission
	err := c.retry(ctx, "list permissions of "+e.Rel, func() error {
		have = nil
		return c.svc.Permissions.List(e.ID).SupportsAllDrives(true).
			Fields("nextPageToken", "permissions(id,type,role,emailAddress,domain)").Context(ctx).
			Pages(ctx, func(l *drivev3.PermissionList) error {
				have = append(have, l.Permissions...)
				return nil
			})
	})
	if err != nil {
		return "", shareError(err)
	}
	for _, p := range have {
		if p.Type != g.Type || (g.Type != "anyone" && !strings.EqualFold(p.EmailAddress, g.Email)) {
			continue
		}
		if roleRank[p.Role] >= roleRank[g.Role] {
			return fmt.Sprintf("%s already has %s access", g.label(), p.Role), nil
		}
		err := c.retry(ctx, "share "+e.Rel, func() error {
			_, err := c.svc.Permissions.Update(e.ID, p.Id, &drivev3.Permission{Role: g.Role}).SupportsAllDrives(true).Fields("id").Context(ctx).Do()
			return err
		})
		if err != nil {
			return "", shareError(err)
		}
		return fmt.Sprintf("%s raised from %s to %s", g.label(), p.Role, g.Role), nil
	}
	err = c.retry(ctx, "share "+e.Rel, func() error {
		_, err := c.svc.Permissions.Create(e.ID, &drivev3.Permission{Type: g.Type, Role: g.Role, EmailAddress: g.Email}).
			SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		return err
	})
	if err != nil {
		return "", shareError(err)
	}
	return fmt.Sprintf("%s can now open it (%s)", g.label(), g.Role), nil
}

// shareError keeps the cause and says what a refusal means.
func shareError(err error) error {
	var ge *googleapi.Error
	if errors.As(err, &ge) && (ge.Code == http.StatusForbidden || ge.Code == http.StatusBadRequest) {
		return &explained{fmt.Sprintf("Drive refused (%d %s): a Workspace or shared drive policy forbids this sharing, or the address is not a Google account; share it by hand or change share-with", ge.Code, reason(ge)), err}
	}
	return err
}

// mountPath resolves, once, where the project folder appears in Colab's mounted
// Drive by walking its parents: My Drive is /content/drive/MyDrive, a shared drive
// /content/drive/Shareddrives/<its name>.
func (c *Client) mountPath(ctx context.Context, rel string) (string, error) {
	if c.mount == "" {
		m, err := c.resolveMount(ctx)
		if err != nil {
			return "", err
		}
		c.mount = m
	}
	return path.Join(c.mount, rel), nil
}

func (c *Client) mountWarning() string { return c.mountW }

func (c *Client) get(ctx context.Context, id, fields string) (*drivev3.File, error) {
	var f *drivev3.File
	err := c.retry(ctx, "read folder "+id, func() error {
		var err error
		f, err = c.svc.Files.Get(id).SupportsAllDrives(true).Fields(googleapi.Field(fields)).Context(ctx).Do()
		return err
	})
	return f, err
}

func (c *Client) resolveMount(ctx context.Context) (string, error) {
	var myRoot string
	if c.driveID == "" {
		root, err := c.get(ctx, "root", "id")
		if err != nil {
			return "", c.explain(err, "find My Drive")
		}
		myRoot = root.Id
	}
	var names []string // from the project folder up
	under := func(base string) string {
		parts := []string{base}
		for i := len(names) - 1; i >= 0; i-- {
			parts = append(parts, names[i])
		}
		return path.Join(parts...)
	}
	id := c.opts.FolderID
	for depth := 0; depth < 64; depth++ {
		switch {
		case c.driveID != "" && id == c.driveID:
			var d *drivev3.Drive
			err := c.retry(ctx, "read shared drive", func() error {
				var err error
				d, err = c.svc.Drives.Get(c.driveID).Fields("id,name").Context(ctx).Do()
				return err
			})
			if err != nil {
				return "", c.explain(err, "read the shared drive's name")
			}
			return under("/content/drive/Shareddrives/" + d.Name), nil
		case id == myRoot:
			return under("/content/drive/MyDrive"), nil
		}
		f, err := c.get(ctx, id, "id,name,parents")
		var ge *googleapi.Error
		if err != nil && !(errors.As(err, &ge) && (ge.Code == http.StatusNotFound || ge.Code == http.StatusForbidden)) {
			return "", c.explain(err, "read the folder's parents")
		}
		if err != nil || len(f.Parents) == 0 {
			// Shared with the account from someone else's Drive: Colab mounts it only
			// through a shortcut in My Drive, which is where this assumes one.
			top := c.name
			if len(names) > 0 {
				top = names[len(names)-1]
			}
			if err == nil {
				names, top = append(names, f.Name), f.Name
			}
			c.mountW = fmt.Sprintf("the Drive folder %q is shared with %s but is not in its My Drive or on a shared drive, so Colab mounts it only through a shortcut: the notebooks assume one at MyDrive/%s (in Drive: right-click %q → Organize → Add shortcut → My Drive)", top, c.who(), top, top)
			return under("/content/drive/MyDrive"), nil
		}
		names = append(names, f.Name)
		id = f.Parents[0]
	}
	return "", fmt.Errorf("the Drive folder %s is more than 64 folders deep", c.opts.FolderID)
}

func (c *Client) link(e *entry) string {
	if strings.HasSuffix(e.Rel, ".ipynb") {
		return ColabURL(e.ID)
	}
	return "https://drive.google.com/file/d/" + e.ID + "/view"
}

func (c *Client) folderLink(e *entry) string { return "https://drive.google.com/drive/folders/" + e.ID }

// EscapeQ escapes a value for a single-quoted string in a Drive files.list query.
func EscapeQ(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// explained is an error message that says what to fix, keeping its cause.
type explained struct {
	msg   string
	cause error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.cause }

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
	return &explained{doing + ": " + fix, err}
}
