package prcomment

import (
	"fmt"
	"strings"
)

// Text that reaches the comment from a run (exception messages, validation
// messages quoting a cell, model and dataset names, tracebacks) is written by
// the pull request's author, and for a fork by anyone. It is rendered as text:
// no links, images, HTML, headings or table breaks of its own, no @mentions.

// mdSpecial are the characters that start Markdown or HTML constructs inside a
// line: links and images ([ ]), HTML and autolinks (< >), code (`), emphasis,
// table cells (|), entities (&, e.g. "&#64;" for "@") and escapes themselves.
// Escaped text never starts a line, so block syntax (#, -, >) needs nothing.
const mdSpecial = "\\`*_[]<>|&"

// escapeText makes s plain text inside a paragraph, list item or table cell.
func escapeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '@':
			// A word joiner after "@" keeps "@org/team" from notifying anyone.
			b.WriteString("@\u2060")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// inline is one escaped line of at most maxInline characters.
func inline(s string) string { return escapeText(oneLine(s)) }

// codeSpan renders s as inline code, with a fence longer than any run of
// backticks inside it, so s cannot close it.
func codeSpan(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// codeCell is codeSpan inside a table row, where GitHub splits cells at every
// unescaped "|", even inside code.
func codeCell(s string) string { return strings.ReplaceAll(codeSpan(s), "|", `\|`) }

// codeBlock renders s as a fenced block; the fence is longer than any backtick
// run in s, and HTML inside a fenced block is shown, never interpreted.
func codeBlock(s string) string {
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + "text\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n"
}

func longestRun(s string, c rune) int {
	best, n := 0, 0
	for _, r := range s {
		if r == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// Failure is the cell a run stopped at, as the comment shows it.
type Failure struct {
	Kind      string `json:"kind"`      // cell_error, timeout, run_timeout, dead_kernel
	Cell      string `json:"cell"`      // "3/8": its position among the code cells run
	Section   string `json:"section"`   // the heading above it
	File      string `json:"file"`      // cells/ file (relative to the checkout)
	Line      int    `json:"line"`      // line in File, 0 when unknown
	CellID    string `json:"cell_id"`   // notebook cell id
	Exception string `json:"exception"` // "ValueError: boom", or what stopped the cell
	Traceback string `json:"traceback"` // full, ANSI codes removed
	Timeout   string `json:"timeout"`   // the limit that fired, for the timeouts
}

// Headline is the one-line summary of the failure.
func (f *Failure) Headline() string {
	switch f.Kind {
	case "timeout":
		return fmt.Sprintf("cell %s timed out after %s", f.Cell, f.Timeout)
	case "run_timeout":
		return fmt.Sprintf("the run timed out after %s, in cell %s", f.Timeout, f.Cell)
	case "dead_kernel":
		return fmt.Sprintf("the kernel died in cell %s", f.Cell)
	}
	return fmt.Sprintf("cell %s failed: %s", f.Cell, f.Exception)
}

// Location is "file:line" (or the file, or "–").
func (f *Failure) Location() string {
	switch {
	case f.File == "":
		return "–"
	case f.Line > 0:
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}

// maxException caps the exception in the table; all of it is in the traceback.
const maxException = 2000

// failureSection renders the failing cell with its traceback collapsed;
// tracebackBytes caps the traceback (its end, where the error is, is kept).
func failureSection(f *Failure, tracebackBytes int) string {
	var b strings.Builder
	b.WriteString("#### Failing cell\n\n| | |\n|---|---|\n")
	section := f.Section
	if section == "" {
		section = "(before the first heading)"
	}
	fmt.Fprintf(&b, "| Section | %s |\n", inline(section))
	fmt.Fprintf(&b, "| Source | %s |\n", codeCell(f.Location()))
	if f.Exception != "" {
		fmt.Fprintf(&b, "| Exception | %s |\n", escapeText(truncateUTF8(f.Exception, maxException)))
	}
	b.WriteString("\n")
	if tb := strings.TrimRight(f.Traceback, "\n"); tb != "" {
		lines := strings.Count(tb, "\n") + 1
		note := ""
		if len(tb) > tracebackBytes {
			tb = tailUTF8(tb, tracebackBytes)
			if i := strings.IndexByte(tb, '\n'); i >= 0 {
				tb = tb[i+1:]
			}
			note = fmt.Sprintf(" (last %d of %d lines; the whole traceback is in the run log)", strings.Count(tb, "\n")+1, lines)
		}
		fmt.Fprintf(&b, "<details><summary>Traceback%s</summary>\n\n%s\n</details>\n\n", note, codeBlock(tb))
	}
	return b.String()
}

func tailUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !isRuneStart(s[i]) {
		i++
	}
	return s[i:]
}
