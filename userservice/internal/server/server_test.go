package server_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/server"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// TestShutdownDrains stops the server while a request is being uploaded and
// a reset mail is queued: the request is answered, the mail is sent, and
// Run returns nil; afterwards nothing listens.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	data := stacktest.StartDataService(t)
	mail := stacktest.StartMailpit(t)
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.DataAddr = "127.0.0.1:0", "127.0.0.1:0", data.Addr
	cfg.TLS, cfg.DataTLS = data.Certs.User, data.Certs.User
	cfg.JWTSecret = rand.Text() + rand.Text()
	cfg.BcryptCost = bcrypt.MinCost
	cfg.SMTPAddr, cfg.SMTPTLS = mail.SMTPAddr, "none" // mailpit without TLS
	cfg.SearchDir, cfg.UploadDir = filepath.Join(t.TempDir(), "search"), filepath.Join(t.TempDir(), "uploads")
	cfg.SigninPerEmail, cfg.SigninPerIP, cfg.ForgotPerEmail, cfg.ForgotPerIP = config.Rate{}, config.Rate{}, config.Rate{}, config.Rate{}
	cfg.SignupPerIP, cfg.SignupAll, cfg.ResetPerIP, cfg.ResetAll = config.Rate{}, config.Rate{}, config.Rate{}, config.Rate{}
	srv, err := server.New(cfg, usertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.HTTPAddr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	poll.Eventually(t, 10*time.Second, func() error {
		r, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			return io.ErrUnexpectedEOF
		}
		return nil
	})

	post := func(path, body string) (*http.Response, error) {
		return http.Post(base+path, "application/json", strings.NewReader(body))
	}
	r, err := post("/api/v1/auth/signup", `{"name":"Ada","email":"ada@example.com","password":"correct horse"}`)
	if err != nil || r.StatusCode != http.StatusCreated {
		t.Fatalf("sign up: %v %v", r, err)
	}
	r.Body.Close()
	r, err = post("/api/v1/auth/password/forgot", `{"email":"ada@example.com"}`)
	if err != nil || r.StatusCode != http.StatusAccepted {
		t.Fatalf("forgot: %v %v", r, err)
	}
	r.Body.Close()

	// A sign-up whose body is still on its way when the server stops. With
	// "Expect: 100-continue" the server says "100 Continue" once the
	// handler reads the body: from then on the request is in flight for
	// sure (before, the connection may still wait in the listen queue and
	// be reset with the listener, which no server can prevent).
	body := `{"name":"Bob","email":"bob@example.com","password":"correct horse"}`
	conn, err := net.Dial("tcp", srv.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q, %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}
	cancel()
	// The listener closes at once: new connections are refused while the
	// one in flight is served.
	poll.Eventually(t, 10*time.Second, func() error {
		c, err := (&http.Client{Timeout: time.Second}).Get(base + "/healthz")
		if err == nil {
			c.Body.Close()
			return errors.New("still accepting connections")
		}
		return nil
	})
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the request in flight: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("the request in flight got %s, want 201", resp.Status)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	mail.WaitMessage(t, "ada@example.com", 1, 15*time.Second)
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cfg := config.Default() // no JWT secret
	if _, err := server.New(cfg, usertest.Logger()); err == nil || !strings.Contains(err.Error(), "jwt-secret") {
		t.Errorf("New without a secret: %v", err)
	}
	cfg.JWTSecret = rand.Text() + rand.Text()
	cfg.TLS.CA = "/nonexistent/ca.pem"
	cfg.DataTLS.CA = cfg.TLS.CA
	if _, err := server.New(cfg, usertest.Logger()); err == nil {
		t.Error("New with missing certificates succeeded")
	}
}
