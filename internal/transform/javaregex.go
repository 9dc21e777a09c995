package transform

import (
	"errors"
	"regexp"
	"strings"
)

// javaRegex is a java.util.regex.Pattern as RegexRouter and friends use
// it: Matcher.matches() (the whole input) decides, Matcher.replaceFirst()
// (the first find() match) rewrites. The syntax is RE2's.
type javaRegex struct {
	src  string
	find *regexp.Regexp
	full *regexp.Regexp
}

// compileJavaRegex compiles expr; the error is Go's.
func compileJavaRegex(expr string) (*javaRegex, error) {
	find, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	full, err := regexp.Compile(`\A(?:` + expr + `)\z`)
	if err != nil {
		return nil, err
	}
	return &javaRegex{src: expr, find: find, full: full}, nil
}

// matches is Matcher.matches.
func (j *javaRegex) matches(s string) bool { return j.full.MatchString(s) }

// replaceFirst is Matcher.replaceFirst(repl).
func (j *javaRegex) replaceFirst(s string, repl javaReplacement) string {
	m := j.find.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:m[0]])
	for _, p := range repl {
		if p.group < 0 {
			b.WriteString(p.lit)
			continue
		}
		if a, e := m[2*p.group], m[2*p.group+1]; a >= 0 && e >= 0 {
			b.WriteString(s[a:e])
		}
	}
	b.WriteString(s[m[1]:])
	return b.String()
}

// javaReplacement is a parsed java.util.regex replacement string.
type javaReplacement []replacementPart

type replacementPart struct {
	lit   string
	group int // -1: lit
}

// parseJavaReplacement parses repl the way Matcher.appendExpandedReplacement
// reads it ($n with as many digits as name a group, ${name}, \ escaping
// the next character) against re's groups. The errors are Java's.
func parseJavaReplacement(repl string, re *regexp.Regexp) (javaReplacement, error) {
	var out javaReplacement
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, replacementPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(repl); {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i == len(repl) {
				return nil, errors.New("character to be escaped is missing")
			}
			lit.WriteByte(repl[i])
			i++
		case '$':
			i++
			if i == len(repl) {
				return nil, javaErrorf("Illegal group reference: group index is missing")
			}
			var ref int
			if repl[i] == '{' {
				i++
				start := i
				for i < len(repl) && isASCIIAlnum(repl[i]) {
					i++
				}
				name := repl[start:i]
				if name == "" {
					return nil, errors.New("named capturing group has 0 length name")
				}
				if i == len(repl) || repl[i] != '}' {
					return nil, errors.New("named capturing group is missing trailing '}'")
				}
				i++
				ref = re.SubexpIndex(name)
				if ref < 0 {
					return nil, javaErrorf("No group with name {%s}", name)
				}
			} else {
				ref = int(repl[i]) - '0'
				if ref < 0 || ref > 9 {
					return nil, javaErrorf("Illegal group reference")
				}
				i++
				for i < len(repl) && repl[i] >= '0' && repl[i] <= '9' {
					next := ref*10 + int(repl[i]-'0')
					if next > groups {
						break
					}
					ref = next
					i++
				}
				if ref > groups {
					return nil, javaErrorf("No group %d", ref)
				}
			}
			flush()
			out = append(out, replacementPart{group: ref})
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}

func isASCIIAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
