// Command certgen writes the development PKI of PrivateIM: a CA and one
// server and one client certificate signed by it, as PEM files in a
// directory (certs/ by default). It is idempotent: files already there are
// kept, so certificates issued earlier stay valid; delete the directory's
// .pem files to start over.
//
// Dev only: the keys are plain files and the CA key sits next to them.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "certgen:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("certgen", flag.ContinueOnError)
	dir := fs.String("dir", "certs", "directory to write the PEM files to")
	hosts := fs.String("hosts", strings.Join(devpki.DefaultHosts, ","), "comma-separated DNS names and IPs the certificates are valid for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var hs []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return fmt.Errorf("-hosts names no host")
	}
	set, err := devpki.Write(*dir, hs...)
	if err != nil {
		return fmt.Errorf("write dev pki to %s: %w", *dir, err)
	}
	fmt.Fprintf(out, "certgen: dev PKI in %s (hosts %s)\n", set.Dir, strings.Join(hs, ","))
	for _, f := range []struct{ what, path string }{
		{"CA", set.Server.CA},
		{"CA key", filepath.Join(set.Dir, "ca-key.pem")},
		{"server cert", set.Server.Cert},
		{"server key", set.Server.Key},
		{"client cert", set.Client.Cert},
		{"client key", set.Client.Key},
	} {
		fmt.Fprintf(out, "  %-11s %s\n", f.what, f.path)
	}
	return nil
}
