package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd, Args string
	Line      int
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start})
		cur.Reset()
	}
	return out
}

// Secrets have names like these; an image carries none of them (they come
// from the orchestrator at run time).
var secretName = regexp.MustCompile(`PASSWORD|SECRET|DSN|_URI$|SEED|TOKEN|CREDENTIAL`)

// envAssignments reads ENV a=b c=d (or the old ENV a b).
func envAssignments(args string) []string {
	var names []string
	if !strings.Contains(strings.Fields(args)[0], "=") {
		return []string{strings.Fields(args)[0]}
	}
	for _, f := range strings.Fields(args) {
		if name, _, ok := strings.Cut(f, "="); ok {
			names = append(names, name)
		}
	}
	return names
}

// Every shipped binary has its Dockerfile, and each is a multi-stage build
// of the right package into a static binary on distroless or scratch, run
// as a non-root user, exposing the ports of its default listen addresses,
// with no secret in it and only settings of the binary in its ENV.
func TestDockerfiles(t *testing.T) {
	root := repoRoot(t)
	bins := Binaries(t)
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "docker", "*.Dockerfile"))
	var named []string
	for _, f := range files {
		named = append(named, strings.TrimSuffix(filepath.Base(f), ".Dockerfile"))
	}
	for name := range bins {
		if !slices.Contains(named, name) {
			t.Errorf("%s (%s) ships no image: add deploy/docker/%s.Dockerfile (docs/operations.md, \"Ship it\")", name, bins[name].Package, name)
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".Dockerfile")
		t.Run(name, func(t *testing.T) {
			b, ok := bins[name]
			if !ok {
				t.Fatalf("%s: no */cmd/%s package builds a binary of that name", f, name)
			}
			checkDockerfile(t, b, parseDockerfile(t, f))
		})
	}
}

func checkDockerfile(t *testing.T, b Binary, ins []instruction) {
	var froms []int
	for i, in := range ins {
		if in.Cmd == "FROM" {
			froms = append(froms, i)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("%d FROM: want a multi-stage build (a Go stage, then the runtime stage)", len(froms))
	}
	final := ins[froms[len(froms)-1]:]
	base := strings.Fields(final[0].Args)[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s: want gcr.io/distroless/static... or scratch (a static binary needs nothing else)", base)
	}

	// The build: CGO_ENABLED=0 and go build of exactly this package.
	var built, cgoOff bool
	for _, in := range ins[:froms[len(froms)-1]] {
		if in.Cmd == "ENV" && strings.Contains(in.Args, "CGO_ENABLED=0") {
			cgoOff = true
		}
		if in.Cmd != "RUN" {
			continue
		}
		if strings.Contains(in.Args, "CGO_ENABLED=0") {
			cgoOff = true
		}
		for _, m := range regexp.MustCompile(`go build [^&;]*`).FindAllString(in.Args, -1) {
			fields := strings.Fields(m)
			if pkg := fields[len(fields)-1]; pkg == b.Package {
				built = true
			} else {
				t.Errorf("line %d: go build %s, want the package %s", in.Line, pkg, b.Package)
			}
		}
	}
	if !built {
		t.Errorf("no RUN go build ... %s in the build stage", b.Package)
	}
	if !cgoOff {
		t.Error("CGO_ENABLED=0 is not set: the binary would not be static")
	}

	var user string
	var exposed []string
	for _, in := range final {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "EXPOSE":
			for _, p := range strings.Fields(in.Args) {
				exposed = append(exposed, strings.TrimSuffix(p, "/tcp"))
			}
		case "ENV":
			names := envAssignments(in.Args)
			if bad := unknownEnv(b, names); len(bad) > 0 {
				t.Errorf("line %d: ENV %v: not settings of %s", in.Line, bad, b.Name)
			}
			for _, n := range names {
				if secretName.MatchString(n) {
					t.Errorf("line %d: ENV %s bakes a secret into the image", in.Line, n)
				}
			}
		case "HEALTHCHECK":
			t.Errorf("line %d: HEALTHCHECK: distroless has no shell; probes belong to compose and Kubernetes", in.Line)
		case "ENTRYPOINT", "CMD":
			if in.Cmd == "ENTRYPOINT" && !strings.Contains(in.Args, `"/usr/local/bin/`+b.Name+`"`) {
				t.Errorf("line %d: ENTRYPOINT %s: want [\"/usr/local/bin/%s\"]", in.Line, in.Args, b.Name)
			}
		}
	}
	for _, in := range ins {
		if in.Cmd == "ARG" && secretName.MatchString(in.Args) {
			t.Errorf("line %d: ARG %s: a build argument stays in the image's history", in.Line, in.Args)
		}
		if in.Cmd == "COPY" || in.Cmd == "ADD" {
			if regexp.MustCompile(`\.pem\b|\.env\b|\bcerts/|\.key\b`).MatchString(in.Args) {
				t.Errorf("line %d: %s %s copies keys or secrets into the image", in.Line, in.Cmd, in.Args)
			}
		}
	}
	uid := strings.Split(user, ":")[0]
	if user == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q in the final stage: want a non-root user (65532, distroless's nonroot)", user)
	}
	var want []string
	for _, p := range b.Listens() {
		want = append(want, p)
	}
	slices.Sort(want)
	slices.Sort(exposed)
	if !slices.Equal(exposed, want) {
		t.Errorf("EXPOSE %v: the binary listens on %v by default (%v)", exposed, want, b.Listens())
	}
}
