package coverage

import (
	"bytes"
	"encoding/xml"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

// testdata/gotest.json is the real `go test -json` stream of a module with passing, failing, skipped and
// sub-tests, and a package that does not build.
func TestTestRecorder(t *testing.T) {
	stream, err := os.ReadFile("testdata/gotest.json")
	require.NoError(t, err)
	var human bytes.Buffer
	rec := NewTestRecorder(&human)
	// Feed it in awkward pieces, as a pipe would.
	for len(stream) > 0 {
		n := min(37, len(stream))
		_, err := rec.Write(stream[:n])
		require.NoError(t, err)
		stream = stream[n:]
	}
	_, err = rec.Write([]byte("not json, passed through\n"))
	require.NoError(t, err)

	assert.Contains(t, human.String(), "--- FAIL: TestFail", "the human-readable output streams through")
	assert.Contains(t, human.String(), "cannot use \"s\" (untyped string constant)", "so does build output")
	assert.Contains(t, human.String(), "not json, passed through\n")

	var out bytes.Buffer
	require.NoError(t, rec.WriteJUnit(&out))
	golden.Assert(t, "gotest-junit.xml", out.Bytes())

	var suites junitSuites
	require.NoError(t, xml.Unmarshal(out.Bytes(), &suites))
	assert.Equal(t, 7, suites.Tests, "TestPass, TestFail, TestSkip, TestSub, TestSub/ok, TestSub/bad, and the broken package")
	assert.Equal(t, 3, suites.Failures)
	assert.Equal(t, 1, suites.Errors)
	assert.Equal(t, 1, suites.Skipped)
	broken := suites.Suites[1]
	assert.Equal(t, "example.com/jt/broken", broken.Name)
	assert.Contains(t, broken.Cases[0].Error.Body, "cannot use \"s\"")
	assert.Equal(t, "needs a database", suites.Suites[0].Cases[2].Skipped.Message)
}
