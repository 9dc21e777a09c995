package kafkaclient

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// JAAS is one login module entry of sasl.jaas.config:
//
//	<LoginModuleClass> <controlFlag> (<option>=<value>)*;
type JAAS struct {
	Module  string // the login module's class name
	Flag    string // required, requisite, sufficient or optional, lower case
	Options map[string]string
}

// ParseJAAS reads a sasl.jaas.config value as Kafka's JaasConfig does (a
// java.io.StreamTokenizer): bytes up to ' ' are white space; '/' starts a
// comment to the end of the line and "/*" one up to "*/"; '"' and '\”
// quote values, with Java's escapes (\n, \t, \\, \", octal \123, ...), and
// a quoted value also ends at a line break; '=' and ';' are tokens of
// their own; everything else makes up words. A client takes exactly one
// login module, as Kafka's JaasContext requires.
//
// Errors describe what is wrong and never contain an option's value.
func ParseJAAS(s string) (JAAS, error) {
	tz := jaasTokenizer{s: s}
	var entries []JAAS
	for {
		tok, err := tz.next()
		if err != nil {
			return JAAS{}, err
		}
		if tok.kind == tokEOF {
			break
		}
		e, err := parseJAASEntry(&tz, tok)
		if err != nil {
			return JAAS{}, err
		}
		entries = append(entries, e)
	}
	switch len(entries) {
	case 0:
		return JAAS{}, errors.New("names no login module")
	case 1:
		return entries[0], nil
	default:
		return JAAS{}, fmt.Errorf("names %d login modules; a client takes exactly one", len(entries))
	}
}

