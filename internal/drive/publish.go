package drive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/prodcat/colab-notebook-action/internal/notebook"
)

// entry is a file or folder found in the project folder.
type entry struct {
	ID       string // Drive file ID; local: the absolute path
	Rel      string // slash path under the project folder
	Name     string
	Folder   bool
	Ours     bool   // created by the action (tagged on Drive, in the manifest locally)
	MD5      string // the content now
	Written  string // MD5 of what the action last wrote there; "" when unknown
	Revision string // Drive: the head revision's ID
	Modified string // when the content last changed (RFC 3339), for messages
}

// store is where a publish lands: a Drive folder (Client) or its local stand-in
// (localStore). Publisher holds every rule about what may be written; a store only
// finds, writes and moves things.
type store interface {
	// folder returns the folder at rel ("" is the project folder itself), creating it
	// and its missing parents, tagged as the action's, when create is set; nil when
	// it does not exist and create is not set.
	folder(ctx context.Context, rel string, create bool) (*entry, error)
	// file returns the file at rel: the one the action tagged with that path (even if
	// someone renamed it), else a same-named one; nil when there is none.
	file(ctx context.Context, rel string) (*entry, error)
	// put writes it over old (nil: a new file) and tags the file as the action's, with
	// sum as what it last wrote. When old already holds sum only the tags change.
	put(ctx context.Context, it Item, sum string, old *entry) (*entry, error)
	read(ctx context.Context, e *entry) ([]byte, error)
	// keepRevision keeps e's current content for good and says where to find it.
	keepRevision(ctx context.Context, e *entry) (string, error)
	// trash moves e (a folder and all below it) where it can be restored from, and
	// says where.
	trash(ctx context.Context, e *entry) (string, error)
	// children lists what is directly inside the folder dir.
	children(ctx context.Context, dir *entry) ([]*entry, error)
	// grant gives g on e unless an equal or stronger grant exists; it says which.
	grant(ctx context.Context, e *entry, g Grant) (string, error)
	// mountPath is rel's path in the file system a notebook opened from it sees:
	// Colab's mounted Drive, or the local folder.
	mountPath(ctx context.Context, rel string) (string, error)
	mountWarning() string       // why mountPath is a guess, "" when it is not
	link(e *entry) string       // what a person opens: a Colab URL, or a local path
	folderLink(e *entry) string // a folder's Drive URL, or its local path
}

// Publisher publishes to one project folder, on Drive or local, by the same rules:
// it writes, updates or trashes only what it created, plus the notebook and src/ it
// builds from cells/ (after keeping whatever replaced content someone else wrote).
type Publisher struct {
	st   store
	kind string // "drive" or "local"
	opts Options
	// FolderID is the Drive folder; Root the local project folder (one is empty).
	FolderID, Root string
}

// ErrNoCredentials is Open's answer to a Drive folder without credentials.
var ErrNoCredentials = errors.New("no Google credentials")

// Open connects to the Drive folder opts.FolderID, or, when it is empty, to the local
// stand-in under opts.LocalRoot (DefaultLocalRoot if empty). Every caller (the
// publish command, the action) goes through here.
func Open(ctx context.Context, creds Credentials, opts Options) (*Publisher, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.FolderID == "" {
		root := opts.LocalRoot
		if root == "" {
			root = DefaultLocalRoot
		}
		st, err := openLocal(root)
		if err != nil {
			return nil, err
		}
		return &Publisher{st: st, kind: "local", opts: opts, Root: st.base}, nil
	}
	if creds.Empty() {
		return nil, fmt.Errorf("Drive folder %s: %w: set %s, %s and %s (OAuth user), or %s / %s (service account on a shared drive), or %s",
			opts.FolderID, ErrNoCredentials, EnvClientID, EnvClientSecret, EnvRefreshToken, EnvServiceAccountJSON, EnvCredentialsFile, EnvAccessToken)
	}
	c, err := New(ctx, creds, opts)
	if err != nil {
		return nil, err
	}
	return &Publisher{st: c, kind: "drive", opts: c.opts, FolderID: opts.FolderID}, nil
}

// Kind is "drive" or "local".
func (p *Publisher) Kind() string { return p.kind }

// Link is a notebook a person can open.
type Link struct {
	Rel       string // e.g. ci/pr-42/product_categorization_colab.ipynb
	ID        string // Drive file ID ("" locally)
	URL       string // the Colab link, or the local path
	FolderURL string // the folder holding it
	MountPath string // its folder's path as the notebook sees it (PROJECT_ROOT)
}

