package runner

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestShutdownRunsEveryStepInOrder(t *testing.T) {
	t.Parallel()
	var ran []string
	boom := errors.New("boom")
	var c Closers
	c.Add("first opened", func(context.Context) error { ran = append(ran, "first opened"); return nil })
	c.Add("last opened", func(context.Context) error { ran = append(ran, "last opened"); return boom })
	steps := append([]Step{
		Do("readiness off", func() { ran = append(ran, "readiness off") }),
		{Name: "deadline", Stop: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("no deadline")
			}
			ran = append(ran, "deadline")
			return nil
		}},
	}, c.Steps()...)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // why a program shuts down; the steps still get their time
	err := Shutdown(ctx, slog.New(slog.DiscardHandler), time.Minute, steps...)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom joined", err)
	}
	if want := []string{"readiness off", "deadline", "last opened", "first opened"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
}

func TestServeUntilCanceledOrFailed(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	boom := errors.New("boom")
	failing := make(chan error)
	serving := Serve(HTTPServer("http", srv, lis), Server{Name: "other", Serve: func() error { return <-failing }})

	failing <- boom
	if err := serving.Wait(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Wait = %v, want the failure", err)
	}
	log := slog.New(slog.DiscardHandler)
	if err := Shutdown(context.Background(), log, time.Minute, StopHTTP(log, "http", srv), Step{Name: "servers", Stop: serving.Stopped}); err != nil {
		t.Errorf("Shutdown = %v; a closed HTTP server is a clean end", err)
	}
}
