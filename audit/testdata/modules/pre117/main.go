// Command pre117 gets an OAuth2 token with an old golang.org/x/oauth2, from a go.mod older than Go 1.17
// that does not list its transitive modules (golang.org/x/net among them).
package main

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"
)

func main() {
	c := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: "https://example.com/token"}}
	_, err := c.PasswordCredentialsToken(context.Background(), "u", "p")
	fmt.Println(err)
}
