// Package config loads shipyard.yaml strictly, applies SHIPYARD_* environment overrides, and hands the result
// to the command flags the user did not set. Precedence: flag, then environment, then file, then default.
//
// Every scalar key has an environment variable named after its path: version.tag_prefix is
// SHIPYARD_VERSION_TAG_PREFIX. Unknown keys and mistyped values are errors that name the file and line.
package config
