package transform

import (
	"strconv"
	"strings"
	"time"
)

// simpleDateFormat is java.text.SimpleDateFormat with the UTC zone and an
// English locale, for TimestampRouter's timestamp.format.
type simpleDateFormat []sdfPart

type sdfPart struct {
	letter byte // 0: literal
	count  int
	lit    string
}

// compileSimpleDateFormat parses a SimpleDateFormat pattern; the error is
// Java's for an unknown pattern letter or an unterminated quote.
func compileSimpleDateFormat(pattern string) (simpleDateFormat, error) {
	var out simpleDateFormat
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				out = append(out, sdfPart{lit: "'"})
				i += 2
				continue
			}
			end := i + 1
			var lit strings.Builder
			for {
				if end >= len(pattern) {
					return nil, javaErrorf("Unterminated quote")
				}
				if pattern[end] == '\'' {
					if end+1 < len(pattern) && pattern[end+1] == '\'' {
						lit.WriteByte('\'')
						end += 2
						continue
					}
					break
				}
				lit.WriteByte(pattern[end])
				end++
			}
			out = append(out, sdfPart{lit: lit.String()})
			i = end + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune("GyYMLwWDdFEuaHkKhmsSzZX", rune(c)) {
				return nil, javaErrorf("Illegal pattern character '%c'", c)
			}
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			out = append(out, sdfPart{letter: c, count: n})
			i += n
		default:
			out = append(out, sdfPart{lit: string(c)})
			i++
		}
	}
	return out, nil
}

// format formats epoch milliseconds in UTC.
func (f simpleDateFormat) format(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	var b strings.Builder
	num := func(v, width int) {
		s := strconv.Itoa(v)
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for _, p := range f {
		if p.letter == 0 {
			b.WriteString(p.lit)
			continue
		}
		n := p.count
		switch p.letter {
		case 'G':
			if t.Year() <= 0 {
				b.WriteString("BC")
			} else {
				b.WriteString("AD")
			}
		case 'y', 'Y':
			y := t.Year()
			if y <= 0 {
				y = 1 - y // year of era
			}
			if n == 2 {
				num(y%100, 2)
			} else {
				num(y, n)
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				num(int(t.Month()), n)
			}
		case 'w':
			_, w := t.ISOWeek()
			num(w, n)
		case 'W':
			num((t.Day()-1+int(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Weekday()))/7+1, n)
		case 'D':
			num(t.YearDay(), n)
		case 'd':
			num(t.Day(), n)
		case 'F':
			num((t.Day()-1)/7+1, n)
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			num(wd, n)
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'H':
			num(t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			num(h, n)
		case 'K':
			num(t.Hour()%12, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			num(h, n)
		case 'm':
			num(t.Minute(), n)
		case 's':
			num(t.Second(), n)
		case 'S':
			num(t.Nanosecond()/1e6, n)
		case 'z':
			if n >= 4 {
				b.WriteString("Coordinated Universal Time")
			} else {
				b.WriteString("UTC")
			}
		case 'Z':
			b.WriteString("+0000")
		case 'X':
			b.WriteString("Z")
		}
	}
	return b.String()
}
