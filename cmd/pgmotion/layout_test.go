package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestImportsPointOneWay holds the layering the README's "How it is
// built" describes: each rule names a package and the packages of ours it
// must not import (test files aside).
func TestImportsPointOneWay(t *testing.T) {
	const mod = "github.com/pgmotion/pgmotion/internal/"
	imports := map[string][]string{} // internal package → internal packages it imports
	root := filepath.Join("..", "..", "internal")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg, _ := filepath.Rel(root, filepath.Dir(path))
		pkg = filepath.ToSlash(pkg)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(p, mod); ok && !slices.Contains(imports[pkg], dep) {
				imports[pkg] = append(imports[pkg], dep)
			}
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := func(except ...string) []string {
		var out []string
		for p := range imports {
			if !slices.Contains(except, p) {
				out = append(out, p)
			}
		}
		return out
	}
	for _, rule := range []struct {
		pkg, why  string
		forbidden []string
	}{
		{"change", "a change and its position know nothing else", all("change")},
		{"record", "a Kafka record knows nothing else", all("record")},
		{"pgsource", "the source, the encoder and the producer know nothing of each other", []string{"debezium", "kafkasink", "pipeline", "connect", "snapshot"}},
		{"debezium", "the source, the encoder and the producer know nothing of each other", []string{"pgsource", "kafkasink", "pipeline", "connect"}},
		{"kafkasink", "the source, the encoder and the producer know nothing of each other", []string{"pgsource", "debezium", "pipeline", "connect"}},
		{"snapshot", "snapshot logic is tested without the pipeline", []string{"pipeline", "connect", "kafkasink", "debezium"}},
		{"pipeline", "a task knows nothing of the worker that runs it", []string{"connect", "connect/rest", "console", "doctor"}},
		{"metrics", "metrics are computed, not shown", []string{"progress", "pipeline", "connect"}},
		{"options", "option declarations are read by everyone and import no runtime", []string{"pipeline", "connect", "pgsource", "debezium", "transform"}},
	} {
		if _, ok := imports[rule.pkg]; !ok {
			t.Errorf("internal/%s is gone: update this test and the README's How it is built", rule.pkg)
			continue
		}
		for _, dep := range imports[rule.pkg] {
			if slices.Contains(rule.forbidden, dep) {
				t.Errorf("internal/%s imports internal/%s: %s", rule.pkg, dep, rule.why)
			}
		}
	}
}
