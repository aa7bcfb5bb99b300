package tests

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The library is the one door (docs/design.md, "Layers"): the packages above
// it reach the layers below it (internal/device, metalog, alloc, namespace,
// omf, prng, ...) only through the root package. Each may use, besides the
// library and the mount package, two small helpers that know nothing of
// famfs, and one package of its own below:
//   - the daemon (mount and its parts) the grant protocol it serves
//     (internal/control), whose client end the library holds;
//   - bench's baselines (bench/internal/bare), which must not go through the
//     library they measure, the format codec (internal/omf).
//
// Tests may also use the golden images and the format codec, as oracles,
// and the socket-pair helper.
const module = "github.com/famfs-go/famfs"

var (
	above   = []string{"../mount/...", "../cli", "../bench/...", "../cmd/...", "../examples/..."}
	helpers = []string{module + "/internal/mounts", module + "/internal/units"}
	own     = map[string]string{module + "/mount": module + "/internal/control", module + "/bench/internal/bare": module + "/internal/omf"}
	// and, in tests only, the golden-image fixtures, socket pairs and the format codec
	allowedInTests = []string{module + "/internal/testutil/golden", module + "/internal/testutil/sockpair", module + "/internal/omf"}
)

// allowedInternal is what pkg may import of the module's internal packages.
func allowedInternal(pkg string) []string {
	allowed := append([]string(nil), helpers...)
	for p, imp := range own {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			allowed = append(allowed, imp)
		}
	}
	return allowed
}

type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// layerViolations lists "pkg imports layer" for every import of a package
// above the library that reaches below it.
func layerViolations(pkgs []listed) []string {
	var bad []string
	check := func(pkg string, imps []string, allowed []string) {
		for _, imp := range imps {
			if strings.HasPrefix(imp, module+"/internal/") && !slices.Contains(allowed, imp) {
				bad = append(bad, pkg+" imports "+imp)
			}
		}
	}
	for _, p := range pkgs {
		// mount's parts (mount/internal/...) sit below mount: they never
		// import it.
		if strings.HasPrefix(p.ImportPath, module+"/mount/internal/") {
			for _, imp := range append(append(append([]string(nil), p.Imports...), p.TestImports...), p.XTestImports...) {
				if imp == module+"/mount" {
					bad = append(bad, p.ImportPath+" imports "+imp)
				}
			}
		}
		allowed := allowedInternal(p.ImportPath)
		check(p.ImportPath, p.Imports, allowed)
		tests := append(allowed, allowedInTests...)
		check(p.ImportPath+" (tests)", append(p.TestImports, p.XTestImports...), tests)
	}
	return bad
}

func TestLayering(t *testing.T) {
	go_, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list packages with")
	}
	cmd := exec.Command(go_, append([]string{"list", "-json"}, above...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages above the library", len(pkgs))
	}
	for _, v := range layerViolations(pkgs) {
		t.Errorf("%s: only the library may use the layers below it", v)
	}
}

// The modules of their own under the tree (examples/arrow) are held to the
// same door: go list of this module does not reach them, and Go's internal
// rule goes by import path, so nothing else stops one importing an internal
// package. Their sources are read for imports (no build: their dependencies
// need not be downloaded).
func TestLayeringNestedModules(t *testing.T) {
	mods, err := filepath.Glob("../examples/*/go.mod")
	if err != nil || len(mods) == 0 {
		t.Fatalf("no nested module found (%v): the test would hold nothing", err)
	}
	for _, mod := range mods {
		dir := filepath.Dir(mod)
		var pkgs []listed
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			l := listed{ImportPath: p}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasSuffix(p, "_test.go") {
					l.TestImports = append(l.TestImports, path)
				} else {
					l.Imports = append(l.Imports, path)
				}
			}
			pkgs = append(pkgs, l)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range layerViolations(pkgs) {
			t.Errorf("%s: a program outside the module uses only the library and mount", v)
		}
	}
}

// The check itself catches a forbidden import, in code and in tests, and
// lets the allowed ones through.
func TestLayerViolationsDetected(t *testing.T) {
	got := layerViolations([]listed{
		{ImportPath: module + "/mount", Imports: []string{module, module + "/internal/control", module + "/internal/namespace", module + "/internal/mounts"}},
		{ImportPath: module + "/cli", Imports: []string{module, module + "/mount", module + "/internal/omf", module + "/internal/control"},
			TestImports: []string{module + "/internal/testutil/golden", module + "/internal/omf", module + "/internal/device"}},
		{ImportPath: module + "/mount/internal/fusefs", Imports: []string{module, module + "/mount/internal/errmap"}, TestImports: []string{module + "/mount"}},
		{ImportPath: module + "/mount/internal/grants", Imports: []string{module + "/internal/control", module + "/internal/omf"}},
		{ImportPath: module + "/bench", Imports: []string{module + "/bench/internal/bare", module + "/internal/omf"}},
		{ImportPath: module + "/bench/internal/bare", Imports: []string{module, module + "/internal/omf", module + "/internal/metalog"}},
	})
	want := []string{module + "/mount imports " + module + "/internal/namespace",
		module + "/cli imports " + module + "/internal/omf", module + "/cli imports " + module + "/internal/control",
		module + "/cli (tests) imports " + module + "/internal/device",
		module + "/mount/internal/fusefs imports " + module + "/mount",
		module + "/mount/internal/grants imports " + module + "/internal/omf",
		module + "/bench imports " + module + "/internal/omf",
		module + "/bench/internal/bare imports " + module + "/internal/metalog"}
	if !slices.Equal(got, want) {
		t.Fatalf("violations %q, want %q", got, want)
	}
}
