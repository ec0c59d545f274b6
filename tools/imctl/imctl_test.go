package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

const wait = 30 * time.Second

// env is a stack (DataService, NATS, userservice, two message nodes) and
// the imctl binary built from this package.
type env struct {
	bin          string
	data         *stacktest.DataService
	users        *stacktest.UserService
	node1, node2 *stacktest.MessageService
}

func startEnv(t *testing.T) *env {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "imctl")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build imctl: %v\n%s", err, out)
	}
	e := &env{bin: bin, data: stacktest.StartDataService(t)}
	ns := stacktest.StartNATS(t, e.data.Certs)
	e.users = stacktest.StartUserService(t, e.data, stacktest.UserServiceOptions{NATS: ns})
	e.node1 = stacktest.StartMessageService(t, e.data, e.users, ns, "NODE_ID=n1")
	e.node2 = stacktest.StartMessageService(t, e.data, e.users, ns, "NODE_ID=n2")
	return e
}

// args are the global flags reaching the stack with files as the
// certificate, node's gRPC and WebSocket, and token.
func (e *env) args(files tlsconfig.Files, node *stacktest.MessageService, token string) []string {
	return []string{"-ca", files.CA, "-cert", files.Cert, "-key", files.Key,
		"-user-grpc", e.users.GRPCAddr, "-msg-grpc", node.GRPCAddr, "-api", e.users.URL, "-ws", node.URL(), "-token", token}
}

// result is what one run of imctl printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// lines decodes each stdout line.
func (r result) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func (e *env) run(t *testing.T, global []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append(global, args...)...)
	cmd.Env = os.Environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run imctl %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// ok runs imctl and fails the test unless it exits 0.
