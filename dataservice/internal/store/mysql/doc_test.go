package mysql_test

import (
	"testing"

	"github.com/privateim/privateim/dataservice/internal/store"
	"github.com/privateim/privateim/dataservice/internal/store/mysql"
	"github.com/privateim/privateim/dataservice/internal/store/mysql/mysqltest"
	"github.com/privateim/privateim/dataservice/internal/store/storetest"
)

// newDocuments opens a fresh, migrated database for one test.
func newDocuments(t testing.TB) *mysql.Documents {
	t.Helper()
	db, err := mysql.Open(t.Context(), mysqltest.NewDatabase(t), mysql.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return mysql.NewDocuments(db)
}

func TestDocMySQL(t *testing.T) {
	storetest.RunDocuments(t, func(t *testing.T) store.Documents { return newDocuments(t) })
}
