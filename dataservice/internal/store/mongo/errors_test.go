package mongo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/privateim/privateim/dataservice/internal/store"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
)

func dupMsg(index string) string {
	return "E11000 duplicate key error collection: t.coll index: " + index + " dup key: { x: 1 }"
}

func TestTranslate(t *testing.T) {
	other := errors.New("connection reset")
	cases := []struct {
		name      string
		err       error
		notFound  bool
		existsFld string // "" when not an ExistsError
		same      bool   // returned unchanged
	}{
		{"no documents", mdb.ErrNoDocuments, true, "", false},
		{"wrapped no documents", fmt.Errorf("find: %w", mdb.ErrNoDocuments), true, "", false},
		{"insert on _id", mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 11000, Message: dupMsg("_id_")}}}, false, "id", false},
		{"insert on sender_cmid", mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 11000, Message: dupMsg("sender_cmid")}}}, false, "client_msg_id", false},
		{"bulk on u_d_c", mdb.BulkWriteException{WriteErrors: []mdb.BulkWriteError{{WriteError: mdb.WriteError{Code: 11000, Message: dupMsg("u_d_c")}}}}, false, "cursor", false},
		{"findAndModify on conv_seq", mdb.CommandError{Code: 11000, Message: dupMsg("conv_seq")}, false, "seq", false},
		{"unknown index", mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 11000, Message: "E11000 duplicate key error"}}}, false, "key", false},
		{"other write error", mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 121, Message: "Document failed validation"}}}, false, "", true},
		{"other", other, false, "", true},
		{"canceled", context.Canceled, false, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := translate(c.err)
			if errors.Is(got, store.ErrNotFound) != c.notFound {
				t.Errorf("translate(%v) = %v; ErrNotFound: %v, want %v", c.err, got, errors.Is(got, store.ErrNotFound), c.notFound)
			}
			var ee *store.ExistsError
			switch {
			case c.existsFld != "" && (!errors.As(got, &ee) || ee.Field != c.existsFld || !errors.Is(got, store.ErrExists)):
				t.Errorf("translate(%v) = %#v; want ExistsError{%q}", c.err, got, c.existsFld)
			case c.existsFld == "" && errors.As(got, &ee):
				t.Errorf("translate(%v) = %#v; want no ExistsError", c.err, got)
			}
			if c.same && !reflect.DeepEqual(got, c.err) {
				t.Errorf("translate(%v) = %v; want it unchanged", c.err, got)
			}
		})
	}
	if translate(nil) != nil {
		t.Error("translate(nil) != nil")
	}
}

func TestDupKeyIndex(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 11000, Message: dupMsg("sender_cmid")}}}, "sender_cmid"},
		{fmt.Errorf("insert messages: %w", mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 11000, Message: dupMsg("conv_seq")}}}), "conv_seq"},
		{mdb.CommandError{Code: 11000, Message: "E11000 duplicate key error collection: db.c index: _id_"}, "_id_"},
		{mdb.WriteException{WriteErrors: mdb.WriteErrors{{Code: 11000, Message: "E11000 something else"}}}, ""},
		{errors.New("index: foo dup key"), ""},
	}
	for _, c := range cases {
		if got := dupKeyIndex(c.err); got != c.want {
			t.Errorf("dupKeyIndex(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestPreconditionReason(t *testing.T) {
	err := fmt.Errorf("update article 5: %w", &store.PreconditionError{Reason: "article is " + stateName(store.ArticlePublished)})
	var pe *store.PreconditionError
	if !errors.Is(err, store.ErrPrecondition) || !errors.As(err, &pe) || pe.Reason != "article is published" {
		t.Fatalf("got %v", err)
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "mongodb://127.0.0.1:1", ""); err == nil {
		t.Error("Open with no database name succeeded")
	}
	if _, err := Open(ctx, "not-a-uri", "db"); err == nil {
		t.Error("Open with a bad URI succeeded")
	}
	// Nothing listens on port 1: the ping fails once server selection gives up.
	if _, err := Open(ctx, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200", "db"); err == nil {
		t.Error("Open with no server succeeded")
	}
}

func TestRaced(t *testing.T) {
	transient := mdb.CommandError{Code: 11000, Message: dupMsg("_id_"), Labels: []string{"TransientTransactionError"}}
	cases := []struct {
		name    string
		err     error
		indexes []string
		want    bool
	}{
		{"key taken by another append", mdb.BulkWriteException{WriteErrors: []mdb.BulkWriteError{{WriteError: mdb.WriteError{Code: 11000, Message: dupMsg("sender_cmid")}}}}, []string{idxSenderCMID}, true},
		{"message id reused", mdb.BulkWriteException{WriteErrors: []mdb.BulkWriteError{{WriteError: mdb.WriteError{Code: 11000, Message: dupMsg("_id_")}}}}, []string{idxSenderCMID}, false},
		{"counter created by another append", transient, []string{idxID}, true},
		{"not a duplicate", errors.New("boom"), []string{idxID}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := raced(c.err, c.indexes...)
			if errors.Is(got, errRaced) != c.want {
				t.Fatalf("raced(%v) = %v; errRaced %v, want %v", c.err, got, errors.Is(got, errRaced), c.want)
			}
			// WithTransaction must still see the server's labels through the wrapping.
			var le mdb.LabeledError
			if c.name == "counter created by another append" && !(errors.As(got, &le) && le.HasErrorLabel("TransientTransactionError")) {
				t.Errorf("raced(%v) hid the TransientTransactionError label", c.err)
			}
		})
	}
}

func TestSupportsTransactions(t *testing.T) {
	for _, c := range []struct {
		h  helloReply
		ok bool
	}{
		{helloReply{SetName: "rs0"}, true},
		{helloReply{Msg: "isdbgrid"}, true},
		{helloReply{}, false},
	} {
		if err := c.h.supportsTransactions(); (err == nil) != c.ok {
			t.Errorf("%+v: err %v, want ok %v", c.h, err, c.ok)
		}
	}
}