// FileResult is what happened to one planned file.
type FileResult struct {
	Rel    string
	ID     string
	Action string // "created", "updated", "unchanged", "skipped"
}

// Kept is replaced content the publish kept before writing over it.
type Kept struct {
	Rel      string
	Modified string // when that content was saved
	Where    string // how to find it again
}

// Report is a publish's outcome.
type Report struct {
	Target    string // "drive" or "local"
	Ref       string
	FolderID  string // Drive: the project folder
	FolderURL string // the project folder's link (Drive) or path (local)
	Root      string // local: the project folder on disk
	Notebook  Link   // the notebook this run published: the top one or the ref's own
	Top       Link   // the default branch's notebook, when there is one
	Files     []FileResult
	Skipped   []Skip
	NotOurs   []string // same-named files someone else made, left untouched
	Kept      []Kept
	Stale     []string // the action's files in ci/<ref>/run/ this run did not produce, trashed
	Warnings  []string
}

// warn adds to the report's warnings, which each caller shows its way (the action
// as annotations).
func (p *Publisher) warn(rep *Report, format string, a ...any) {
	rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, a...))
}

// Publish writes plan: folders first, then the notebook, src/, the artifacts and the
// record. A file of the same name that the action did not create is left untouched
// (and named in the report) unless it is the target's notebook or src/.
func (p *Publisher) Publish(ctx context.Context, plan Plan) (*Report, error) {
	t := plan.Target
	rep := &Report{Target: p.kind, Ref: t.Ref, FolderID: p.FolderID, Root: p.Root, Skipped: plan.Skipped}
	top, err := p.st.folder(ctx, "", false)
	if err != nil {
		return rep, err
	}
	rep.FolderURL = p.st.folderLink(top)
	for _, d := range plan.Dirs {
		if _, err := p.st.folder(ctx, d, true); err != nil {
			return rep, err
		}
	}
	for _, it := range plan.Items {
		var mount string
		if it.Kind == KindNotebook && !t.Default {
			if it, mount, err = p.preview(ctx, rep, t, it); err != nil {
				return rep, err
			}
		}
		res, e, err := p.write(ctx, rep, t, it)
		if err != nil {
			return rep, err
		}
		rep.Files = append(rep.Files, res)
		p.opts.Logf("%-9s %s", res.Action, it.Rel)
		if it.Kind == KindNotebook && e != nil {
			rep.Notebook = p.linkFor(ctx, e, t.NotebookRoot())
			rep.Notebook.MountPath = mount
		}
	}
	if err := p.prune(ctx, rep, plan); err != nil {
		return rep, err
	}
	if t.Default {
		rep.Top = rep.Notebook
	} else if e, err := p.st.file(ctx, NotebookFile); err == nil && e != nil {
		// Looked up, never written: a pull request's comment links it for comparison.
		rep.Top = p.linkFor(ctx, e, "")
	}
	p.share(ctx, rep)
	return rep, nil
}

// prune trashes the action's own files in ci/<ref>/run/ that this run did not
// produce (a full run's models beside a later Quick Start's record, a file over the
// size cap this time), so the folder holds one run; files someone else put there stay.
func (p *Publisher) prune(ctx context.Context, rep *Report, plan Plan) error {
	run, err := p.st.folder(ctx, plan.Target.RunDir(), false)
	if err != nil || run == nil {
		return err
	}
	planned := map[string]bool{}
	for _, it := range plan.Items {
		planned[it.Rel] = true
	}
	var walk func(dir *entry) error
	walk = func(dir *entry) error {
		kids, err := p.st.children(ctx, dir)
		if err != nil {
			return err
		}
		for _, k := range kids {
			switch {
			case k.Folder:
				if err := walk(k); err != nil {
					return err
				}
			case k.Ours && !planned[k.Rel]:
				if _, err := p.st.trash(ctx, k); err != nil {
					return err
				}
				rep.Stale = append(rep.Stale, k.Rel)
				p.opts.Logf("%-9s %s (an earlier run's; this run did not produce it)", "trashed", k.Rel)
			}
		}
		return nil
	}
	return walk(run)
}

func (p *Publisher) linkFor(ctx context.Context, e *entry, root string) Link {
	l := Link{Rel: e.Rel, URL: p.st.link(e)}
	if p.kind == "drive" {
		l.ID = e.ID
	}
	if f, err := p.st.folder(ctx, root, false); err == nil && f != nil {
		l.FolderURL = p.st.folderLink(f)
	}
	return l
}

