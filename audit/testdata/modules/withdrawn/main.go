// Command withdrawn opens a database with github.com/lib/pq at a version that withdrawn advisories of the
// Go vulnerability database name.
package main

import (
	"database/sql"
	"fmt"

	_ "github.com/lib/pq"
)

func main() {
	db, err := sql.Open("postgres", "")
	fmt.Println(db != nil, err)
}
