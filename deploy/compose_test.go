package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is what the test reads of compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		ReadOnly    bool              `yaml:"read_only"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// readCompose reads dir's compose.yaml: decoded, and its text.
func readCompose(t *testing.T, dir string) (composeFile, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c, data
}

// deploy/compose: every PrivateIM service is built from its Dockerfile,
// sets only settings of its binary, mounts its own certificate, the CA and
// its key, and has a gRPC health check on its gRPC port; three message
// nodes with their own NODE_ID sit behind the proxy; every ${VAR} has a
// line in .env.example.
func TestCompose(t *testing.T) {
	root := repoRoot(t)
	bins := Binaries(t)
	dir := filepath.Join(root, "deploy", "compose")
	c, data := readCompose(t, dir)

	seen := make(map[string]int)
	nodeIDs := make(map[string]bool)
	for name, s := range c.Services {
		if s.Build == nil {
			continue
		}
		bin := strings.TrimSuffix(filepath.Base(s.Build.Dockerfile), ".Dockerfile")
		b, ok := bins[bin]
		if !ok {
			t.Errorf("%s: builds %s, which is no shipped binary's Dockerfile", name, s.Build.Dockerfile)
			continue
		}
		if filepath.Join(dir, s.Build.Context) != root || s.Build.Dockerfile != "deploy/docker/"+bin+".Dockerfile" {
			t.Errorf("%s: build %+v: want context ../.. (the workspace) and deploy/docker/%s.Dockerfile", name, *s.Build, bin)
		}
		seen[bin]++
		var env []string
		for k := range s.Environment {
			env = append(env, k)
		}
		slices.Sort(env)
		if bad := unknownEnv(b, env); len(bad) > 0 {
			t.Errorf("%s: environment %v: not settings of %s", name, bad, bin)
		}
		if bin == "messageservice" {
			id := s.Environment["NODE_ID"]
			if id == "" || nodeIDs[id] {
				t.Errorf("%s: NODE_ID %q: every node needs its own", name, id)
			}
			nodeIDs[id] = true
		}
		for file, src := range map[string]string{"ca.pem": "./certs/ca.pem", "cert.pem": "./certs/" + bin + ".pem", "key.pem": "./certs/" + bin + "-key.pem"} {
			if !slices.Contains(s.Volumes, src+":/etc/privateim/tls/"+file+":ro") {
				t.Errorf("%s: does not mount %s read-only as /etc/privateim/tls/%s (the image's TLS_* paths)", name, src, file)
			}
		}
		if !s.ReadOnly {
			t.Errorf("%s: read_only is not set", name)
		}
		grpcPort := b.Listens()["GRPC_ADDR"]
		if s.Healthcheck == nil || !slices.Contains(s.Healthcheck.Test, "-addr=localhost:"+grpcPort) || !slices.Contains(s.Healthcheck.Test, "-tls-client-cert=/etc/privateim/tls/cert.pem") {
			t.Errorf("%s: want a healthcheck by grpc-health-probe on localhost:%s with its certificate", name, grpcPort)
		}
	}
	for name := range bins {
		if seen[name] == 0 {
			t.Errorf("compose.yaml runs no %s", name)
		}
	}
	if seen["messageservice"] != 3 {
		t.Errorf("%d message nodes, want 3", seen["messageservice"])
	}

	// Chat file URLs the message nodes accept are the userservice's.
	pub := c.Services["userservice"].Environment["PUBLIC_URL"]
	for name, s := range c.Services {
		if files, ok := s.Environment["FILE_BASE_URL"]; ok && files != strings.TrimRight(pub, "/")+"/static/" {
			t.Errorf("%s: FILE_BASE_URL %q: want the userservice's PUBLIC_URL %q + /static/", name, files, pub)
		}
	}

	// The proxy sends WebSockets to every node.
	nginx, err := os.ReadFile(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for id := range nodeIDs {
		if !strings.Contains(string(nginx), "server "+id+":8081") {
			t.Errorf("nginx.conf: the upstream lacks %s:8081", id)
		}
	}
	for _, want := range []string{"proxy_set_header Upgrade $http_upgrade", "proxy_http_version 1.1"} {
		if !strings.Contains(string(nginx), want) {
			t.Errorf("nginx.conf: no %q: WebSocket upgrades would fail", want)
		}
	}

	example, err := os.ReadFile(filepath.Join(dir, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(string(data), -1) {
		if !regexp.MustCompile(`(?m)^` + m[1] + `=`).Match(example) {
			t.Errorf("compose.yaml uses ${%s}, which .env.example (and setup.sh) do not name", m[1])
		}
	}
}
