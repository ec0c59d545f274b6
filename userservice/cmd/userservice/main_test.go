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
	env := func(string) string { return "" }
	if err := run(context.Background(), log, []string{"-h"}, env); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	if err := run(context.Background(), log, nil, env); err == nil || !strings.Contains(err.Error(), "jwt-secret") {
		t.Errorf("without JWT_SECRET: %v", err)
	}
}
