package main

import (
	_ "github.com/google/go-github/v84/github"
	_ "github.com/sethvargo/go-githubactions"
	_ "github.com/xeipuuv/gojsonschema"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/oauth2/google"
	_ "google.golang.org/api/drive/v3"
	_ "google.golang.org/api/option"
	_ "google.golang.org/api/googleapi"
)
