package gomioir

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gomioir/gomioir/"

// TestPackageMap keeps README.md's package map true: every package of the
// module has a row, and imports only point down the table (a package may
// import those of its own row or of rows below it).
func TestPackageMap(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Package map\n")
	if !ok {
		t.Fatal("README.md has no '## Package map' section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	row := map[string]int{}
	name := regexp.MustCompile("`([a-z0-9/]+)`")
	for i, line := range strings.Split(table, "\n") {
		if cells := strings.Split(line, "|"); strings.HasPrefix(line, "| `") && len(cells) > 2 {
			for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
				row[m[1]] = i
			}
		}
	}

	imports := map[string]map[string]bool{} // package -> module packages it imports
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." || strings.HasPrefix(dir, "scripts/") {
			return nil // the module root's doc and the maintainers' scripts
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[dir] == nil {
			imports[dir] = map[string]bool{}
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if q, ok := strings.CutPrefix(p, module); ok {
				imports[dir][q] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 20 {
		t.Fatalf("found only %d packages", len(imports))
	}
	for p, deps := range imports {
		rp, ok := row[p]
		if !ok {
			t.Errorf("package %s has no row in README.md's package map", p)
			continue
		}
		for q := range deps {
			if rq, ok := row[q]; ok && rq < rp {
				t.Errorf("README.md's package map: %s imports %s, listed above it", p, q)
			}
		}
	}
}