// preview sets the published copy's parameters so that, opened in Colab, the
// notebook keeps its artifacts in its own ci/<ref>/ folder and reads the dataset
// from the top folder's data/raw/ when its own has none. It returns that folder's path.
func (p *Publisher) preview(ctx context.Context, rep *Report, t Target, it Item) (Item, string, error) {
	own, err := p.st.mountPath(ctx, t.Dir())
	if err != nil {
		return it, "", err
	}
	parent, err := p.st.mountPath(ctx, "")
	if err != nil {
		return it, "", err
	}
	if w := p.st.mountWarning(); w != "" {
		rep.Warnings = append(rep.Warnings, w)
	}
	src, err := os.ReadFile(it.Local)
	if err != nil {
		return it, "", fmt.Errorf("read the notebook: %w", err)
	}
	out, missing, err := notebook.SetParameters(src, []notebook.Param{
		{Name: ParamProjectRoot, Value: own}, {Name: ParamParentRoot, Value: parent},
	})
	if err != nil {
		return it, "", fmt.Errorf("set the preview notebook's parameters: %w", err)
	}
	for _, name := range missing {
		if name == ParamProjectRoot {
			// Without it the preview would run in, and write into, the default branch's folder.
			return it, "", fmt.Errorf("the notebook's parameters cell has no %s = \"\" line: a preview notebook cannot be given its own folder; add it to cells/01_parameters.py", ParamProjectRoot)
		}
		p.warn(rep, "the notebook's parameters cell has no %s: the preview in %s/ cannot read the top folder's data/raw/", name, t.Dir())
	}
	it.Local, it.Data, it.Size = "", out, int64(len(out))
	return it, own, nil
}

// The parameters a preview notebook gets (cells/01_parameters.py).
const (
	ParamProjectRoot = "PROJECT_ROOT_OVERRIDE"
	ParamParentRoot  = "PARENT_PROJECT_ROOT"
)

// write applies the ownership rules to one item.
func (p *Publisher) write(ctx context.Context, rep *Report, t Target, it Item) (FileResult, *entry, error) {
	res := FileResult{Rel: it.Rel}
	sum, err := it.md5()
	if err != nil {
		return res, nil, fmt.Errorf("read %s: %w", it.Local, err)
	}
	old, err := p.st.file(ctx, it.Rel)
	if err != nil {
		return res, nil, err
	}
	switch {
	case old == nil:
		res.Action = "created"
	case !old.Ours && !generated(t, it.Rel):
		rep.NotOurs = append(rep.NotOurs, it.Rel)
		p.warn(rep, "left untouched: %s already exists and was not created by this action (it is someone's own file)", it.Rel)
		res.ID, res.Action = old.ID, "skipped"
		return res, nil, nil
	case old.MD5 == sum:
		res.Action = "unchanged"
	default:
		res.Action = "updated"
		if old.Written != old.MD5 {
			// Someone saved over what the action wrote (a Colab run saves outputs into
			// the notebook), or the file was never the action's: keep it first.
			where, err := p.st.keepRevision(ctx, old)
			if err != nil {
				p.warn(rep, "not updated: %s was changed since the action wrote it, and that version could not be kept (%v); it is left as it is", it.Rel, err)
				res.ID, res.Action = old.ID, "skipped"
				return res, nil, nil
			}
			rep.Kept = append(rep.Kept, Kept{Rel: it.Rel, Modified: old.Modified, Where: where})
			p.opts.Logf("kept      %s as it was before this update (saved %s): %s", it.Rel, orUnknown(old.Modified), where)
		}
	}
	if res.Action == "unchanged" && old.Ours && old.Written == sum {
		res.ID = old.ID
		return res, old, nil
	}
	e, err := p.st.put(ctx, it, sum, old)
	if err != nil {
		return res, nil, err
	}
	res.ID = e.ID
	return res, e, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "at an unknown time"
	}
	return s
}

