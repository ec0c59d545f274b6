package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/websocket"
)

// The demo commands act as a user: sign up and in, friends over the
// userservice's HTTP API, send and tail over a message node's WebSocket
// (docs/userservice.md, docs/websocket.md). The token comes from -token
// or IMCTL_TOKEN: signup and signin print it.

// httpDo calls the userservice's API with body as JSON and decodes the
// answer into out; a status other than want is an error with the body.
func (c *cli) httpDo(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.API+"/api/v1"+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *cli) needToken(name string) error {
	if c.cfg.Token == "" {
		fmt.Fprintf(c.errOut, "imctl %s: -token (or IMCTL_TOKEN) is required\n", name)
		return errUsage
	}
	return nil
}

func cmdSignup(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("signup")
	name := fs.String("name", "", "display name")
	email := fs.String("email", "", "email")
	password := fs.String("password", "", "password")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "name", "email", "password"); err != nil {
		return err
	}
	var out map[string]any
	if err := c.httpDo(ctx, http.MethodPost, "/auth/signup", "", map[string]string{"name": *name, "email": *email, "password": *password}, http.StatusCreated, &out); err != nil {
		return err
	}
	return c.printJSON(out)
}

func cmdSignin(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("signin")
	email := fs.String("email", "", "email")
	password := fs.String("password", "", "password")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "email", "password"); err != nil {
		return err
	}
	var out map[string]any
	if err := c.httpDo(ctx, http.MethodPost, "/auth/signin", "", map[string]string{"email": *email, "password": *password}, http.StatusOK, &out); err != nil {
		return err
	}
	return c.printJSON(out)
}

func cmdFriend(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("friend")
	user := fs.String("user", "", "the user id to ask")
	note := fs.String("note", "", "a note with the request")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "user"); err != nil {
		return err
	}
	if err := c.needToken("friend"); err != nil {
		return err
	}
	body := map[string]string{"user_id": *user}
	if *note != "" {
		body["note"] = *note
	}
	var out map[string]any
	if err := c.httpDo(ctx, http.MethodPost, "/friends/requests", c.cfg.Token, body, http.StatusCreated, &out); err != nil {
		return err
	}
	return c.printJSON(out)
}

func cmdAccept(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("accept")
	user := fs.String("user", "", "the user id whose request to accept")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "user"); err != nil {
		return err
	}
	if err := c.needToken("accept"); err != nil {
		return err
	}
	var out map[string]any
	if err := c.httpDo(ctx, http.MethodPost, "/friends/requests/"+url.PathEscape(*user)+"/accept", c.cfg.Token, map[string]string{}, http.StatusOK, &out); err != nil {
		return err
	}
	return c.printJSON(out)
}

// wsDial opens a WebSocket as the token's user on device.
func (c *cli) wsDial(ctx context.Context, device string) (*websocket.Conn, error) {
	u := c.cfg.WS
	if device != "" {
		u += "?device_id=" + url.QueryEscape(device)
	}
	d := websocket.Dialer{HandshakeTimeout: c.cfg.Timeout}
	ws, resp, err := d.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + c.cfg.Token}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket %s: %s", c.cfg.WS, resp.Status)
		}
		return nil, fmt.Errorf("websocket %s: %w", c.cfg.WS, err)
	}
	return ws, nil
}

// frame is the part of a server frame imctl reads.
type frame struct {
	Type         string `json:"type"`
	ClientMsgID  string `json:"client_msg_id"`
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
	Code         string `json:"code"`
	Message      string `json:"message"`
}

// cmdSend sends a text and prints the `sent` answer.
func cmdSend(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("send")
	toUser := fs.String("to-user", "", "a friend's user id")
	toGroup := fs.String("to-group", "", "a group id")
	text := fs.String("text", "", "the text")
	id := fs.String("id", "", "client_msg_id (default: random)")
	device := fs.String("device", "imctl", "device id of the connection")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "text"); err != nil {
		return err
	}
	to := map[string]string{"kind": "user", "id": *toUser}
	switch {
	case (*toUser == "") == (*toGroup == ""):
		fmt.Fprintln(c.errOut, "imctl send: one of -to-user and -to-group is required")
		return errUsage
	case *toGroup != "":
		to = map[string]string{"kind": "group", "id": *toGroup}
	}
	if err := c.needToken("send"); err != nil {
		return err
	}
	if *id == "" {
		*id = "imctl-" + rand.Text()[:12]
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	ws, err := c.wsDial(ctx, *device)
	if err != nil {
		return err
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "send", "client_msg_id": *id, "to": to, "content": map[string]string{"kind": "text", "text": *text}}); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = ws.SetReadDeadline(deadline)
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("waiting for sent: %w", err)
		}
		var f frame
		if json.Unmarshal(b, &f) != nil || f.ClientMsgID != *id {
			continue // catch-up, presence: not the answer
		}
		switch f.Type {
		case "sent":
			_, err = fmt.Fprintf(c.out, "%s\n", b)
			return err
		case "error":
			return fmt.Errorf("refused: %s: %s", f.Code, f.Message)
		}
	}
}

// cmdTail prints every message frame (of -conv, when set) as it arrives,
// the device's catch-up first, and acks it, until -n messages, -for has
// passed, or an interrupt.
func cmdTail(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("tail")
	conv := fs.String("conv", "", "only this conversation")
	device := fs.String("device", "imctl-tail", "device id: its acks move that device's cursor")
	n := fs.Int("n", 0, "stop after this many messages (0: no limit)")
	dur := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.needToken("tail"); err != nil {
		return err
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	ws, err := c.wsDial(ctx, *device)
	if err != nil {
		return err
	}
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { _ = ws.SetReadDeadline(time.Now()) })
	defer stop()
	for count := 0; *n == 0 || count < *n; {
		_, b, err := ws.ReadMessage()
		if ctx.Err() != nil {
			return nil // -for passed or interrupted: a normal end
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return fmt.Errorf("closed by the server: %d %s", ce.Code, ce.Text)
		}
		if err != nil {
			return err
		}
		var f frame
		if json.Unmarshal(b, &f) != nil || f.Type != "message" {
			continue
		}
		if err := ws.WriteJSON(map[string]any{"type": "ack", "conversation": f.Conversation, "seq": f.Seq}); err != nil {
			return err
		}
		if *conv != "" && f.Conversation != *conv {
			continue
		}
		if _, err := fmt.Fprintf(c.out, "%s\n", b); err != nil {
			return err
		}
		count++
	}
	return nil
}
