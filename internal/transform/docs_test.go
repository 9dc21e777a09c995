package transform

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/options"
)

// TestDocumentation fails when docs/reference/transforms.md differs from
// what the transformation specs generate (refresh it with -update, or
// make docs).
func TestDocumentation(t *testing.T) {
	want, ok := options.DocFiles()[options.TransformsDoc]
	if !ok {
		t.Fatal("no transformation reference generated")
	}
	path := filepath.Join("..", "..", filepath.FromSlash(options.DocsDir), options.TransformsDoc)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the transformation specs; run `make docs` (or go test ./internal/transform -run TestDocumentation -update)", path)
	}
	for _, class := range []string{EventRouterClass, "org.apache.kafka.connect.transforms.Cast$Key", "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"} {
		if !strings.Contains(string(want), "`"+class+"`") {
			t.Errorf("reference lacks %s", class)
		}
	}
}