func (e *env) ok(t *testing.T, global []string, args ...string) result {
	t.Helper()
	r := e.run(t, global, args...)
	if r.code != 0 {
		t.Fatalf("imctl %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// start runs imctl in the background; wait returns its result.
func (e *env) start(t *testing.T, global []string, args ...string) func() result {
	t.Helper()
	cmd := exec.Command(e.bin, append(global, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return func() result {
		select {
		case err := <-done:
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			return result{stdout.String(), stderr.String(), code}
		case <-time.After(wait):
			_ = cmd.Process.Kill()
			t.Fatalf("imctl %v did not end\n%s%s", args, stdout.String(), stderr.String())
			return result{}
		}
	}
}

type account struct{ id, token, email, password string }

func (e *env) signup(t *testing.T, name string) account {
	t.Helper()
	a := account{email: "u" + strings.ToLower(rand.Text()[:10]) + "@example.com", password: "password-" + rand.Text()[:8]}
	r := e.ok(t, e.args(e.data.Certs.Admin, e.node1, ""), "signup", "-name", name, "-email", a.email, "-password", a.password)
	out := r.lines(t)[0]
	a.token, _ = out["token"].(string)
	a.id, _ = out["user"].(map[string]any)["id"].(string)
	if a.token == "" || a.id == "" {
		t.Fatalf("signup printed %s", r.stdout)
	}
	return a
}

// TestImctlAgainstTheStack runs the built imctl against a real stack of
// two message nodes: the demo commands, then each admin action, bad input
// and a refused certificate.
func TestImctlAgainstTheStack(t *testing.T) {
	e := startEnv(t)
	adm := e.data.Certs.Admin
	ann, bob := e.signup(t, "ann"), e.signup(t, "bob")
	asAnn, asBob := e.args(adm, e.node1, ann.token), e.args(adm, e.node2, bob.token)

	// Demo: sign in, add a friend, tail a conversation, send.
	if out := e.ok(t, asAnn, "signin", "-email", ann.email, "-password", ann.password).lines(t)[0]; out["token"] == "" {
		t.Fatalf("signin printed %v", out)
	}
	e.ok(t, asAnn, "friend", "-user", bob.id, "-note", "hi")
	e.ok(t, asBob, "accept", "-user", ann.id)
	tail := e.start(t, asAnn, "tail", "-device", "laptop", "-n", "2", "-for", "60s")
	sent := e.ok(t, asBob, "send", "-to-user", ann.id, "-text", "hello from imctl").lines(t)[0]
	conv, _ := sent["conversation"].(string)
	seq, _ := sent["seq"].(float64)
	if sent["type"] != "sent" || conv == "" || seq < 1 {
		t.Fatalf("send printed %v", sent)
	}

	// Admin: the tail's connection (node 1) is listed by node 2.
	poll.Eventually(t, wait, func() error {
		r := e.run(t, e.args(adm, e.node2, ""), "sessions", "-user", ann.id)
		if r.code != 0 || !strings.Contains(r.stdout, `"device_id":"laptop"`) || !strings.Contains(r.stdout, `"node_id":"n1"`) {
			return fmt.Errorf("sessions: %d %s%s", r.code, r.stdout, r.stderr)
		}
		return nil
	})
	del := e.ok(t, e.args(adm, e.node2, ""), "delete", "-conv", conv, "-seq", fmt.Sprint(int64(seq)), "-reason", "spam").lines(t)[0]
	if ev, _ := del["event"].(map[string]any); ev["conversation"] != conv {
		t.Fatalf("delete printed %v", del)
	}
	got := tail()
	if got.code != 0 {
		t.Fatalf("tail: exit %d %s", got.code, got.stderr)
	}
	msgs := got.lines(t)
	if len(msgs) != 2 || !strings.Contains(fmt.Sprint(msgs[0]["content"]), "hello from imctl") ||
		msgs[1]["content"].(map[string]any)["kind"] != "recall" {
		t.Fatalf("tail printed %s", got.stdout)
	}

	// A notice to the online users: ann's second tail is the one online.
	tail2 := e.start(t, asAnn, "tail", "-device", "phone", "-conv", "sys:"+ann.id, "-for", "60s")
	poll.Eventually(t, wait, func() error {
		r := e.run(t, e.args(adm, e.node1, ""), "sessions", "-user", ann.id)
		if !strings.Contains(r.stdout, `"device_id":"phone"`) {
			return fmt.Errorf("sessions: %s%s", r.stdout, r.stderr)
		}
		return nil
	})
	if out := e.ok(t, e.args(adm, e.node2, ""), "notice", "-id", "maint-1", "-text", "maintenance tonight").lines(t)[0]; out["users"].(float64) < 1 {
		t.Fatalf("notice printed %v", out)
	}
	// Logging the phone out ends its tail with 4005.
	poll.Eventually(t, wait, func() error {
		if r := e.run(t, e.args(adm, e.node2, ""), "logout", "-user", ann.id, "-device", "phone"); r.code != 0 {
			return fmt.Errorf("logout: %s", r.stderr)
		}
		return nil
	})
	got = tail2()
	if got.code != 1 || !strings.Contains(got.stderr, "4005 logged_out") || !strings.Contains(got.stdout, "maintenance tonight") {
		t.Fatalf("phone tail: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}

	// Suspend: bob cannot sign in, with a clear error; unsuspend.
	e.ok(t, asAnn, "suspend", "-user", bob.id, "-reason", "spam")
	r := e.run(t, asBob, "signin", "-email", bob.email, "-password", bob.password)
	if r.code != 1 || !strings.Contains(r.stderr, "account_suspended") {
		t.Fatalf("signin of a suspended user: exit %d %s", r.code, r.stderr)
	}
	e.ok(t, asAnn, "unsuspend", "-user", bob.id)
	e.ok(t, asBob, "signin", "-email", bob.email, "-password", bob.password)

	// Dismiss a group ann made.
	group := createGroup(t, e.users.URL, ann.token)
	e.ok(t, asAnn, "dismiss", "-group", group, "-reason", "abuse")

	// The audit log has them, newest first.
	audit := e.ok(t, asAnn, "audit", "-limit", "100").lines(t)
	var actions []string
	for _, a := range audit {
		if a["actor"] != "admin" || a["outcome"] != "OK" {
			t.Errorf("entry %v", a)
		}
		actions = append(actions, fmt.Sprint(a["action"]))
	}
	for _, want := range []string{"dismiss_group", "unsuspend_user", "suspend_user", "logout_device", "broadcast_notice", "delete_message", "list_sessions"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit has %v, no %s", actions, want)
		}
	}
	if actions[0] != "dismiss_group" {
		t.Errorf("newest first: %v", actions)
	}

	// Bad input names the field; a non-admin certificate is refused.
	for _, tc := range []struct {
		global []string
		args   []string
		code   int
		stderr string
	}{
		{asAnn, []string{"suspend", "-user", "987654321"}, 1, "NotFound: user_id: no such user"},
		{asAnn, []string{"delete", "-conv", "g:987654321", "-seq", "1"}, 1, "NotFound: conversation: "},
		{asAnn, []string{"dismiss", "-group", "987654321"}, 1, "NotFound: group_id: "},
		{asAnn, []string{"logout", "-user", ann.id, "-device", "nothing"}, 1, "NotFound: device_id: "},
		{asAnn, []string{"suspend"}, 2, "-user is required"},
		{asAnn, []string{"frobnicate"}, 2, "unknown command"},
		{e.args(e.data.Certs.Client, e.node1, ""), []string{"suspend", "-user", bob.id}, 1, "PermissionDenied"},
		{e.args(e.data.Certs.Client, e.node1, ""), []string{"sessions", "-user", bob.id}, 1, "PermissionDenied"},
	} {
		if r := e.run(t, tc.global, tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("imctl %v: exit %d %q, want %d with %q", tc.args, r.code, r.stderr, tc.code, tc.stderr)
		}
	}
}

func createGroup(t *testing.T, base, token string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/groups", strings.NewReader(`{"name":"imctl group","member_ids":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var g struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &g) != nil || g.ID == "" {
		t.Fatalf("create group: %d %s", resp.StatusCode, b)
	}
	return g.ID
}
