// Command replaced uses golang.org/x/text at a vulnerable version that a replace directive moves to a
// fixed one, and an old gopkg.in/yaml.v2 whose Unmarshal it calls.
package main

import (
	"fmt"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v2"
)

func main() {
	tag, err := language.Parse("en-US")
	var v map[string]any
	fmt.Println(tag, err, yaml.Unmarshal([]byte("a: 1"), &v))
}
