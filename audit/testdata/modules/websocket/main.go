// Command websocket reads messages with an old github.com/gorilla/websocket.
package main

import (
	"fmt"
	"net/http"

	"github.com/gorilla/websocket"
)

func main() {
	upgrader := websocket.Upgrader{}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		_, msg, err := c.ReadMessage()
		fmt.Println(string(msg), err)
	})
}
