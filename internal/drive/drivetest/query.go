package drivetest

import (
	"fmt"
	"strings"
	"unicode"
)

// parseQuery compiles the subset of the Drive files.list query language this
// project's publisher uses, strictly: anything else is an error, as Drive would
// answer 400 "Invalid Value". Supported:
//
//	'ID' in parents
//	name = 'x' | name != 'x' | name contains 'x'
//	mimeType = 'x' | mimeType != 'x'
//	trashed = true|false
//	appProperties has { key='k' and value='v' }
//	and, or, not, parentheses
func parseQuery(q string) (func(*File) bool, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &qparser{toks: toks}
	pred, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.done() {
		return nil, fmt.Errorf("unexpected %q at token %d", p.peek().text, p.pos)
	}
	return pred, nil
}

type tok struct {
	kind string // "str", "word", "op"
	text string
}

func lex(q string) ([]tok, error) {
	var out []tok
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(rs) {
				if rs[i] == '\\' {
					if i+1 >= len(rs) {
						return nil, fmt.Errorf("dangling backslash")
					}
					if rs[i+1] != '\'' && rs[i+1] != '\\' {
						return nil, fmt.Errorf("invalid escape \\%c", rs[i+1])
					}
					b.WriteRune(rs[i+1])
					i += 2
					continue
				}
				if rs[i] == '\'' {
					closed = true
					i++
					break
				}
				b.WriteRune(rs[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, tok{"str", b.String()})
		case r == '!' && i+1 < len(rs) && rs[i+1] == '=':
			out = append(out, tok{"op", "!="})
			i += 2
		case strings.ContainsRune("=(){}", r):
			out = append(out, tok{"op", string(r)})
			i++
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				j++
			}
			out = append(out, tok{"word", string(rs[i:j])})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", r)
		}
	}
	return out, nil
}

type qparser struct {
	toks []tok
	pos  int
}

func (p *qparser) done() bool { return p.pos >= len(p.toks) }
func (p *qparser) peek() tok {
	if p.done() {
		return tok{"eof", ""}
	}
	return p.toks[p.pos]
}
func (p *qparser) next() tok { t := p.peek(); p.pos++; return t }
func (p *qparser) accept(kind, text string) bool {
	t := p.peek()
	if t.kind == kind && (text == "" || t.text == text) {
		p.pos++
		return true
	}
	return false
}
func (p *qparser) expect(kind, text string) (tok, error) {
	t := p.next()
	if t.kind != kind || (text != "" && t.text != text) {
		return t, fmt.Errorf("expected %s %q, got %q", kind, text, t.text)
	}
	return t, nil
}

func (p *qparser) expr() (func(*File) bool, error) {
	return p.chain("or", p.term, func(a, b bool) bool { return a || b })
}

func (p *qparser) term() (func(*File) bool, error) {
	return p.chain("and", p.factor, func(a, b bool) bool { return a && b })
}

// chain reads operand (op operand)*, left to right, joining each pair with join.
func (p *qparser) chain(op string, operand func() (func(*File) bool, error), join func(a, b bool) bool) (func(*File) bool, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.accept("word", op) {
		right, err := operand()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(f *File) bool { return join(l(f), right(f)) }
	}
	return left, nil
}

func (p *qparser) factor() (func(*File) bool, error) {
	if p.accept("word", "not") {
		inner, err := p.factor()
		if err != nil {
			return nil, err
		}
		return func(f *File) bool { return !inner(f) }, nil
	}
	if p.accept("op", "(") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect("op", ")"); err != nil {
			return nil, err
		}
		return e, nil
	}
	t := p.next()
	switch {
	case t.kind == "str":
		if _, err := p.expect("word", "in"); err != nil {
			return nil, err
		}
		if _, err := p.expect("word", "parents"); err != nil {
			return nil, err
		}
		id := t.text
		return func(f *File) bool {
			for _, par := range f.Parents {
				if par == id {
					return true
				}
			}
			return false
		}, nil
	case t.kind == "word" && (t.text == "name" || t.text == "mimeType"):
		field := t.text
		op := p.next()
		if !(op.kind == "op" && (op.text == "=" || op.text == "!=")) && !(op.kind == "word" && op.text == "contains" && field == "name") {
			return nil, fmt.Errorf("bad operator %q for %s", op.text, field)
		}
		v, err := p.expect("str", "")
		if err != nil {
			return nil, err
		}
		get := func(f *File) string {
			if field == "name" {
				return f.Name
			}
			return f.MimeType
		}
		switch op.text {
		case "=":
			return func(f *File) bool { return get(f) == v.text }, nil
		case "!=":
			return func(f *File) bool { return get(f) != v.text }, nil
		default:
			return func(f *File) bool { return strings.Contains(get(f), v.text) }, nil
		}
	case t.kind == "word" && t.text == "trashed":
		if _, err := p.expect("op", "="); err != nil {
			return nil, err
		}
		v := p.next()
		if v.kind != "word" || (v.text != "true" && v.text != "false") {
			return nil, fmt.Errorf("trashed needs true or false, got %q", v.text)
		}
		want := v.text == "true"
		return func(f *File) bool { return f.Trashed == want }, nil
	case t.kind == "word" && t.text == "appProperties":
		if _, err := p.expect("word", "has"); err != nil {
			return nil, err
		}
		if _, err := p.expect("op", "{"); err != nil {
			return nil, err
		}
		var key, val tok
		var err error
		for _, step := range []func() error{
			func() error { _, err := p.expect("word", "key"); return err },
			func() error { _, err := p.expect("op", "="); return err },
			func() error { key, err = p.expect("str", ""); return err },
			func() error { _, err := p.expect("word", "and"); return err },
			func() error { _, err := p.expect("word", "value"); return err },
			func() error { _, err := p.expect("op", "="); return err },
			func() error { val, err = p.expect("str", ""); return err },
			func() error { _, err := p.expect("op", "}"); return err },
		} {
			if err := step(); err != nil {
				return nil, err
			}
		}
		return func(f *File) bool { v, ok := f.AppProperties[key.text]; return ok && v == val.text }, nil
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}