// share grants the notebooks a run's reviewers open: the one it published and the
// default branch's. Sharing never fails a publish: a refusal is a warning.
func (p *Publisher) share(ctx context.Context, rep *Report) {
	var grants []Grant
	if p.opts.Share {
		grants = append(grants, Grant{Type: "anyone", Role: "reader"})
	}
	grants = append(grants, p.opts.ShareWith...)
	if len(grants) == 0 {
		return
	}
	if p.kind == "local" {
		p.opts.Logf("sharing is skipped for the local folder (it applies on Google Drive)")
		return
	}
	seen := map[string]bool{}
	for _, l := range []Link{rep.Notebook, rep.Top} {
		if l.Rel == "" || seen[l.Rel] {
			continue
		}
		seen[l.Rel] = true
		e, err := p.st.file(ctx, l.Rel)
		if err != nil || e == nil {
			continue
		}
		for _, g := range grants {
			what, err := p.st.grant(ctx, e, g)
			if err != nil {
				p.warn(rep, "%s is published but could not be shared with %s: %v", l.Rel, g, err)
				continue
			}
			p.opts.Logf("%-9s %s: %s", "shared", l.Rel, what)
		}
	}
}

// CloseReport is what closing a pull request's preview did.
type CloseReport struct {
	Folder  string // ci/pr-<N>
	Found   bool
	Trashed bool
	Where   string // where the folder went
	NotOurs bool   // a folder of that name exists but the action did not create it
	Record  []byte // the preview's last run record, read before trashing
	Top     Link   // the default branch's notebook, when there is one
}

// ClosePreview moves a closed pull request's ci/pr-<N>/ folder to the trash
// (recoverable), if the action created it.
func (p *Publisher) ClosePreview(ctx context.Context, t Target) (*CloseReport, error) {
	cr := &CloseReport{Folder: t.Dir()}
	if e, err := p.st.file(ctx, NotebookFile); err == nil && e != nil {
		cr.Top = p.linkFor(ctx, e, "")
	}
	dir, err := p.st.folder(ctx, t.Dir(), false)
	if err != nil || dir == nil {
		return cr, err
	}
	cr.Found = true
	if !dir.Ours {
		cr.NotOurs = true
		return cr, nil
	}
	if cr.Record, err = p.ReadRecord(ctx, t.Ref); err != nil {
		p.opts.Logf("warning: the last run record of %s could not be read: %v", t.Dir(), err)
	}
	if cr.Where, err = p.st.trash(ctx, dir); err != nil {
		return cr, err
	}
	cr.Trashed = true
	p.opts.Logf("trashed   %s/ -> %s", t.Dir(), cr.Where)
	return cr, nil
}

// ReadRecord returns the run record ci/<ref>/run/ci_run.json, or nil when there is
// none the action wrote.
func (p *Publisher) ReadRecord(ctx context.Context, ref string) ([]byte, error) {
	e, err := p.st.file(ctx, path.Join(CIDir, ref, RunDir, RunRecord))
	if err != nil || e == nil || !e.Ours {
		return nil, err
	}
	return p.st.read(ctx, e)
}

// Grant is one sharing permission: a person, a Google group, or anyone with the link.
type Grant struct {
	Type  string // user, group or anyone
	Email string
	Role  string // reader, commenter or writer
}

func (g Grant) String() string { return g.label() + " (" + g.Role + ")" }

func (g Grant) label() string {
	switch g.Type {
	case "anyone":
		return "anyone with the link"
	case "group":
		return "group " + g.Email
	}
	return g.Email
}

// roleRank orders Drive roles, so an existing stronger grant is never lowered.
var roleRank = map[string]int{"reader": 1, "commenter": 2, "writer": 3, "fileOrganizer": 4, "organizer": 5, "owner": 6}

// ParseShareWith reads the share-with input: addresses separated by commas, spaces or
// newlines; "group:team@example.com" names a Google group. Role is reader, commenter
// or writer ("" = reader).
func ParseShareWith(list, role string) ([]Grant, error) {
	if role == "" {
		role = "reader"
	}
	if roleRank[role] == 0 || roleRank[role] > roleRank["writer"] {
		return nil, fmt.Errorf("share-role must be reader, commenter or writer, got %q", role)
	}
	var out []Grant
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == ';' }) {
		typ, addr := "user", f
		if a, ok := strings.CutPrefix(f, "group:"); ok {
			typ, addr = "group", a
		}
		at := strings.IndexByte(addr, '@')
		if at <= 0 || at == len(addr)-1 || strings.Count(addr, "@") != 1 {
			return nil, fmt.Errorf("share-with: %q is not an email address (write people as name@example.com, Google groups as group:team@example.com)", f)
		}
		out = append(out, Grant{Type: typ, Email: addr, Role: role})
	}
	return out, nil
}
