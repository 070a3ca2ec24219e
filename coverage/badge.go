package coverage

import (
	"fmt"
	"html"
)

// badgeColors are the shields.io colours by coverage, highest band first.
var badgeColors = []struct {
	min   float64
	color string
}{{90, "#4c1"}, {80, "#97ca00"}, {70, "#a4a61d"}, {60, "#dfb317"}, {50, "#fe7d37"}, {0, "#e05d44"}}

// Badge is a flat SVG badge "label | 87.5%" in the shields.io style, coloured by the coverage.
func Badge(label string, percent float64) []byte {
	value := fmt.Sprintf("%.1f%%", percent)
	color := badgeColors[len(badgeColors)-1].color
	for _, c := range badgeColors {
		if percent >= c.min {
			color = c.color
			break
		}
	}
	// Verdana 11px averages about 7 pixels a character; 10 pixels of padding a side.
	lw, vw := 7*len(label)+10, 7*len(value)+10
	label = html.EscapeString(label)
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="%[1]d" height="20" role="img" aria-label="%[4]s: %[5]s">
<title>%[4]s: %[5]s</title>
<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="%[1]d" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="%[2]d" height="20" fill="#555"/><rect x="%[2]d" width="%[3]d" height="20" fill="%[6]s"/><rect width="%[1]d" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="%[7]d" y="15" fill="#010101" fill-opacity=".3">%[4]s</text><text x="%[7]d" y="14">%[4]s</text>
<text x="%[8]d" y="15" fill="#010101" fill-opacity=".3">%[5]s</text><text x="%[8]d" y="14">%[5]s</text>
</g>
</svg>
`, lw+vw, lw, vw, label, value, color, lw/2, lw+vw/2)
}
