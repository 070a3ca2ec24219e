package coverage

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

func TestWriteCobertura(t *testing.T) {
	p, r := fixtureReport(t)
	r.Root = "FIXTURE"
	var b bytes.Buffer
	require.NoError(t, r.WriteCobertura(&b, p, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)))
	golden.Assert(t, "fixture-cobertura.xml", b.Bytes())

	var back coberturaReport
	require.NoError(t, xml.Unmarshal(b.Bytes(), &back), "well-formed XML")
	assert.Equal(t, int64(1795428000000), back.Timestamp)
	require.Len(t, back.Packages, 2)
	lines, hit := 0, 0
	for _, pkg := range back.Packages {
		for _, c := range pkg.Classes {
			for _, l := range c.Lines {
				lines++
				if l.Hits > 0 {
					hit++
				}
			}
		}
	}
	assert.Equal(t, back.LinesValid, lines)
	assert.Equal(t, back.LinesCovered, hit)
}
