// Package build builds Go binaries and OCI images without a Docker daemon, reproducibly: the same
// sources and SOURCE_DATE_EPOCH give the same digest.
//
// Go main packages are cross-compiled per platform (-trimpath, CGO off unless asked), each binary goes
// in a layer of its own on top of a base (a generated minimal one by default: CA certificates, a
// non-root user 65532, /tmp), with tar entries sorted and their owners, modes and times fixed.
package build
