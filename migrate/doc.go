// Package migrate runs SQL schema migrations on PostgreSQL, MySQL/MariaDB and SQLite with golang-migrate as
// the engine, keeping its schema_migrations table compatible, and adds what its users miss: a lock whose
// timeout holds, clear dirty states, and migration files read from a directory or an embed.FS.
//
// The package never prints; it reports through its results and errors.
package migrate
