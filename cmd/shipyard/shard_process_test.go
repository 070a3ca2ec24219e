package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/coverage"
)

// suite writes a module of packages whose tests cover some of their code: p0 has six slow tests (so
// that the history makes it dominate and split), the others one or two quick ones, p5 none at all.
func suite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("go.mod", "module example.com/suite\n\ngo 1.24\n")
	for i := range 6 {
		p := fmt.Sprintf("p%d", i)
		write(p+"/code.go", fmt.Sprintf("package %s\n\nfunc Covered(x int) int {\n\tif x > 0 {\n\t\treturn x\n\t}\n\treturn -x\n}\n\nfunc Uncovered(x int) int {\n\tif x > 1 {\n\t\treturn x * 2\n\t}\n\treturn 0\n}\n", p))
		if i == 5 {
			continue
		}
		tests := fmt.Sprintf("package %s\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nvar _ = time.Millisecond\n", p)
		n := 1 + i%2
		if i == 0 {
			n = 6
		}
		for j := range n {
			body := fmt.Sprintf("\tif Covered(%d) != %d {\n\t\tt.Fatal()\n\t}\n", j+1, j+1)
			if i == 0 {
				body += "\ttime.Sleep(150 * time.Millisecond)\n\tt.Run(\"sub\", func(t *testing.T) {})\n"
			}
			tests += fmt.Sprintf("\nfunc Test%c(t *testing.T) {\n%s}\n", 'A'+j, body)
		}
		write(p+"/code_test.go", tests)
	}
	return dir
}

type junitFile struct {
	Suites []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name string `xml:"name,attr"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// ran lists the package/test pairs of JUnit files, top-level tests and subtests, once per run.
func ran(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var j junitFile
		require.NoError(t, xml.Unmarshal(data, &j))
		for _, s := range j.Suites {
			for _, c := range s.Cases {
				out = append(out, s.Name+" "+c.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestShardsMergeToOneRun: a suite run in 4 shards, as separate processes, runs each test exactly once,
// first split by name, then by the timings the first merge recorded (p0 split by its tests); the merged
// total equals a single run's and go tool cover's on the merged profile, and the gate decides the same.
func TestShardsMergeToOneRun(t *testing.T) {
	dir := suite(t)
	out, stderr, code := shipyard(t, "-C", dir, "-o", "json", "test", "--junit", "single.xml")
	require.Zero(t, code, stderr)
	var single struct{ Total float64 }
	require.NoError(t, json.Unmarshal([]byte(out), &single))
	all := ran(t, filepath.Join(dir, "single.xml"))
	require.Len(t, all, 6*2+1+2+1+2, "p0's six tests and their subtests, then one or two each")

	for round, shardDir := range []string{"round1", "round2"} {
		var wg sync.WaitGroup
		errs := make([]string, 4)
		for k := 1; k <= 4; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(binary, "-C", dir, "test", "--shard", fmt.Sprintf("%d/4", k), "--shard-dir", shardDir, "--min-total", "100")
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[k-1] = fmt.Sprintf("shard %d/4: %v\n%s", k, err, out)
				}
			}()
		}
		wg.Wait()
		for _, e := range errs {
			assert.Empty(t, e, "a shard does not gate unless asked (--shard-gate)")
		}
		var junits []string
		for k := 1; k <= 4; k++ {
			junits = append(junits, filepath.Join(dir, shardDir, fmt.Sprintf("shard-%d-of-4.junit.xml", k)))
		}
		assert.Equal(t, all, ran(t, junits...), "round %d: every test ran once, in one shard", round+1)

		out, stderr, code = shipyard(t, "-C", dir, "-o", "json", "test", "merge", shardDir, "--junit", shardDir+"/merged.xml")
		require.Zero(t, code, stderr)
		var merged struct{ Total float64 }
		require.NoError(t, json.Unmarshal([]byte(out), &merged))
		assert.Equal(t, single.Total, merged.Total, "round %d", round+1)
		assert.Equal(t, all, ran(t, filepath.Join(dir, shardDir, "merged.xml")))

		// go tool cover -func on the merged profile says the same total.
		var profiles []*coverage.Profile
		for k := 1; k <= 4; k++ {
			p, err := coverage.ReadProfile(filepath.Join(dir, shardDir, fmt.Sprintf("shard-%d-of-4.cover.out", k)))
			require.NoError(t, err)
			profiles = append(profiles, p)
		}
		m, err := coverage.Merge(profiles...)
		require.NoError(t, err)
		f, err := os.Create(filepath.Join(dir, shardDir, "merged.out"))
		require.NoError(t, err)
		require.NoError(t, m.Write(f))
		require.NoError(t, f.Close())
		cover := exec.Command("go", "tool", "cover", "-func", filepath.Join(shardDir, "merged.out"))
		cover.Dir = dir
		cf, err := cover.CombinedOutput()
		require.NoError(t, err, string(cf))
		lines := strings.Split(strings.TrimSpace(string(cf)), "\n")
		assert.Equal(t, fmt.Sprintf("%.1f%%", single.Total), strings.Fields(lines[len(lines)-1])[2])

		// The gate decides as a single run does.
		for _, min := range []float64{single.Total - 0.5, single.Total + 0.5} {
			_, _, one := shipyard(t, "-C", dir, "test", "--min-total", fmt.Sprint(min))
			_, _, sharded := shipyard(t, "-C", dir, "test", "merge", shardDir, "--min-total", fmt.Sprint(min))
			assert.Equal(t, one, sharded, "--min-total %v", min)
		}
	}
	// The second round was planned from the first's timings: p0 dominated and was split by its tests.
	timings, err := coverage.ReadTimings(filepath.Join(dir, ".shipyard", "timings.json"))
	require.NoError(t, err)
	assert.Len(t, timings.Tests["example.com/suite/p0"], 6)
	split := 0
	for k := 1; k <= 4; k++ {
		data, err := os.ReadFile(filepath.Join(dir, "round2", fmt.Sprintf("shard-%d-of-4.junit.xml", k)))
		require.NoError(t, err)
		if strings.Contains(string(data), `name="example.com/suite/p0"`) {
			split++
		}
	}
	assert.Greater(t, split, 1, "p0s tests ran in more than one shard")

	// A failing test fails its shard, and the merge too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p3", "fail_test.go"), []byte("package p3\n\nimport \"testing\"\n\nfunc TestFails(t *testing.T) { t.Fatal(\"no\") }\n"), 0o644))
	failed := 0
	for k := 1; k <= 4; k++ {
		if _, _, code := shipyard(t, "-C", dir, "test", "--shard", fmt.Sprintf("%d/4", k), "--shard-dir", "round3"); code != 0 {
			assert.Equal(t, 1, code)
			failed++
		}
	}
	assert.Equal(t, 1, failed, "one shard ran the failing test")
	_, stderr, code = shipyard(t, "-C", dir, "test", "merge", "round3")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "of the shards' tests failed")
}
