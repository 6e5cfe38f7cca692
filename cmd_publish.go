package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prodcat/colab-notebook-action/internal/drive"
)

func init() {
	register(command{
		name:  "publish",
		usage: "[--from DIR] [--notebook NB] [--src DIR] [--folder-id ID | --local-root DIR] [--share]  copy to Drive (or ./_drive)",
		run:   runPublish,
	})
}

// runPublish exits 0 on success, 1 when publishing fails, 2 on bad flags.
func runPublish(args []string) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	from := fs.String("from", "", "a run's PROJECT_ROOT to publish (default ./product_categorization_project if present)")
	nb := fs.String("notebook", "", "built notebook (default build/product_categorization_colab.ipynb if present)")
	src := fs.String("src", "", "built src/ folder (default build/src if present)")
	folderID := fs.String("folder-id", os.Getenv("DRIVE_FOLDER_ID"), "Drive folder that plays PROJECT_ROOT (env DRIVE_FOLDER_ID); empty publishes to --local-root")
	localRoot := fs.String("local-root", drive.DefaultLocalRoot, "stand-in for Google Drive: files go to DIR/MyDrive/"+drive.ProjectFolder)
	share := fs.Bool("share", false, "let anyone with the link open the notebook")
	credFile := fs.String("credentials-file", "", "service account key or authorized_user JSON (else "+drive.EnvClientID+"/…, "+drive.EnvServiceAccountJSON+", "+drive.EnvCredentialsFile+" or "+drive.EnvAccessToken+")")
	maxMB := fs.Float64("max-file-mb", drive.DefaultMaxFileBytes>>20, "skip files larger than this many MiB (0 = no cap); the notebook is never skipped")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "publish: unexpected arguments %q\n", fs.Args())
		return 2
	}
	src1 := drive.Sources{
		ProjectRoot:  orDefault(*from, "product_categorization_project", true),
		Notebook:     orDefault(*nb, filepath.Join("build", "product_categorization_colab.ipynb"), false),
		SrcDir:       orDefault(*src, filepath.Join("build", "src"), true),
		MaxFileBytes: int64(*maxMB * (1 << 20)),
	}
	if *maxMB <= 0 {
		src1.MaxFileBytes = -1
	}
	if src1.ProjectRoot == "" && src1.Notebook == "" && src1.SrcDir == "" {
		fmt.Fprintln(os.Stderr, "publish: nothing to publish: build the notebook first (go run . build) or pass --from/--notebook/--src")
		return 2
	}
	plan, err := drive.BuildPlan(src1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 2
	}
	for _, s := range plan.Skipped {
		fmt.Printf("skipped   %s (%s)\n", s.Rel, s.Reason)
	}

	var creds drive.Credentials
	if *credFile != "" {
		b, err := os.ReadFile(*credFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "publish: --credentials-file:", err)
			return 2
		}
		creds.JSON, creds.Source = b, *credFile
	}
	creds, err = drive.CredentialsFromEnv(creds, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 2
	}
	logf := func(format string, a ...any) { fmt.Printf(format+"\n", a...) }
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["local-root"] && set["folder-id"] {
		fmt.Fprintln(os.Stderr, "publish: --folder-id and --local-root exclude each other: publish to Drive or to a local folder")
		return 2
	}

	// An explicit --local-root (make demo) stays local even where DRIVE_FOLDER_ID is exported.
	if *folderID == "" || set["local-root"] {
		if !creds.Empty() && !set["local-root"] {
			fmt.Println("publish: credentials found but no --folder-id (or DRIVE_FOLDER_ID): publishing to the local folder")
		}
		rep, err := drive.PublishLocal(*localRoot, plan, logf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "publish:", err)
			return 1
		}
		fmt.Printf("published %d files to %s\n", len(rep.Files), rep.Root)
		if rep.Notebook != "" {
			fmt.Printf("notebook: %s\n", rep.Notebook)
		}
		return 0
	}
	if creds.Empty() {
		fmt.Fprintf(os.Stderr, "publish: --folder-id %s needs Google credentials: set %s, %s and %s (OAuth user), or %s / %s (service account on a shared drive), or %s\n",
			*folderID, drive.EnvClientID, drive.EnvClientSecret, drive.EnvRefreshToken, drive.EnvServiceAccountJSON, drive.EnvCredentialsFile, drive.EnvAccessToken)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cl, err := drive.New(ctx, creds, drive.Options{FolderID: *folderID, Share: *share, Endpoint: os.Getenv(drive.EnvEndpoint), Logf: logf})
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}
	rep, err := cl.Publish(ctx, plan)
	if err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		return 1
	}
	fmt.Printf("published %d files to https://drive.google.com/drive/folders/%s\n", len(rep.Files), *folderID)
	if rep.ColabURL != "" {
		fmt.Printf("Colab: %s\n", rep.ColabURL)
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
