package pgsource

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
)

// FetchRow reads the current values of rel's columns for the row whose
// key columns hold key's values (text format, in rel.Key order), on the
// catalog connection: it belongs to the streaming goroutine. It returns
// nil, nil when no such row exists any more.
func (s *Source) FetchRow(ctx context.Context, rel *change.Relation, key [][]byte) ([][]byte, error) {
	if len(rel.Key) == 0 || len(key) != len(rel.Key) {
		return nil, fmt.Errorf("fetch a row of %s: the table has no key to find it by", rel.QualifiedName())
	}
	conds := make([]string, len(rel.Key))
	for i, k := range rel.Key {
		conds[i] = fmt.Sprintf("%s = $%d", quoteIdent(rel.Columns[k].Name), i+1)
	}
	sql := selectAll(rel) + " WHERE " + strings.Join(conds, " AND ")
	res := s.meta.ExecParams(ctx, sql, key, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, fmt.Errorf("fetch a row of %s: %w", rel.QualifiedName(), res.Err)
	}
	if len(res.Rows) == 0 {
		return nil, nil
	}
	return res.Rows[0], nil
}
