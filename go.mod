module github.com/prodcat/colab-notebook-action

go 1.26.8

require (
	github.com/google/go-github/v84 v84.0.0 // indirect
	github.com/sethvargo/go-envconfig v0.8.0 // indirect
	github.com/sethvargo/go-githubactions v1.2.0 // indirect
	github.com/xeipuuv/gojsonpointer v0.0.0-20180127040702-4e3ac2762d5f // indirect
	github.com/xeipuuv/gojsonreference v0.0.0-20180127040603-bd5ef7bd5415 // indirect
	github.com/xeipuuv/gojsonschema v1.2.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	google.golang.org/api v0.312.0 // indirect
)
