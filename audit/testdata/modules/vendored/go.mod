module example.com/vendored

go 1.20

require golang.org/x/crypto v0.0.0-20200622213623-75b288015ac9

require golang.org/x/sys v0.0.0-20190412213103-97732733099d // indirect
