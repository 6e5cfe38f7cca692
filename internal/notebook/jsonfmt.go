package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"
)

// marshalJupyter writes v the way nbformat does:
// json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) plus a final
// newline. Go's encoding/json differs in small ways (HTML escaping,
// \u2028, \b/\f), and a notebook that re-saves differently in Jupyter makes
// noisy diffs, so the format is written out here byte for byte.
//
// v may hold map[string]any, []any, []string, string, bool, nil, int,
// json.Number and float64.
func marshalJupyter(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeValue(&b, v, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func writeIndent(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteByte(' ')
	}
}

func writeValue(b *bytes.Buffer, v any, depth int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case json.Number:
		b.WriteString(x.String())
	case float64:
		// Python prints integral floats as "1.0"; Go's 'g' would drop the ".0".
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !bytes.ContainsAny([]byte(s), ".eEn") {
			s += ".0"
		}
		b.WriteString(s)
	case []string:
		arr := make([]any, len(x))
		for i, s := range x {
			arr[i] = s
		}
		return writeValue(b, arr, depth)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeIndent(b, depth+1)
			if err := writeValue(b, e, depth+1); err != nil {
				return err
			}
		}
		writeIndent(b, depth)
		b.WriteByte(']')
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// Python sorts str keys by code point; Go's string order is by
		// UTF-8 bytes, which is the same order.
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeIndent(b, depth+1)
			writeString(b, k)
			b.WriteString(": ")
			if err := writeValue(b, x[k], depth+1); err != nil {
				return err
			}
		}
		writeIndent(b, depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("notebook json: unsupported type %T", v)
	}
	return nil
}

// writeString escapes like Python's json with ensure_ascii=False: only the
// quote, the backslash and control characters below U+0020.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Invalid UTF-8 cannot be stored in JSON; Python would refuse to
			// decode such a file in the first place.
			b.WriteString("\uFFFD")
			i++
			continue
		}
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteString(s[i : i+size])
			}
		}
		i += size
	}
	b.WriteByte('"')
}

// splitLines splits like nbformat's split_lines, which is Python's
// str.splitlines(keepends=True): every line keeps its terminator, and the
// terminators include \r, \v, \f, \x1c-\x1e, \x85, U+2028 and U+2029, not only
// \n. Matching it keeps our output byte-identical to a Jupyter re-save.
func splitLines(s string) []any {
	out := []any{}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch r {
		case '\r':
			end = i + 1
			if i+1 < len(s) && s[i+1] == '\n' {
				end = i + 2
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end = i + size
		}
		if end >= 0 {
			out = append(out, s[start:end])
			start, i = end, end
			continue
		}
		i += size
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
