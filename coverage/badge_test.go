package coverage

import (
	"encoding/xml"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

func TestBadge(t *testing.T) {
	golden.Assert(t, "badge.svg", Badge("coverage", 87.54))
	tests := []struct {
		percent float64
		color   string
	}{{100, "#4c1"}, {90, "#4c1"}, {89.9, "#97ca00"}, {72, "#a4a61d"}, {61, "#dfb317"}, {50, "#fe7d37"}, {12, "#e05d44"}}
	for _, tt := range tests {
		svg := Badge("coverage", tt.percent)
		assert.Contains(t, string(svg), `fill="`+tt.color+`"`, "%v%%", tt.percent)
		var doc struct{ XMLName xml.Name }
		require.NoError(t, xml.Unmarshal(svg, &doc), "well-formed SVG")
	}
	assert.Contains(t, string(Badge("a<b", 1)), "a&lt;b")
}
