// Package audit finds outdated, deprecated, retracted and vulnerable dependencies of Go modules and npm
// packages, in the style of `go list -m -u`, `npm outdated`, `npm audit` and Dependabot, and proposes
// the updates.
package audit
