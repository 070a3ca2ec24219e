package layout

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// besideTheClone matches a path into the folder that sits beside this team's checkout and nowhere else:
// a user's clone has no such folder, so nothing may read it.
var besideTheClone = regexp.MustCompile(`\.\.[/\\]shared\b|"shared",\s*"data"`)

// TestNothingReadsBesideTheClone: no tracked file outside docs/ names the shared folder beside the
// checkout (tests, scripts, the Makefile, CI), so a bare clone's make test and make demo need nothing else.
func TestNothingReadsBesideTheClone(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 100 {
		t.Fatalf("git ls-files listed %d files", len(files))
	}
	for _, f := range files {
		if strings.HasPrefix(f, "docs/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the work tree
			}
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if besideTheClone.MatchString(line) {
				t.Errorf("%s:%d reads beside the clone (copy the data into testdata/): %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
