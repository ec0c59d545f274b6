// Command certgen writes the development PKI of PrivateIM: a CA ("PrivateIM
// dev CA", refused by ENV=production) and, signed by it, one certificate per
// service (dataservice, messageservice, userservice, subscriptionservice)
// and one for the operator, each naming its identity in a URI SAN
// (spiffe://privateim/<name>), as PEM files in a directory (certs/ by
// default); -extra adds servers that are not services (deploy/compose's
// NATS servers). It is idempotent: files already there are
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
	"slices"
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
	extra := fs.String("extra", "", "comma-separated identities of servers that are not services (e.g. nats), each given a certificate of its own")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hs := splitList(*hosts)
	if len(hs) == 0 {
		return fmt.Errorf("-hosts names no host")
	}
	set, err := devpki.Write(*dir, hs...)
	if err != nil {
		return fmt.Errorf("write dev pki to %s: %w", *dir, err)
	}
	ids := devpki.Identities
	for _, id := range splitList(*extra) {
		if slices.Contains(ids, id) {
			return fmt.Errorf("-extra %s: a service's or the operator's identity, made anyway", id)
		}
		// deploy/compose's NATS servers: a certificate of their own, so
		// no NATS server holds a key that a service's peers would trust.
		if _, err := set.Issue(id, hs...); err != nil {
			return fmt.Errorf("issue %s: %w", id, err)
		}
		ids = append(ids[:len(ids):len(ids)], id)
	}
	fmt.Fprintf(out, "certgen: dev PKI in %s (hosts %s)\n", set.Dir, strings.Join(hs, ","))
	fmt.Fprintf(out, "  %-19s %s (key %s)\n", "CA", set.CA, filepath.Join(set.Dir, "ca-key.pem"))
	for _, id := range ids {
		f := set.For(id)
		fmt.Fprintf(out, "  %-19s %s (key %s)\n", id, f.Cert, f.Key)
	}
	return nil
}

// splitList is the trimmed, non-empty items of a comma-separated list.
func splitList(s string) []string {
	var items []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
