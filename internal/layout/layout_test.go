// Package layout holds the test that keeps the architecture honest: the capability packages are libraries
// that never depend on the command line, its flags, or the streams it prints to.
package layout

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden lists what a capability package must not depend on, even indirectly.
var forbidden = []string{
	"github.com/spf13/cobra",
	"github.com/spf13/pflag",
	"github.com/shipyardci/shipyard/cmd/",
	"github.com/shipyardci/shipyard/internal/iostreams",
	"github.com/shipyardci/shipyard/internal/ghactions",
	"github.com/shipyardci/shipyard/internal/exitcode",
}

func TestLibrariesDoNotDependOnTheCLI(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "github.com/shipyardci/shipyard/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], "github.com/shipyardci/shipyard/")
		if strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "internal/") || strings.HasPrefix(pkg, "bench") || pkg == fields[0] {
			continue
		}
		checked++
		for _, dep := range fields[1:] {
			for _, f := range forbidden {
				if dep == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f)) {
					t.Errorf("%s depends on %s: capability packages are libraries that neither parse flags nor print", pkg, dep)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no capability package was checked")
	}
}
