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
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	from := fs.String("from", "", "a run's PROJECT_ROOT to publish under ci/<ref>/run/ (default ./product_categorization_project if present)")
	nb := fs.String("notebook", "", "built notebook (default build/product_categorization_colab.ipynb if present)")
	src := fs.String("src", "", "built src/ folder (default build/src if present)")
	folderID := fs.String("folder-id", os.Getenv("DRIVE_FOLDER_ID"), "Drive project folder (env DRIVE_FOLDER_ID); empty publishes to --local-root")
	localRoot := fs.String("local-root", drive.DefaultLocalRoot, "stand-in for Google Drive: files go to DIR/MyDrive/"+drive.ProjectFolder)
	branch := fs.String("branch", "main", "the branch this publish is for: the default branch writes the top notebook, any other only ci/<branch>/")
	defaultBranch := fs.String("default-branch", "main", "the repository's default branch")
	pr := fs.Int("pr", 0, "publish pull request N's preview to ci/pr-N/ instead of a branch")
	closePR := fs.Bool("close", false, "with --pr: move ci/pr-N/ to the trash (the pull request was closed)")
	share := fs.Bool("share", false, "let anyone with the link open the notebooks")
	shareWith := fs.String("share-with", "", "share the notebooks with these people (name@example.com) and groups (group:team@example.com), comma-separated")
	shareRole := fs.String("share-role", "reader", "role for --share-with: reader, commenter or writer")
	credFile := fs.String("credentials-file", "", "service account key or authorized_user JSON (else "+drive.EnvClientID+"/…, "+drive.EnvServiceAccountJSON+", "+drive.EnvCredentialsFile+" or "+drive.EnvAccessToken+")")
	maxMB := fs.Float64("max-file-mb", drive.DefaultMaxFileBytes>>20, "skip files larger than this many MiB (0 = no cap); the notebook is never skipped")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "publish: unexpected arguments %q\n", fs.Args())
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	bad := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "publish: "+format+"\n", a...)
		return 2
	}
	switch {
	case set["local-root"] && set["folder-id"]:
		return bad("--folder-id and --local-root exclude each other: publish to Drive or to a local folder")
	case *pr < 0:
		return bad("--pr must be a pull request number, got %d", *pr)
	case *pr > 0 && set["branch"]:
		return bad("--pr and --branch exclude each other: a publish is for one pull request or one branch")
	case *closePR && *pr == 0:
		return bad("--close needs --pr N: it trashes that pull request's preview folder")
	}
	target := drive.BranchTarget(*branch, *defaultBranch)
	if *pr > 0 {
		target = drive.PRTarget(*pr)
	}
	grants, err := drive.ParseShareWith(*shareWith, *shareRole)
	if err != nil {
		return bad("%v", err)
	}

	var plan drive.Plan
	if !*closePR {
		sources := drive.Sources{
			ProjectRoot:  orDefault(*from, "product_categorization_project", true),
			Notebook:     orDefault(*nb, filepath.Join("build", "product_categorization_colab.ipynb"), false),
			SrcDir:       orDefault(*src, filepath.Join("build", "src"), true),
			MaxFileBytes: int64(*maxMB * (1 << 20)),
		}
		if *maxMB <= 0 {
			sources.MaxFileBytes = -1
		}
		if sources.ProjectRoot == "" && sources.Notebook == "" && sources.SrcDir == "" {
			return bad("nothing to publish: build the notebook first (go run . build) or pass --from/--notebook/--src")
		}
		if plan, err = drive.BuildPlan(sources, target); err != nil {
			return bad("%v", err)
		}
		for _, s := range plan.Skipped {
			fmt.Printf("skipped   %s (%s)\n", s.Rel, s.Reason)
		}
	}

	var creds drive.Credentials
	if *credFile != "" {
		b, err := os.ReadFile(*credFile)
		if err != nil {
			return bad("--credentials-file: %v", err)
		}
		creds.JSON, creds.Source = b, *credFile
	}
	if creds, err = drive.CredentialsFromEnv(creds, os.Getenv); err != nil {
		return bad("%v", err)
	}
	opts := drive.Options{
		FolderID: *folderID, LocalRoot: *localRoot, Share: *share, ShareWith: grants,
		Logf: func(format string, a ...any) { fmt.Printf(format+"\n", a...) },
	}
	// An explicit --local-root (make demo) stays local even where DRIVE_FOLDER_ID is exported.
	if set["local-root"] {
		opts.FolderID = ""
	} else if opts.FolderID == "" && !creds.Empty() {
		fmt.Println("publish: credentials found but no --folder-id (or DRIVE_FOLDER_ID): publishing to the local folder")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := drive.Open(ctx, creds, opts)
	if errors.Is(err, drive.ErrNoCredentials) {
		return bad("%v", err)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}

	if *closePR {
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
	rep, err := p.Publish(ctx, plan)
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}
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
	return 0
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
