package coverage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

func TestWriteHTML(t *testing.T) {
	p, r := fixtureReport(t)
	dir := t.TempDir()
	require.NoError(t, r.WriteHTML(dir, p))

	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	golden.Assert(t, "fixture-html-index.html", index)
	page, err := os.ReadFile(filepath.Join(dir, "calc", "calc.go.html"))
	require.NoError(t, err)
	golden.Assert(t, "fixture-html-calc.html", page)
	assert.Contains(t, string(page), `<tr class="unc"><td class="n">27</td>`, "Abs never ran")
	assert.Contains(t, string(page), `<tr class="cov"><td class="n">15</td>`, "Add ran")
	assert.Contains(t, string(page), `<tr class="ign"><td class="n">59</td>`, "Debug is ignored")
	assert.Contains(t, string(page), `<a href="../index.html">`)
}
