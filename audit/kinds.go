package audit

// Ecosystem is the package world a dependency belongs to.
type Ecosystem string

// The ecosystems shipyard audits.
const (
	Go  Ecosystem = "go"
	Npm Ecosystem = "npm"
)

// DependencyType is how a project depends on a package.
type DependencyType string

// The dependency types, as go.mod and package.json tell them.
const (
	Direct   DependencyType = "direct"
	Indirect DependencyType = "indirect"
	Dev      DependencyType = "dev"
)

// UpdateKind is the size of a version change, as Dependabot counts it.
type UpdateKind string

// The update kinds, smallest first.
const (
	UpdateNone  UpdateKind = "none"
	UpdatePatch UpdateKind = "patch"
	UpdateMinor UpdateKind = "minor"
	UpdateMajor UpdateKind = "major"
)

// ParseUpdateKind reads a fix level or an allowed update type: patch, minor or major.
func ParseUpdateKind(s string) (UpdateKind, bool) {
	switch k := UpdateKind(s); k {
	case UpdatePatch, UpdateMinor, UpdateMajor:
		return k, true
	}
	return "", false
}
