package config

// Config is the schema of shipyard.yaml. Each capability owns one section; a key's yaml tag is its name in
// the file, in its environment variable and in the flag binding.
type Config struct {
	Version Version `yaml:"version"`
}

// Version configures `shipyard version` and `shipyard changelog`.
type Version struct {
	// TagPrefix selects the tags of one component in a monorepo, for example "api/" for api/v1.2.0.
	TagPrefix string `yaml:"tag_prefix"`
	// Initial is the first version, used when no tag exists yet.
	Initial string `yaml:"initial"`
	// Paths limits the commits that count to those touching these paths.
	Paths []string `yaml:"paths"`
	// Remote is where `version tag --push` pushes.
	Remote string `yaml:"remote"`
}
