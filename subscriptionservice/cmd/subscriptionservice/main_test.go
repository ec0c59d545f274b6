package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"strings"
	"testing"
)

func TestRunHelpAndBadConfig(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if err := run(context.Background(), log, []string{"-h"}, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	env := map[string]string{"PUSH_TIMEOUT": "0s"}
	if err := run(context.Background(), log, nil, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "PUSH_TIMEOUT") {
		t.Errorf("with PUSH_TIMEOUT=0s: %v, want an error naming it", err)
	}
}
