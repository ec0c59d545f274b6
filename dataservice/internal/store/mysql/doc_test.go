package mysql_test

import (
	"errors"
	"testing"
	"time"

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

// TestAppendFailureLeavesNoOpenTransaction: an append whose INSERT fails
// (a reused message id) has already bumped its counters in the same
// transaction; the connection must go back to the pool rolled back. Were
// it handed on mid-transaction, the next append's START TRANSACTION would
// commit the bump implicitly and leave a gap in the seqs. One connection in
// the pool makes the next append use the same one.
func TestAppendFailureLeavesNoOpenTransaction(t *testing.T) {
	ctx := t.Context()
	db, err := mysql.Open(ctx, mysqltest.NewDatabase(t), mysql.Options{MaxOpenConns: 1, MaxIdleConns: 1})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	d := mysql.NewDocuments(db)
	at := time.Now()
	msg := func(id int64, conv, client string) store.Message {
		return store.Message{ID: id, Conversation: conv, SenderID: 7, ClientMsgID: client, Kind: "text", Content: []byte(`{}`), CreatedAt: at}
	}
	if _, err := d.AppendMessages(ctx, []store.Message{msg(1, "p:x", "a")}); err != nil {
		t.Fatal(err)
	}
	_, err = d.AppendMessages(ctx, []store.Message{msg(2, "p:y", "b"), msg(1, "p:y", "c")})
	if ee := (*store.ExistsError)(nil); !errors.As(err, &ee) {
		t.Fatalf("append with a reused id: err = %v, want an ExistsError", err)
	}
	res, err := d.AppendMessages(ctx, []store.Message{msg(3, "p:y", "d")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res[0].Message.Seq; got != 1 {
		t.Errorf("seq after the failed append = %d, want 1 (the failed append's counter bump must be rolled back)", got)
	}
	heads, err := d.ConversationHeads(ctx, []string{"p:x", "p:y"})
	if err != nil {
		t.Fatal(err)
	}
	if heads[0] != 1 || heads[1] != 1 {
		t.Errorf("heads = %v, want [1 1]", heads)
	}
}
