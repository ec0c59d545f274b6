package deploy

import (
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// repoRoot is the directory of the go.work above this one
// (foundation/stacktest.Root's twin: deploy imports no PrivateIM module).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.work above %s", dir)
		}
	}
}

// Setting is one row of a binary's configuration table as its -h shows it.
type Setting struct {
	Flag, Env, Default string
}

// Binary is one PrivateIM program that ships as an image.
type Binary struct {
	Name     string             // dataservice, ...: the image's and the binary's name
	Package  string             // ./dataservice/cmd/dataservice
	Settings map[string]Setting // by environment variable
}

// Listens is the ports of the binary's listen addresses by default: the
// *_ADDR settings whose default has no host (":8080"); a loopback one
// (the embedded NATS, pprof) or a peer's address ("127.0.0.1:9090") is not.
func (b Binary) Listens() map[string]string {
	ports := make(map[string]string)
	for env, s := range b.Settings {
		if !strings.HasSuffix(env, "_ADDR") || s.Default == "" {
			continue
		}
		if host, port, err := net.SplitHostPort(s.Default); err == nil && host == "" {
			ports[env] = port
		}
	}
	return ports
}

var (
	binariesOnce sync.Once
	binaries     map[string]Binary
	binariesErr  error
)

// services are the binaries of README.md's architecture: each must ship
// (a Dockerfile, compose, Kubernetes). Another */cmd/<name> binary is
// checked once deploy/docker/<name>.Dockerfile exists, so that landing a
// new binary does not fail this module's tests before it ships.
var services = []string{"dataservice", "userservice", "messageservice", "subscriptionservice"}

// mainPackages is the */cmd/<name> main packages of the workspace (tools'
// developer tools ship no image) that are services or have a Dockerfile.
func mainPackages(t testing.TB) map[string]string {
	t.Helper()
	root := repoRoot(t)
	dirs, err := filepath.Glob(filepath.Join(root, "*", "cmd", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs := make(map[string]string)
	for _, f := range dirs {
		rel, _ := filepath.Rel(root, filepath.Dir(f))
		if strings.HasPrefix(rel, "tools"+string(filepath.Separator)) {
			continue
		}
		name := filepath.Base(rel)
		if _, err := os.Stat(filepath.Join(root, "deploy", "docker", name+".Dockerfile")); err != nil && !slices.Contains(services, name) {
			continue
		}
		pkgs[name] = "./" + filepath.ToSlash(rel)
	}
	return pkgs
}

// Binaries builds every shipped binary once per test process (one go
// build: the packages compile in parallel and come from the build cache
// the services' own tests fill) and reads each one's settings from -h.
func Binaries(t testing.TB) map[string]Binary {
	t.Helper()
	pkgs := mainPackages(t)
	root := repoRoot(t)
	binariesOnce.Do(func() { binaries, binariesErr = build(root, pkgs) })
	if binariesErr != nil {
		t.Fatal(binariesErr)
	}
	return binaries
}

var envRE = regexp.MustCompile(`\(env ([A-Z][A-Z0-9_]*)\)(?: \(default "((?:[^"\\]|\\.)*)"\))?`)
var flagRE = regexp.MustCompile(`^\s+-([a-z0-9-]+)`)

func build(root string, pkgs map[string]string) (map[string]Binary, error) {
	dir, err := os.MkdirTemp("", "deploy-bin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	names := make([]string, 0, len(pkgs))
	for name := range pkgs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		args = append(args, pkgs[name])
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out := make(map[string]Binary)
	for _, name := range names {
		// -h with an empty environment: the defaults, not this machine's.
		h := exec.Command(filepath.Join(dir, name), "-h")
		h.Env = []string{}
		text, _ := h.CombinedOutput() // -h exits 2 (flag.ErrHelp) or 0
		b := Binary{Name: name, Package: pkgs[name], Settings: make(map[string]Setting)}
		var flag string
		for line := range strings.SplitSeq(string(text), "\n") {
			if m := flagRE.FindStringSubmatch(line); m != nil {
				flag = m[1]
			}
			if m := envRE.FindStringSubmatch(line); m != nil {
				b.Settings[m[1]] = Setting{Flag: flag, Env: m[1], Default: strings.ReplaceAll(m[2], `\"`, `"`)}
			}
		}
		if len(b.Settings) == 0 {
			return nil, fmt.Errorf("%s -h names no setting \"(env NAME)\":\n%s", name, text)
		}
		out[name] = b
	}
	return out, nil
}

// unknownEnv is the names in env that are not settings of b.
func unknownEnv(b Binary, env []string) []string {
	var bad []string
	for _, e := range env {
		if _, ok := b.Settings[e]; !ok {
			bad = append(bad, e)
		}
	}
	return bad
}

func TestSettingsAreRead(t *testing.T) {
	bins := Binaries(t)
	for _, name := range services {
		b, ok := bins[name]
		if !ok {
			t.Errorf("no binary %s among %v", name, slices.Sorted(maps.Keys(bins)))
			continue
		}
		for _, env := range []string{"TLS_CA", "TLS_CERT", "TLS_KEY", "ENV", "SHUTDOWN_TIMEOUT", "GRPC_ADDR"} {
			if _, ok := b.Settings[env]; !ok {
				t.Errorf("%s: no setting %s in -h", name, env)
			}
		}
		if got := b.Settings["SHUTDOWN_TIMEOUT"].Default; got == "" {
			t.Errorf("%s: SHUTDOWN_TIMEOUT has no default in -h", name)
		}
	}
}
