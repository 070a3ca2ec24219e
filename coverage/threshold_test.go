package coverage

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	r := &Report{
		Total: Counts{Statements: 200, Covered: 160}, // 80%
		Packages: []PackageCoverage{
			{Name: "m/api", Dir: "api", Counts: Counts{Statements: 100, Covered: 95}},
			{Name: "m/internal/legacy", Dir: "internal/legacy", Counts: Counts{Statements: 100, Covered: 65}},
		},
		Files: []FileCoverage{
			{Name: "m/api/a.go", Path: "api/a.go", Counts: Counts{Statements: 100, Covered: 95}},
			{Name: "m/internal/legacy/old.go", Path: "internal/legacy/old.go", Counts: Counts{Statements: 90, Covered: 60}},
			{Name: "m/internal/legacy/gen.go", Path: "internal/legacy/gen.go", Counts: Counts{Statements: 10, Covered: 5}},
		},
	}
	messages := func(fs []Failure) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Message)
		}
		return out
	}
	tests := []struct {
		name string
		t    Thresholds
		want []string
	}{
		{"none", Thresholds{}, []string{}},
		{"total met exactly", Thresholds{Total: 80}, []string{}},
		{"total missed", Thresholds{Total: 80.5}, []string{"total 80.0% < 80.5%"}},
		{"total missed by a hair", Thresholds{Total: 80.01}, []string{"total 80.00% < 80.01%"}},
		{"package", Thresholds{Package: 70}, []string{"package m/internal/legacy 65.0% < 70%"}},
		{"file", Thresholds{File: 60}, []string{"file internal/legacy/gen.go 50.0% < 60%"}},
		{"override lowers", Thresholds{Package: 70, File: 60, Overrides: []Override{{"internal/legacy/**", 40}, {"internal/legacy", 40}}}, []string{}},
		{"last override wins", Thresholds{File: 10, Overrides: []Override{{"internal/**", 10}, {"internal/legacy/gen.go", 90}}}, []string{"file internal/legacy/gen.go 50.0% < 90%"}},
		{"negative: at most N uncovered", Thresholds{Total: -40}, []string{}},
		{"negative missed", Thresholds{Total: -39, File: -5}, []string{
			"total: 40 statements uncovered, at most 39 allowed",
			"file internal/legacy/old.go: 30 statements uncovered, at most 5 allowed",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, messages(r.Check(tt.t)))
		})
	}
	f := r.Check(Thresholds{Total: 90})[0]
	assert.Equal(t, Failure{Scope: "total", Name: "total", Min: 90, Percent: 80, Uncovered: 40, Message: "total 80.0% < 90%"}, f)
}
