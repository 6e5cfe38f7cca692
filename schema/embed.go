// Package schema embeds the nbformat v4.5 JSON schema, copied unchanged from
// the nbformat package (nbformat/v4/nbformat.v4.5.schema.json), so the tool
// checks notebooks exactly as Jupyter would, without network or Python.
package schema

import _ "embed"

// NBFormatV45 is the nbformat 4.5 JSON schema (draft-04).
//
//go:embed nbformat.v4.5.schema.json
var NBFormatV45 []byte
