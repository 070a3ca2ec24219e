// Package registry is shipyard's client of OCI registries and its embedded registry.
//
// The client (Client) pushes OCI layouts, tarballs and multi-platform indexes, tags, copies, prunes and
// deletes, on go-containerregistry: parallel uploads, existing blobs skipped, cross-repository mounts,
// retries with backoff on 429, 5xx and reset connections, Docker's credentials (config.json, credential
// helpers) and verified TLS. Serve runs the CNCF distribution registry's own engine on a directory.
package registry
