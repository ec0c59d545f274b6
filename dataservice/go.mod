module github.com/privateim/privateim/dataservice

go 1.26.0

replace github.com/privateim/privateim/protos => ../protos

require github.com/go-sql-driver/mysql v1.10.1

require filippo.io/edwards25519 v1.2.0 // indirect
