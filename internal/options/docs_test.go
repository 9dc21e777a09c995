package options

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated files under docs/reference")

// TestDocumentation fails when the committed reference differs from what the
// spec generates, like Prometheus's TestDocumentation.
func TestDocumentation(t *testing.T) {
	dir := filepath.Join("..", "..", filepath.FromSlash(DocsDir))
	files := DocFiles()
	if len(files) == 0 {
		t.Fatal("no documented spec")
	}
	for name, want := range files {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/%s is out of date with internal/options; run `make docs` (go run ./cmd/pgmotion docs) and commit the result", DocsDir, name)
		}
	}
	// A generated file that no spec produces any more is stale too.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if _, ok := files[e.Name()]; ok || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		if e.Name() == TransformsDoc {
			continue // internal/transform registers its specs and checks it
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && bytes.HasPrefix(data, []byte(generatedHeader)) {
			t.Errorf("%s/%s is generated but no spec produces it any more; delete it", DocsDir, e.Name())
		}
	}
}

func TestCompactMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdownCompact(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| `topic.prefix` | *required* |", "| `plugin.name` | `pgoutput` (Debezium: `decoderbufs`) |", "docs/reference/postgres-connector.md"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("compact reference lacks %q", want)
		}
	}
}
