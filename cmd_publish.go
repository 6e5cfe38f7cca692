package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prodcat/colab-notebook-action/internal/drive"
)

var publishCommand = command{
	name:  "publish",
	usage: "[--from DIR] [--notebook NB] [--src DIR] [--folder-id ID | --local-root DIR] [--branch B | --pr N [--close]] [--share] [--share-with LIST]  copy to Drive (or ./_drive)",
	run:   runPublish,
}

// runPublish exits 0 on success, 1 when publishing fails, 2 on bad flags.
func runPublish(args []string) int {
	f, err := parsePublishFlags(args)
	if err != nil {
		reportFlagError("publish", err)
		return 2
	}
	var plan drive.Plan
	if !f.closePR {
		if plan, err = f.plan(); err != nil {
			fmt.Fprintf(os.Stderr, "publish: %v\n", err)
			return 2
		}
		for _, s := range plan.Skipped {
			fmt.Printf("skipped   %s (%s)\n", s.Rel, s.Reason)
		}
	}
	creds, err := f.credentials()
	if err != nil {
		fmt.Fprintf(os.Stderr, "publish: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := drive.Open(ctx, creds, f.options(creds))
	if errors.Is(err, drive.ErrNoCredentials) {
		fmt.Fprintf(os.Stderr, "publish: %v\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}
	if f.closePR {
		return closePreview(ctx, p, f.target)
	}
	rep, err := p.Publish(ctx, plan)
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}
	printPublished(rep, f.target)
	return 0
}

// publishFlags is what the publish command was asked to do, checked.
type publishFlags struct {
	from, notebook, src, folderID, localRoot, credFile string
	localRootSet                                       bool
	closePR, share                                     bool
	grants                                             []drive.Grant
	maxMB                                              float64
	target                                             drive.Target
}

func parsePublishFlags(args []string) (publishFlags, error) {
	var f publishFlags
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.StringVar(&f.from, "from", "", "a run's PROJECT_ROOT to publish under ci/<ref>/run/ (default ./product_categorization_project if present)")
	fs.StringVar(&f.notebook, "notebook", "", "built notebook (default build/product_categorization_colab.ipynb if present)")
	fs.StringVar(&f.src, "src", "", "built src/ folder (default build/src if present)")
	fs.StringVar(&f.folderID, "folder-id", os.Getenv("DRIVE_FOLDER_ID"), "Drive project folder (env DRIVE_FOLDER_ID); empty publishes to --local-root")
	fs.StringVar(&f.localRoot, "local-root", drive.DefaultLocalRoot, "stand-in for Google Drive: files go to DIR/MyDrive/"+drive.ProjectFolder)
	branch := fs.String("branch", "main", "the branch this publish is for: the default branch writes the top notebook, any other only ci/<branch>/")
	defaultBranch := fs.String("default-branch", "main", "the repository's default branch")
	pr := fs.Int("pr", 0, "publish pull request N's preview to ci/pr-N/ instead of a branch")
	fs.BoolVar(&f.closePR, "close", false, "with --pr: move ci/pr-N/ to the trash (the pull request was closed)")
	fs.BoolVar(&f.share, "share", false, "let anyone with the link open the notebooks")
	shareWith := fs.String("share-with", "", "share the notebooks with these people (name@example.com) and groups (group:team@example.com), comma-separated")
	shareRole := fs.String("share-role", "reader", "role for --share-with: reader, commenter or writer")
	fs.StringVar(&f.credFile, "credentials-file", "", "service account key or authorized_user JSON (else "+drive.EnvClientID+"/…, "+drive.EnvServiceAccountJSON+", "+drive.EnvCredentialsFile+" or "+drive.EnvAccessToken+")")
	fs.Float64Var(&f.maxMB, "max-file-mb", drive.DefaultMaxFileBytes>>20, "skip files larger than this many MiB (0 = no cap); the notebook is never skipped")
	if err := parseArgs(fs, args); err != nil {
		return f, err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	f.localRootSet = set["local-root"]
	switch {
	case set["local-root"] && set["folder-id"]:
		return f, errors.New("--folder-id and --local-root exclude each other: publish to Drive or to a local folder")
	case *pr < 0:
		return f, fmt.Errorf("--pr must be a pull request number, got %d", *pr)
	case *pr > 0 && set["branch"]:
		return f, errors.New("--pr and --branch exclude each other: a publish is for one pull request or one branch")
	case f.closePR && *pr == 0:
		return f, errors.New("--close needs --pr N: it trashes that pull request's preview folder")
	}
	f.target = drive.BranchTarget(*branch, *defaultBranch)
	if *pr > 0 {
		f.target = drive.PRTarget(*pr)
	}
	var err error
	f.grants, err = drive.ParseShareWith(*shareWith, *shareRole)
	return f, err
}

// plan lists what to publish: the flags' sources, else what build and run left
// in their default places.
func (f publishFlags) plan() (drive.Plan, error) {
	sources := drive.Sources{
		ProjectRoot:  orDefault(f.from, "product_categorization_project", true),
		Notebook:     orDefault(f.notebook, filepath.Join("build", "product_categorization_colab.ipynb"), false),
		SrcDir:       orDefault(f.src, filepath.Join("build", "src"), true),
		MaxFileBytes: int64(f.maxMB * (1 << 20)),
	}
	if f.maxMB <= 0 {
		sources.MaxFileBytes = -1
	}
	if sources.ProjectRoot == "" && sources.Notebook == "" && sources.SrcDir == "" {
		return drive.Plan{}, errors.New("nothing to publish: build the notebook first (go run . build) or pass --from/--notebook/--src")
	}
	return drive.BuildPlan(sources, f.target)
}

// credentials reads --credentials-file, then the environment's credentials.
func (f publishFlags) credentials() (drive.Credentials, error) {
	var creds drive.Credentials
	if f.credFile != "" {
		b, err := os.ReadFile(f.credFile)
		if err != nil {
			return creds, fmt.Errorf("--credentials-file: %w", err)
		}
		creds.JSON, creds.Source = b, f.credFile
	}
	return drive.CredentialsFromEnv(creds, os.Getenv)
}

func (f publishFlags) options(creds drive.Credentials) drive.Options {
	opts := drive.Options{
		FolderID: f.folderID, LocalRoot: f.localRoot, Share: f.share, ShareWith: f.grants,
		Logf: func(format string, a ...any) { fmt.Printf(format+"\n", a...) },
	}
	// An explicit --local-root (make demo) stays local even where DRIVE_FOLDER_ID is exported.
	if f.localRootSet {
		opts.FolderID = ""
	} else if opts.FolderID == "" && !creds.Empty() {
		fmt.Println("publish: credentials found but no --folder-id (or DRIVE_FOLDER_ID): publishing to the local folder")
	}
	return opts
}

// closePreview trashes a closed pull request's ci/pr-N/ folder when this tool made it.
func closePreview(ctx context.Context, p *drive.Publisher, target drive.Target) int {
	cr, err := p.ClosePreview(ctx, target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}
	switch {
	case cr.Trashed:
		fmt.Printf("%s/ moved to %s\n", cr.Folder, cr.Where)
	case cr.NotOurs:
		fmt.Printf("%s/ was not created by this tool: left where it is\n", cr.Folder)
	default:
		fmt.Printf("%s/ does not exist: nothing to trash\n", cr.Folder)
	}
	return 0
}

func printPublished(rep *drive.Report, target drive.Target) {
	for _, w := range rep.Warnings {
		fmt.Printf("warning: %s\n", w)
	}
	where := target.Dir() + "/"
	if target.Default {
		where = "the top notebook, src/ and " + where
	}
	fmt.Printf("published %d files to %s (%s)\n", len(rep.Files), rep.FolderURL, where)
	if rep.Notebook.URL != "" {
		fmt.Printf("notebook: %s\n", rep.Notebook.URL)
	}
	if !target.Default && rep.Top.URL != "" {
		fmt.Printf("default branch's notebook (not changed): %s\n", rep.Top.URL)
	}
}

// orDefault returns flag when set; else def if it exists, so a plain
// `publish` after `build` and `run` finds their outputs.
func orDefault(flag, def string, dir bool) string {
	if flag != "" {
		return flag
	}
	fi, err := os.Stat(def)
	if err != nil || fi.IsDir() != dir {
		return ""
	}
	return def
}
