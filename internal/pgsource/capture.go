package pgsource

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// This file decides and reports which tables the connector captures: the
// include and exclude lists as Config.Include applies them, and the line
// Open logs about them.

// IncludeEntry is one entry of an include list: as the user typed it, for
// messages, and as it matches (anchored, case-insensitive).
type IncludeEntry struct {
	Entry string
	Re    *regexp.Regexp
}

// Tables lists the captured tables, sorted by schema and name.
func (s *Source) Tables(ctx context.Context) ([]TableName, error) {
	all, err := s.ListTables(ctx)
	if err != nil {
		return nil, err
	}
	captured, _ := selectTables(all, s.included, nil)
	return captured, nil
}

// selectTables returns the tables of all that include selects, and the
// entries that match none of all (whatever the other filters say), as
// typed.
func selectTables(all []TableName, include func(schema, table string) bool, entries []IncludeEntry) (captured []TableName, unmatched []string) {
	used := make([]bool, len(entries))
	for _, t := range all {
		q := t.String()
		for i, e := range entries {
			if !used[i] && e.Re.MatchString(q) {
				used[i] = true
			}
		}
		if include(t.Schema, t.Name) {
			captured = append(captured, t)
		}
	}
	for i, e := range entries {
		if !used[i] {
			unmatched = append(unmatched, e.Entry)
		}
	}
	return captured, unmatched
}

// maxLoggedTables bounds the table names in the "captured tables" line.
const maxLoggedTables = 100

// logCapture says, once when the source opens, which tables the include
// and exclude lists capture, and warns about each table.include.list entry
// that matches no table.
func (s *Source) logCapture(ctx context.Context) error {
	all, err := s.ListTables(ctx)
	if err != nil {
		return err
	}
	captured, unmatched := selectTables(all, s.included, s.cfg.TableInclude)
	names := make([]string, 0, min(len(captured), maxLoggedTables+1))
	for i, t := range captured {
		if i == maxLoggedTables {
			names = append(names, fmt.Sprintf("and %d more", len(captured)-i))
			break
		}
		names = append(names, t.String())
	}
	s.log.Info("captured tables", "tables", len(captured), "list", strings.Join(names, ","), "publication", s.cfg.Publication)
	for _, e := range unmatched {
		s.log.Warn("table.include.list entry matches no table: fix its spelling or create the table; entries are regular expressions matched against the whole schema.table name, case-insensitively", "entry", e)
	}
	return nil
}

// included reports whether the connector's filters capture a table.
func (s *Source) included(schema, table string) bool {
	return s.cfg.Include == nil || s.cfg.Include(schema, table)
}
