// Command imctl is the admins' command line (docs/operations.md, "Admin
// API and imctl"): the admin actions over the internal gRPC APIs with an
// admin certificate (suspend, unsuspend, dismiss, audit on the
// userservice; sessions, logout, delete, notice on a message node), and
// demo commands that act as a user over the public APIs (signup, signin,
// friend, accept, send, tail).
//
// Usage: imctl [global flags] <command> [command flags]. Every answer is
// printed as one JSON object per line on stdout; errors go to stderr with
// exit status 1 (2 for bad usage).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config is imctl's one configuration: global flags, each with an
// IMCTL_* environment variable as its default.
type Config struct {
	TLS      tlsconfig.Files // the admin certificate (admin commands)
	UserGRPC string          // the userservice's internal gRPC address
	MsgGRPC  string          // a message node's internal gRPC address
	API      string          // the userservice's public HTTP base URL
	WS       string          // a message node's WebSocket URL
	Token    string          // a user's bearer token (demo commands)
	Timeout  time.Duration   // of each call; tail runs until -n or -for
}

// errUsage is bad usage: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		if st, ok := status.FromError(err); ok {
			fmt.Fprintf(os.Stderr, "imctl: %s: %s\n", st.Code(), st.Message())
		} else {
			fmt.Fprintln(os.Stderr, "imctl:", err)
		}
		os.Exit(1)
	}
}

// command is one subcommand: its flags are parsed from args, then do runs.
type command struct {
	summary string
	do      func(ctx context.Context, c *cli, args []string) error
}

var commands = map[string]command{
	"suspend":   {"-user ID [-reason R]: suspend a user (tokens revoked, sockets closed everywhere)", cmdSuspend},
	"unsuspend": {"-user ID [-reason R]: let a suspended user sign in again", cmdUnsuspend},
	"dismiss":   {"-group ID [-reason R]: dismiss a group", cmdDismiss},
	"audit":     {"[-limit N] [-target T] [-action A] [-page TOKEN]: list the audit log, newest first", cmdAudit},
	"sessions":  {"-user ID: list a user's connections on every node", cmdSessions},
	"logout":    {"-user ID [-device D] [-reason R]: close one device's connections on every node", cmdLogout},
	"delete":    {"-conv C -seq N [-reason R]: delete a message for everyone", cmdDelete},
	"notice":    {"-id CLIENT_MSG_ID -text T: store a notice for every online user", cmdNotice},
	"signup":    {"-name N -email E -password P: sign up (prints token and user)", cmdSignup},
	"signin":    {"-email E -password P: sign in (prints token and user)", cmdSignin},
	"friend":    {"-user ID [-note N]: ask a user to be friends (with -token)", cmdFriend},
	"accept":    {"-user ID: accept a user's friend request (with -token)", cmdAccept},
	"send":      {"(-to-user ID | -to-group ID) -text T [-id CLIENT_MSG_ID] [-device D]: send a text (with -token)", cmdSend},
	"tail":      {"[-conv C] [-device D] [-n N] [-for DURATION]: print messages as they arrive, acking them (with -token)", cmdTail},
}

// run parses the global flags and runs the command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := load(args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		usage(stderr)
		return errUsage
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		fmt.Fprintf(stderr, "imctl: unknown command %q\n", rest[0])
		usage(stderr)
		return errUsage
	}
	c := &cli{cfg: cfg, out: stdout, errOut: stderr}
	defer c.close()
	return cmd.do(ctx, c, rest[1:])
}

// load fills Config from the global flags, whose defaults come from the
// environment.
func load(args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var cfg Config
	fs := flag.NewFlagSet("imctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.TLS.CA, "ca", env("IMCTL_CA", "certs/ca.pem"), "CA certificate (IMCTL_CA)")
	fs.StringVar(&cfg.TLS.Cert, "cert", env("IMCTL_CERT", "certs/admin.pem"), "admin certificate (IMCTL_CERT)")
	fs.StringVar(&cfg.TLS.Key, "key", env("IMCTL_KEY", "certs/admin-key.pem"), "admin key (IMCTL_KEY)")
	fs.StringVar(&cfg.UserGRPC, "user-grpc", env("IMCTL_USER_GRPC", "127.0.0.1:9092"), "userservice internal gRPC address (IMCTL_USER_GRPC)")
	fs.StringVar(&cfg.MsgGRPC, "msg-grpc", env("IMCTL_MSG_GRPC", "127.0.0.1:9091"), "a message node's internal gRPC address (IMCTL_MSG_GRPC)")
	fs.StringVar(&cfg.API, "api", env("IMCTL_API", "http://127.0.0.1:8080"), "userservice public HTTP base URL (IMCTL_API)")
	fs.StringVar(&cfg.WS, "ws", env("IMCTL_WS", "ws://127.0.0.1:8081/ws"), "a message node's WebSocket URL (IMCTL_WS)")
	fs.StringVar(&cfg.Token, "token", env("IMCTL_TOKEN", ""), "a user's bearer token for the demo commands (IMCTL_TOKEN)")
	fs.DurationVar(&cfg.Timeout, "timeout", 15*time.Second, "timeout of each call")
	fs.Usage = func() { usage(stderr); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return cfg, nil, errUsage
	}
	cfg.API = strings.TrimRight(cfg.API, "/")
	return cfg, fs.Args(), nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: imctl [global flags] <command> [command flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
}