func parseJAASEntry(tz *jaasTokenizer, first jaasToken) (JAAS, error) {
	if !first.isString() {
		return JAAS{}, fmt.Errorf("starts with %q where the login module class belongs", first.text())
	}
	e := JAAS{Module: first.s, Options: map[string]string{}}
	last := "" // the option read last, whose value a stray word may belong to
	flag, err := tz.next()
	if err != nil {
		return JAAS{}, err
	}
	if !flag.isString() {
		return JAAS{}, fmt.Errorf("has no control flag after %s: add required", e.Module)
	}
	switch f := strings.ToLower(flag.s); f {
	case "required", "requisite", "sufficient", "optional":
		e.Flag = f
	default:
		return JAAS{}, fmt.Errorf("has the control flag %q after %s: use required", truncate(flag.s), e.Module)
	}
	for {
		key, err := tz.next()
		if err != nil {
			return JAAS{}, err
		}
		if key.kind == ';' {
			return e, nil
		}
		if key.kind == tokEOF {
			return JAAS{}, errors.New("does not end with ';'")
		}
		if !key.isString() {
			return JAAS{}, fmt.Errorf("has %q where an option name belongs", key.text())
		}
		eq, err := tz.next()
		if err != nil {
			return JAAS{}, err
		}
		if eq.kind != '=' {
			if last != "" {
				// The word may be the rest of the last value (password=my
				// secret), so it is not quoted.
				return JAAS{}, fmt.Errorf("has a word without '=' after the value of the option %q: quote a value that holds spaces, %s=\"...\"", truncate(last), truncate(last))
			}
			return JAAS{}, fmt.Errorf("has no value for the option %q: write %s=\"...\"", truncate(key.s), truncate(key.s))
		}
		val, err := tz.next()
		if err != nil {
			return JAAS{}, err
		}
		if !val.isString() {
			return JAAS{}, fmt.Errorf("has no value for the option %q: write %s=\"...\"", truncate(key.s), truncate(key.s))
		}
		e.Options[key.s] = val.s
		last = key.s
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

const (
	tokEOF  = -1
	tokWord = -3
)

type jaasToken struct {
	kind int // tokEOF, tokWord, a quote character, or an ordinary character
	s    string
}

// isString is true for words and quoted strings, the tokens that carry
// a value (StreamTokenizer's sval).
func (t jaasToken) isString() bool { return t.kind == tokWord || t.kind == '"' || t.kind == '\'' }

// text describes a token that is not a string; it never holds a value.
func (t jaasToken) text() string {
	if t.kind == tokEOF {
		return "the end"
	}
	return string(rune(t.kind))
}

type jaasTokenizer struct {
	s string
	i int
}

// class is StreamTokenizer's character type under JaasConfig's syntax.
func class(c rune) byte {
	switch {
	case c <= ' ':
		return 'w' // white space
	case c == '/':
		return 'c'
	case c == '"' || c == '\'':
		return 'q'
	case c == ';' || c == '=':
		return 'o'
	case c <= 128 || c >= 128+32:
		return 'a' // word characters; above 255 too, as in StreamTokenizer
	default:
		return 'o' // 129-159: ordinary characters
	}
}

func (z *jaasTokenizer) peek() (rune, int) {
	if z.i >= len(z.s) {
		return -1, 0
	}
	r, n := rune(z.s[z.i]), 1
	if r >= 0x80 {
		r, n = utf8.DecodeRuneInString(z.s[z.i:])
	}
	return r, n
}

func (z *jaasTokenizer) next() (jaasToken, error) {
	for {
		c, n := z.peek()
		if c < 0 {
			return jaasToken{kind: tokEOF}, nil
		}
		switch class(c) {
		case 'w':
			z.i += n
			continue
		case 'c':
			z.i += n
			if strings.HasPrefix(z.s[z.i:], "*") {
				end := strings.Index(z.s[z.i+1:], "*/")
				if end < 0 {
					z.i = len(z.s)
				} else {
					z.i += 1 + end + 2
				}
			} else {
				z.skipLine()
			}
			continue
		case 'q':
			z.i += n
			return z.quoted(c)
		case 'a':
			start := z.i
			for {
				c, n := z.peek()
				if c < 0 || class(c) != 'a' {
					break
				}
				z.i += n
			}
			return jaasToken{kind: tokWord, s: z.s[start:z.i]}, nil
		default:
			z.i += n
			if c == ';' || c == '=' {
				return jaasToken{kind: int(c)}, nil
			}
			return jaasToken{}, fmt.Errorf("has the control character U+%04X outside quotes", c)
		}
	}
}

func (z *jaasTokenizer) skipLine() {
	for z.i < len(z.s) && z.s[z.i] != '\n' && z.s[z.i] != '\r' {
		z.i++
	}
}

// quoted reads a quoted string up to the matching quote, a line break or
// the end, with StreamTokenizer's escapes.
func (z *jaasTokenizer) quoted(q rune) (jaasToken, error) {
	var b strings.Builder
	for {
		c, n := z.peek()
		if c < 0 || c == '\n' || c == '\r' {
			// StreamTokenizer ends the string there; the line break is read
			// again as white space.
			return jaasToken{kind: int(q), s: b.String()}, nil
		}
		z.i += n
		if c == q {
			return jaasToken{kind: int(q), s: b.String()}, nil
		}
		if c != '\\' {
			b.WriteString(z.s[z.i-n : z.i]) // as given, even if not UTF-8
			continue
		}
		e, n := z.peek()
		if e < 0 {
			return jaasToken{}, errors.New("ends with a '\\' inside quotes")
		}
		z.i += n
		switch {
		case e >= '0' && e <= '7':
			v := e - '0'
			if d, _ := z.peek(); d >= '0' && d <= '7' {
				z.i++
				v = v<<3 + d - '0'
				if d, _ := z.peek(); d >= '0' && d <= '7' && e <= '3' {
					z.i++
					v = v<<3 + d - '0'
				}
			}
			b.WriteRune(v)
		default:
			switch e {
			case 'a':
				e = 7
			case 'b':
				e = '\b'
			case 'f':
				e = '\f'
			case 'n':
				e = '\n'
			case 'r':
				e = '\r'
			case 't':
				e = '\t'
			case 'v':
				e = '\v'
			}
			b.WriteRune(e)
		}
	}
}
