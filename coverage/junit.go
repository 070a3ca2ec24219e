package coverage

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// testEvent is one line of `go test -json` (cmd/test2json).
type testEvent struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
	// ImportPath names the package of build events; FailedBuild, on a package's fail, the build at fault.
	ImportPath  string
	FailedBuild string
}

type testCase struct {
	name    string
	result  string // pass, fail, skip
	elapsed float64
	output  strings.Builder
}

type testPackage struct {
	name    string
	start   time.Time
	result  string
	elapsed float64
	output  strings.Builder
	tests   []*testCase
	byName  map[string]*testCase
}

// TestRecorder reads the stream of `go test -json`, writes its human-readable output to w as it comes,
// and keeps the results for a JUnit report. Lines that are not JSON pass through unchanged.
type TestRecorder struct {
	w io.Writer

	mu       sync.Mutex
	partial  []byte
	packages []*testPackage
	byName   map[string]*testPackage
	builds   map[string]*strings.Builder // build output by import path
}

// NewTestRecorder returns a recorder that shows the tests' output on w.
func NewTestRecorder(w io.Writer) *TestRecorder {
	return &TestRecorder{w: w, byName: map[string]*testPackage{}, builds: map[string]*strings.Builder{}}
}

// Write consumes a chunk of the JSON stream.
func (r *TestRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := r.partial[:i+1]
		r.partial = r.partial[i+1:]
		if err := r.line(line); err != nil {
			return len(p), err
		}
	}
}

func (r *TestRecorder) line(line []byte) error {
	var ev testEvent
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
		_, err := r.w.Write(line)
		return err
	}
	if ev.Output != "" {
		if _, err := io.WriteString(r.w, ev.Output); err != nil {
			return err
		}
	}
	if ev.Package == "" {
		if ev.Action == "build-output" && ev.ImportPath != "" {
			if r.builds[ev.ImportPath] == nil {
				r.builds[ev.ImportPath] = &strings.Builder{}
			}
			r.builds[ev.ImportPath].WriteString(ev.Output)
		}
		return nil
	}
	pkg := r.byName[ev.Package]
	if pkg == nil {
		pkg = &testPackage{name: ev.Package, start: ev.Time, byName: map[string]*testCase{}}
		r.byName[ev.Package] = pkg
		r.packages = append(r.packages, pkg)
	}
	if ev.Test == "" {
		switch ev.Action {
		case "output", "build-output":
			pkg.output.WriteString(ev.Output)
		case "pass", "fail", "skip":
			pkg.result, pkg.elapsed = ev.Action, ev.Elapsed
			if b := r.builds[ev.FailedBuild]; b != nil {
				pkg.output.WriteString(b.String())
			}
		}
		return nil
	}
	tc := pkg.byName[ev.Test]
	if tc == nil {
		tc = &testCase{name: ev.Test}
		pkg.byName[ev.Test] = tc
		pkg.tests = append(pkg.tests, tc)
	}
	switch ev.Action {
	case "output":
		tc.output.WriteString(ev.Output)
	case "pass", "fail", "skip":
		tc.result, tc.elapsed = ev.Action, ev.Elapsed
	}
	return nil
}

// JUnit XML, as GitHub test reporters, GitLab, Jenkins and Azure DevOps read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []junitCase `xml:"testcase"`
		SystemOut *junitText  `xml:"system-out,omitempty"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitMessage `xml:"failure"`
		Error     *junitMessage `xml:"error"`
		Skipped   *junitMessage `xml:"skipped"`
	}
	junitMessage struct {
		Message string `xml:"message,attr"`
		Body    string `xml:",cdata"` // CDATA keeps the test output readable, newlines and all
	}
	junitText struct {
		Text string `xml:",cdata"`
	}
)

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// WriteJUnit writes the recorded results as JUnit XML: a suite per package, a case per test and subtest.
// A package that failed without a failing test (it did not build, or panicked outside a test) gets an
// error case, so that the failure is not lost.
func (r *TestRecorder) WriteJUnit(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := junitSuites{}
	total := 0.0
	for _, pkg := range r.packages {
		suite := junitSuite{Name: pkg.name, Time: seconds(pkg.elapsed)}
		if out := pkg.output.String(); out != "" {
			suite.SystemOut = &junitText{Text: out}
		}
		if !pkg.start.IsZero() {
			suite.Timestamp = pkg.start.UTC().Format(time.RFC3339)
		}
		failedTest := false
		for _, tc := range pkg.tests {
			c := junitCase{Classname: pkg.name, Name: tc.name, Time: seconds(tc.elapsed)}
			switch tc.result {
			case "fail":
				c.Failure = &junitMessage{Message: "Failed", Body: tc.output.String()}
				suite.Failures++
				failedTest = true
			case "skip":
				c.Skipped = &junitMessage{Message: skipReason(tc.output.String())}
				suite.Skipped++
			case "":
				c.Error = &junitMessage{Message: "No result: the test binary stopped during this test", Body: tc.output.String()}
				suite.Errors++
				failedTest = true
			}
			suite.Tests++
			suite.Cases = append(suite.Cases, c)
		}
		if pkg.result == "fail" && !failedTest {
			suite.Cases = append(suite.Cases, junitCase{Classname: pkg.name, Name: "(package)", Time: seconds(pkg.elapsed),
				Error: &junitMessage{Message: "The package failed outside its tests (build failure or panic)", Body: pkg.output.String()}})
			suite.Tests++
			suite.Errors++
		}
		out.Tests += suite.Tests
		out.Failures += suite.Failures
		out.Errors += suite.Errors
		out.Skipped += suite.Skipped
		total += pkg.elapsed
		out.Suites = append(out.Suites, suite)
	}
	slices.SortStableFunc(out.Suites, func(a, b junitSuite) int { return strings.Compare(a.Name, b.Name) })
	out.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// skipReason is the message a test gave t.Skip, from its output ("    x_test.go:12: needs docker").
func skipReason(output string) string {
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- SKIP") {
			continue
		}
		if _, msg, ok := strings.Cut(line, ": "); ok {
			return msg
		}
		return line
	}
	return "Skipped"
}
