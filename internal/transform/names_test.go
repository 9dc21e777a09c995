package transform_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/options"
	_ "github.com/pgmotion/pgmotion/internal/transform" // registers the transformations' specs
)

// declaringDirs hold the option declarations: the connector options
// (internal/options), the transformations' (internal/transform) and the
// worker's (internal/workerconfig). A property name is spelled there once,
// as a constant or as the Name (Prefix, alias) of its declaration.
var declaringDirs = []string{"internal/options", "internal/transform", "internal/workerconfig"}

// nameLiteralAllowed lists the literals of property names the guard
// accepts outside a declaration, each with the reason.
var nameLiteralAllowed = map[string]string{
	// Two options that share a name: Kafka's group heartbeat of the
	// worker (DistributedConfig) and Debezium's heartbeat of a connector.
	"internal/workerconfig heartbeat.interval.ms": "the worker's group heartbeat is another option than the connector's heartbeat.interval.ms",
}

// skippedDirs are not product code: examples/ holds programs written the
// way a user writes them, who cannot import pgmotion's internal packages.
var skippedDirs = map[string]string{
	"examples": "programs written as a user writes them, who cannot import internal packages",
	"chaos":    "the chaos harness drives the binary from outside, with connector configs written as a user writes them",
}

// TestPropertyNamesDeclaredOnce fails when a property name is spelled as a
// string literal outside its declaration, or declared twice: the code,
// parsing, validation and the docs must all use the declared constant, so
// that a name cannot drift. It looks at every non-test Go file of the
// module. Only dotted names are checked ("name" or "field" are also JSON
// keys and words).
func TestPropertyNamesDeclaredOnce(t *testing.T) {
	root := filepath.Join("..", "..")
	names := declaredNames(t, root)
	if len(names) < 200 {
		t.Fatalf("found %d declared property names; the registry or the workerconfig constants are not being read", len(names))
	}
	type site struct{ dir, pos string }
	decls := map[string][]site{}
	uses := map[string][]site{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if _, skip := skippedDirs[rel]; skip || d.Name() == "testdata" || d.Name() == "node_modules" || (strings.HasPrefix(d.Name(), ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		declaring := false
		for _, d := range declaringDirs {
			declaring = declaring || dir == d
		}
		atDecl := declarationLiterals(f)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !names[s] {
				return true
			}
			p := fset.Position(lit.Pos())
			at := site{dir: dir, pos: rel + ":" + strconv.Itoa(p.Line)}
			if declaring && atDecl[lit] {
				decls[s] = append(decls[s], at)
			} else {
				uses[s] = append(uses[s], at)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for name, ds := range decls {
		var extra []string
		for _, d := range ds[1:] {
			if _, ok := nameLiteralAllowed[d.dir+" "+name]; !ok {
				extra = append(extra, d.pos)
			}
		}
		if len(extra) > 0 {
			problems = append(problems, name+" is declared at "+ds[0].pos+" and again at "+strings.Join(extra, ", ")+": use the first declaration's constant")
		}
	}
	for name, us := range uses {
		for _, u := range us {
			if _, ok := nameLiteralAllowed[u.dir+" "+name]; ok {
				continue
			}
			problems = append(problems, u.pos+": "+strconv.Quote(name)+" is a property name: use the constant its declaration exports")
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// declarationLiterals returns the string literals of f that declare a
// name: constant values, and the Name, Prefix and Aliases of a
// declaration's composite literal.
func declarationLiterals(f *ast.File) map[*ast.BasicLit]bool {
	out := map[*ast.BasicLit]bool{}
	mark := func(n ast.Node) {
		ast.Inspect(n, func(m ast.Node) bool {
			if lit, ok := m.(*ast.BasicLit); ok {
				out[lit] = true
			}
			return true
		})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GenDecl:
			if n.Tok == token.CONST {
				mark(n)
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok && (id.Name == "Name" || id.Name == "Prefix" || id.Name == "Aliases") {
				if _, isLit := n.Value.(*ast.BasicLit); isLit || id.Name == "Aliases" {
					mark(n.Value)
				}
			}
		}
		return true
	})
	return out
}

var workerConstRE = regexp.MustCompile(`^(?i:prop|prefix)`)

// declaredNames returns every dotted property name: the fields, legacy
// names and prefixes of the registered specs, and the worker's, read from
// the constants of internal/workerconfig.
func declaredNames(t *testing.T, root string) map[string]bool {
	names := map[string]bool{}
	add := func(n string) {
		if strings.Contains(strings.TrimSuffix(n, "."), ".") {
			names[n] = true
		}
	}
	for _, s := range options.All() {
		for _, f := range s.Fields {
			add(f.Name)
			for _, a := range f.Aliases {
				add(a)
			}
		}
		for _, p := range s.Prefixes {
			add(p.Prefix)
		}
	}
	fset := token.NewFileSet()
	pkgs, err := filepath.Glob(filepath.Join(root, "internal", "workerconfig", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkgs {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i >= len(vs.Values) || !workerConstRE.MatchString(id.Name) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil {
							add(v)
						}
					}
				}
			}
		}
	}
	return names
}
