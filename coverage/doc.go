// Package coverage measures Go statement coverage from cover profiles and enforces thresholds: per file,
// per package and in total, with exclusions, per-path overrides and generated files left out.
//
// Totals count what `go tool cover -func` counts, the statements inside function declarations, so that
// both agree on the same profile. The package reads profiles and sources and never prints.
package coverage
