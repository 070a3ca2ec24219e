// Command vendored imports an old golang.org/x/crypto/ssh from its vendor directory, and calls only
// what is not vulnerable.
package main

import (
	"fmt"

	"golang.org/x/crypto/ssh"
)

func main() {
	fmt.Println(ssh.KeyAlgoED25519)
}
