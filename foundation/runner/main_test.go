package runner

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestExec(t *testing.T) {
	for name, tc := range map[string]struct {
		err      error
		wantCode int
		wantLog  string
	}{
		"clean shutdown": {nil, 0, ""},
		"help":           {fmt.Errorf("load: %w", flag.ErrHelp), 0, ""},
		"error":          {errors.New("listen :1: address in use"), 1, `"msg":"demo stopped","err":"listen :1: address in use"`},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			var gotArgs []string
			var gotEnv string
			run := func(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
				gotArgs, gotEnv = args, getenv("X")
				log.Debug("debug passes until the run filters it")
				return tc.err
			}
			code := Exec(context.Background(), "demo", run, []string{"-a", "1"}, func(k string) string { return k + "=v" }, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d", code, tc.wantCode)
			}
			if strings.Join(gotArgs, " ") != "-a 1" || gotEnv != "X=v" {
				t.Errorf("run got args %q and getenv(X) %q", gotArgs, gotEnv)
			}
			if !strings.Contains(stderr.String(), `"level":"DEBUG"`) {
				t.Errorf("the handler filters before the run does: %s", stderr.String())
			}
			if tc.wantLog != "" && !strings.Contains(stderr.String(), tc.wantLog) {
				t.Errorf("log %s lacks %s", stderr.String(), tc.wantLog)
			}
			if tc.wantLog == "" && strings.Contains(stderr.String(), "stopped") {
				t.Errorf("logged a failure: %s", stderr.String())
			}
		})
	}
}

func TestLevel(t *testing.T) {
	var b bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var level slog.LevelVar
	level.Set(slog.LevelWarn)
	log := Level(base, &level).With("service", "demo").WithGroup("g")
	log.Info("dropped")
	log.Warn("kept", "k", 1)
	level.Set(slog.LevelDebug)
	log.Debug("kept after the level changed")
	out := b.String()
	if strings.Contains(out, "dropped") {
		t.Errorf("an info record passed a warn filter: %s", out)
	}
	for _, want := range []string{`"msg":"kept","service":"demo","g":{"k":1}`, "kept after the level changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	// The filter only narrows: it never passes what the handler drops.
	quiet := Level(slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelError})), slog.LevelDebug)
	if quiet.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("a debug filter over an error handler enables warn")
	}
}

type fakeService struct{ err error }

func (s fakeService) Run(context.Context) error { return s.err }

type fakeConfig struct{ Addr string }

func TestStart(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&b, nil))
	stopErr := errors.New("serve failed")
	var got fakeConfig
	err := Start(context.Background(), log, fakeConfig{Addr: ":1"}, func(c fakeConfig, _ *slog.Logger) (fakeService, error) {
		got = c
		return fakeService{err: stopErr}, nil
	})
	if !errors.Is(err, stopErr) || got.Addr != ":1" {
		t.Errorf("Start = %v with config %+v, want the server's error and config", err, got)
	}
	if !strings.Contains(b.String(), `"msg":"starting","config":{"Addr":":1"}`) {
		t.Errorf("no starting line with the config: %s", b.String())
	}
	newErr := errors.New("bad wiring")
	err = Start(context.Background(), log, fakeConfig{}, func(fakeConfig, *slog.Logger) (fakeService, error) { return fakeService{}, newErr })
	if !errors.Is(err, newErr) {
		t.Errorf("Start = %v, want the constructor's error", err)
	}
}
