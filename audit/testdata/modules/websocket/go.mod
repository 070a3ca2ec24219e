module example.com/websocket

go 1.21

require github.com/gorilla/websocket v1.4.0
