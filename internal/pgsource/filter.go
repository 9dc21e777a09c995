package pgsource

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// A signal's additional-conditions filter is SQL pasted into the WHERE
// clause of the snapshot's chunk reads, as Debezium pastes it, and runs as
// the connector's user. Two guards keep it to reading:
//
//   - the chunk reads run in a READ ONLY transaction (readOnly), so any
//     SQL write fails;
//   - functions that PostgreSQL marks VOLATILE are refused before the
//     query runs (checkFilter): some act outside the transaction, where
//     READ ONLY does not reach (lo_export writes a server file,
//     pg_read_file reads one, dblink opens a connection,
//     pg_terminate_backend ends a session), and no filter needs one.
//
// What remains: a filter reads anything the connector's user may read
// (a subquery on another table decides which rows are emitted), and
// STABLE or IMMUTABLE functions run, which by PostgreSQL's contract have
// no side effects (only a superuser can create a C function that lies).

// filterFunctions returns the names of the functions a filter calls: each
// identifier, plain or quoted, possibly schema-qualified, that is followed
// by "(" (PostgreSQL's function-call syntax), skipping string literals
// ('…', E'…', $tag$…$tag$), quoted identifiers used otherwise and
// comments. Unquoted names are folded to lower case, as PostgreSQL folds
// them. Keywords followed by "(" (IN, EXISTS, ANY, …) come out too; they
// name no function and are harmless to look up.
func filterFunctions(sql string) []string {
	seen := map[string]bool{}
	last := "" // the identifier just read, if nothing but space followed it
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth := 0
			for i < len(sql) {
				if strings.HasPrefix(sql[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(sql[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '(':
			if last != "" {
				seen[last] = true
			}
		case c == '\'':
			i = skipString(sql, i, false)
			last = ""
			continue
		case (c == 'e' || c == 'E') && i+1 < len(sql) && sql[i+1] == '\'':
			i = skipString(sql, i+1, true)
			last = ""
			continue
		case c == '$':
			if end, ok := skipDollar(sql, i); ok {
				i = end
				last = ""
				continue
			}
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(sql) {
				if sql[j] == '"' {
					if j+1 < len(sql) && sql[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			last = b.String()
			i = j + 1
			continue
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentPart(sql[j]) {
				j++
			}
			last = strings.ToLower(sql[i:j])
			i = j
			continue
		case c == '.':
			// schema.function: keep the function's name, which follows.
			i++
			continue
		}
		last = ""
		i++
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// skipString returns the index after the string literal whose opening
// quote is at i; backslash escapes count in an E'…' string.
func skipString(sql string, i int, escapes bool) int {
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if escapes {
				j++
			}
		case '\'':
			if j+1 < len(sql) && sql[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// skipDollar returns the index after the dollar-quoted string that starts
// at i ($$…$$ or $tag$…$tag$), and false when none starts there ($1 is a
// parameter).
func skipDollar(sql string, i int) (int, bool) {
	j := i + 1
	for j < len(sql) && sql[j] != '$' {
		if !isIdentPart(sql[j]) || sql[j] >= '0' && sql[j] <= '9' && j == i+1 {
			return 0, false
		}
		j++
	}
	if j >= len(sql) {
		return 0, false
	}
	tag := sql[i : j+1]
	end := strings.Index(sql[j+1:], tag)
	if end < 0 {
		return len(sql), true
	}
	return j + 1 + end + len(tag), true
}

// checkFilter refuses a filter that calls a VOLATILE function. Its answer
// for each filter is kept: a snapshot reads many chunks with one filter.
func (s *Source) checkFilter(ctx context.Context, cond string) error {
	if cond == "" {
		return nil
	}
	if err, ok := s.filterChecked[cond]; ok {
		return err
	}
	names := filterFunctions(cond)
	var err error
	if len(names) > 0 {
		arr := "{" + strings.Join(quoteArrayItems(names), ",") + "}"
		res := s.meta.ExecParams(ctx, `SELECT DISTINCT proname FROM pg_catalog.pg_proc WHERE proname = ANY($1::text[]) AND provolatile = 'v' ORDER BY 1`,
			[][]byte{[]byte(arr)}, nil, nil, nil).Read()
		if res.Err != nil {
			return fmt.Errorf("check the functions of the additional-conditions filter: %w", res.Err)
		}
		if len(res.Rows) > 0 {
			var bad []string
			for _, r := range res.Rows {
				bad = append(bad, string(r[0]))
			}
			err = fmt.Errorf("the additional-conditions filter of the execute-snapshot signal, %s, calls %s, which PostgreSQL marks VOLATILE (it may change something); "+
				"snapshot filters must only read: write a condition on the table's columns with stable or immutable functions", cond, strings.Join(bad, ", "))
		}
	}
	if s.filterChecked == nil {
		s.filterChecked = map[string]error{}
	}
	s.filterChecked[cond] = err
	return err
}

// quoteArrayItems quotes names for a text[] literal.
func quoteArrayItems(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n) + `"`
	}
	return out
}
