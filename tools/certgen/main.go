// Command certgen writes the development PKI of PrivateIM: a CA ("PrivateIM
// dev CA", refused by ENV=production) and, signed by it, one certificate per
// service (dataservice, messageservice, userservice, subscriptionservice)
// and one for the operator, each naming its identity in a URI SAN
// (spiffe://privateim/<name>), as PEM files in a directory (certs/ by
// default). It is idempotent: files already there are
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
	fmt.Fprintf(out, "  %-19s %s (key %s)\n", "CA", set.CA, filepath.Join(set.Dir, "ca-key.pem"))
	for _, id := range devpki.Identities {
		f := set.For(id)
		fmt.Fprintf(out, "  %-19s %s (key %s)\n", id, f.Cert, f.Key)
	}
	return nil
}
