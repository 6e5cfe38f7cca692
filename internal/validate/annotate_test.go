package validate

import (
	"bytes"
	"testing"

	"github.com/prodcat/colab-notebook-action/internal/cellsrc"
)

func TestAnnotate(t *testing.T) {
	var b bytes.Buffer
	Annotate(&b, "/ws", []cellsrc.Problem{
		{File: "cells/05_steps.py", Line: 12, Message: "SyntaxError: invalid syntax"},
		{File: "/ws/cells", Message: "missing markdown heading \"## Step 5 — ...\""},
		{File: "/elsewhere/x.py", Line: 1, Message: "50% done, a:b"},
	})
	want := "::error file=cells/05_steps.py,line=12::SyntaxError: invalid syntax\n" +
		"::error file=cells::missing markdown heading \"## Step 5 — ...\"\n" +
		"::error file=/elsewhere/x.py,line=1::50%25 done, a:b\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
