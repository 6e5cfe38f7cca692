// Package schema embeds the data the tool checks notebooks against: the
// nbformat v4.5 JSON schema, copied unchanged from the nbformat package
// (nbformat/v4/nbformat.v4.5.schema.json), so the tool checks notebooks
// exactly as Jupyter would, without network or Python; and the import names
// of every package Colab preinstalls (colab-packages.txt, generated from
// Colab's pip-freeze by env/refresh.py).
package schema

import _ "embed"

// NBFormatV45 is the nbformat 4.5 JSON schema (draft-04).
//
//go:embed nbformat.v4.5.schema.json
var NBFormatV45 []byte

// ColabPackages lists, one per line, an import name, the distribution that
// provides it, Colab's version of it ("-" for the install cell's packages,
// which Colab lacks) and where the import name comes from, tab-separated;
// lines starting with # are comments.
//
//go:embed colab-packages.txt
var ColabPackages []byte
