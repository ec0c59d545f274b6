package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// cli is what the commands share: the configuration, the gRPC connections
// (dialled on first use) and the output.
type cli struct {
	cfg    Config
	out    io.Writer
	errOut io.Writer
	conns  []*grpc.ClientConn
}

func (c *cli) close() {
	for _, cc := range c.conns {
		cc.Close()
	}
}

// dial connects to service at addr with the admin certificate; grpcdial
// checks that the server's certificate names service.
func (c *cli) dial(service, addr string) (*grpc.ClientConn, error) {
	cc, err := grpcdial.Dial(service, addr, c.cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("dial %s at %s: %w", service, addr, err)
	}
	c.conns = append(c.conns, cc)
	return cc, nil
}

func (c *cli) userConn() (*grpc.ClientConn, error) {
	return c.dial(tlsconfig.UserService, c.cfg.UserGRPC)
}
func (c *cli) msgConn() (*grpc.ClientConn, error) {
	return c.dial(tlsconfig.MessageService, c.cfg.MsgGRPC)
}

// call bounds one call by the configured timeout.
func (c *cli) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// printProto prints a gRPC answer as one JSON line (field names as in the
// .proto files).
func (c *cli) printProto(m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	var compact map[string]any
	if err := json.Unmarshal(b, &compact); err != nil {
		return err
	}
	return c.printJSON(compact)
}

func (c *cli) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.out, "%s\n", b)
	return err
}

// flags makes a command's flag set; parse parses args and refuses
// leftovers.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("imctl "+name, flag.ContinueOnError)
	fs.SetOutput(c.errOut)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

// required reports the first of the named flags left empty.
func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f != nil && (f.Value.String() == "" || f.Value.String() == "0") {
			fmt.Fprintf(fs.Output(), "%s: -%s is required\n", fs.Name(), n)
			return errUsage
		}
	}
	return nil
}
