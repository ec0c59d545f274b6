// Package mysqltest gives each test a fresh MySQL database on the server
// named by MYSQL_DSN (default root on 127.0.0.1:3306), dropped when the test
// ends, so runs sharing one server never see each other's data.
package mysqltest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultDSN is used when MYSQL_DSN is unset.
const DefaultDSN = "root@tcp(127.0.0.1:3306)/"

// ServerDSN returns the DSN of the test server with no database selected.
func ServerDSN(tb testing.TB) *mysql.Config {
	tb.Helper()
	dsn := os.Getenv("MYSQL_DSN")
	if dsn == "" {
		dsn = DefaultDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("MYSQL_DSN: %v", err)
	}
	cfg.DBName = ""
	return cfg
}

// NewDatabase creates an empty database with a unique name and returns a DSN
// that selects it. The database is dropped in tb.Cleanup. A server that
// cannot be reached fails the test: `make test` provisions one.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	cfg := ServerDSN(tb)
	return CreateOn(tb, cfg)
}

// CreateOn is NewDatabase on a given server.
func CreateOn(tb testing.TB, cfg *mysql.Config) string {
	tb.Helper()
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatalf("open mysql: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("pimtest_%s_%s", time.Now().UTC().Format("0102150405"), hex.EncodeToString(b[:]))
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		tb.Fatalf("create test database (is MariaDB running? `make test` starts one): %v", err)
	}
	tb.Cleanup(func() {
		drop, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer drop.Close()
		_, _ = drop.Exec("DROP DATABASE IF EXISTS `" + name + "`")
	})
	dbCfg := cfg.Clone()
	dbCfg.DBName = name
	return dbCfg.FormatDSN()
}
