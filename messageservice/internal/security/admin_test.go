package security_test

// The admin API (docs/operations.md, "Admin API and imctl") through the
// real stack: a DataService, a userservice and two message nodes on one
// NATS, the admins' calls over mutual TLS with the admin certificate.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	datav1 "github.com/privateim/privateim/protos/data/v1"
	messagev1 "github.com/privateim/privateim/protos/message/v1"
	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// dialAs connects to a service's gRPC API with files.
func dialAs(t *testing.T, service, addr string, files tlsconfig.Files) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcdial.Dial(service, addr, files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func userID(t *testing.T, u mstest.User) int64 {
	t.Helper()
	id, err := strconv.ParseInt(u.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func rpcCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// content decodes a message frame's content.
func content(t *testing.T, f mstest.Frame) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(f.Content, &c); err != nil {
		t.Fatalf("content of %s: %v", f.Raw, err)
	}
	return c
}

// reader reads a connection's messages once each: it acks what it reads,
// and skips redeliveries of what it read (the node sends an unacked
// message again after RETRY_INTERVAL).
type reader struct {
	c    *mstest.Client
	seen map[string]bool
}

func newReader(c *mstest.Client) *reader { return &reader{c: c, seen: map[string]bool{}} }

// next returns the next new message that is not a group system message,
// acked.
func (r *reader) next(t *testing.T) mstest.Frame {
	t.Helper()
	for {
		f := r.c.AwaitChat(wait)
		r.c.Ack(f.Conversation, f.Seq)
		if k := fmt.Sprint(f.Conversation, "/", f.Seq); !r.seen[k] {
			r.seen[k] = true
			return f
		}
	}
}

// nothingNew fails when a message not read before arrives before the pong
// of a ping.
func (r *reader) nothingNew(t *testing.T, after string) {
	t.Helper()
	for _, f := range mstest.Messages(r.c.UntilPong(wait)) {
		if !r.seen[fmt.Sprint(f.Conversation, "/", f.Seq)] {
			t.Fatalf("%s sent %s", after, f.Raw)
		}
	}
}

// TestAdminActionsAcrossTheCluster: each admin action works on a 2-node
// cluster, whichever node is asked; bad input is refused naming the field;
// every action (refusals too) is in the audit log with the admin's
// identity.
func TestAdminActionsAcrossTheCluster(t *testing.T) {
	st, n1, n2 := cluster(t, mstest.StackOptions{})
	adminFiles := st.Data.Certs.Admin
	msg1 := messagev1.NewAdminClient(dialAs(t, tlsconfig.MessageService, n1.GRPCAddr(), adminFiles))
	msg2 := messagev1.NewAdminClient(dialAs(t, tlsconfig.MessageService, n2.GRPCAddr(), adminFiles))
	users := userv1.NewAdminClient(dialAs(t, tlsconfig.UserService, st.Users.GRPCAddr, adminFiles))
	data := datav1.NewMessagesClient(dialAs(t, tlsconfig.DataService, st.Data.Addr, st.Data.Certs.Client))

	ann, bob := st.NewUser(t, "ann"), st.NewUser(t, "bob")
	st.Befriend(t, ann, bob)
	annID, bobID := userID(t, ann), userID(t, bob)
	phoneConn, laptopConn := n1.Dial(t, ann, "phone"), n2.Dial(t, ann, "laptop")
	bobConn := n1.Dial(t, bob, "")
	phone, laptop, bc := newReader(phoneConn), newReader(laptopConn), newReader(bobConn)

	t.Run("list sessions on every node", func(t *testing.T) {
		poll.Eventually(t, wait, func() error {
			// Ask n1 and n2: each lists the other's connection too.
			for i, api := range []messagev1.AdminClient{msg1, msg2} {
				r, err := api.ListSessions(rpcCtx(t), &messagev1.ListSessionsRequest{UserId: annID})
				if err != nil {
					return err
				}
				var got []string
				for _, s := range r.GetSessions() {
					got = append(got, s.GetNodeId()+"/"+s.GetDeviceId())
					if s.GetConnId() == 0 || s.GetOpenedAt().AsTime().IsZero() {
						return fmt.Errorf("node %d: a session without id or time: %v", i+1, s)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, []string{"n1/phone", "n2/laptop"}) {
					return fmt.Errorf("node %d lists %v", i+1, got)
				}
			}
			return nil
		})
	})

	t.Run("delete a message for everyone", func(t *testing.T) {
		bobConn.Send("spam-1", "user", ann.ID, "buy now")
		sent := bobConn.Await("sent", wait)
		bc.seen[fmt.Sprint(sent.Conversation, "/", sent.Seq)] = true
		for _, c := range []*reader{phone, laptop} {
			if m := c.next(t); !contains(m, "buy now") {
				t.Fatalf("got %s", m.Raw)
			}
		}
		conv := sent.Conversation
		r, err := msg2.DeleteMessage(rpcCtx(t), &messagev1.DeleteMessageRequest{Conversation: conv, Seq: sent.Seq, Reason: "spam"})
		if err != nil {
			t.Fatal(err)
		}
		ev := r.GetEvent()
		if ev.GetConversation() != conv || ev.GetSeq() != sent.Seq+1 || ev.GetDuplicate() {
			t.Fatalf("event %v, want seq %d of %s", ev, sent.Seq+1, conv)
		}
		// Every device of both users is told, in seq order, on both nodes.
		for name, c := range map[string]*reader{"ann's phone": phone, "ann's laptop": laptop, "bob": bc} {
			f := c.next(t)
			got := content(t, f)
			if f.Seq != ev.GetSeq() || got["kind"] != "recall" || got["target_seq"] != float64(sent.Seq) || got["by"] != "0" {
				t.Errorf("%s got %s, want the recall of %d by 0", name, f.Raw, sent.Seq)
			}
		}
		// The content is gone from storage.
		h, err := data.GetMessages(rpcCtx(t), &datav1.GetMessagesRequest{Conversation: conv, AfterSeq: sent.Seq - 1, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ms := h.GetMessages(); len(ms) != 1 || ms[0].GetKind() != "recalled" || strings.Contains(string(ms[0].GetContent()), "buy now") {
			t.Fatalf("stored %v, want the tombstone", ms)
		}
		// Again: the same event, nothing new stored or sent.
		again, err := msg1.DeleteMessage(rpcCtx(t), &messagev1.DeleteMessageRequest{Conversation: conv, Seq: sent.Seq})
		if err != nil || !again.GetEvent().GetDuplicate() || again.GetEvent().GetSeq() != ev.GetSeq() {
			t.Fatalf("again: %v %v", again, err)
		}
		bc.nothingNew(t, "a repeated delete")
	})

	t.Run("log out one device", func(t *testing.T) {
		r, err := msg1.LogoutDevice(rpcCtx(t), &messagev1.LogoutDeviceRequest{UserId: annID, DeviceId: "laptop", Reason: "lost"})
		if err != nil || r.GetClosed() != 1 {
			t.Fatalf("logout: %v %v", r, err)
		}
		// The laptop is on n2: closed there.
		if code, reason := laptopConn.ExpectClose(wait); code != 4005 || reason != "logged_out" {
			t.Fatalf("laptop: close %d %q, want 4005 logged_out", code, reason)
		}
		phoneConn.UntilPong(wait) // the phone still talks
		poll.Eventually(t, wait, func() error {
			r, err := msg1.ListSessions(rpcCtx(t), &messagev1.ListSessionsRequest{UserId: annID})
			if err != nil {
				return err
			}
			if n := len(r.GetSessions()); n != 1 || r.GetSessions()[0].GetDeviceId() != "phone" {
				return fmt.Errorf("sessions %v", r.GetSessions())
			}
			return nil
		})
	})

	t.Run("broadcast a notice to online users", func(t *testing.T) {
		r, err := msg2.BroadcastNotice(rpcCtx(t), &messagev1.BroadcastNoticeRequest{ClientMsgId: "maint-1", Text: "maintenance at 22:00"})
		if err != nil || r.GetUsers() != 2 {
			t.Fatalf("broadcast: %v %v, want 2 users (ann, bob)", r, err)
		}
		for name, c := range map[string]struct {
			c  *reader
			id string
		}{"ann": {phone, ann.ID}, "bob": {bc, bob.ID}} {
			f := c.c.next(t)
			got := content(t, f)
			if f.Conversation != "sys:"+c.id || got["kind"] != "notice" || got["text"] != "maintenance at 22:00" {
				t.Errorf("%s got %s", name, f.Raw)
			}
		}
		// The same client_msg_id again stores nothing new.
		if _, err := msg1.BroadcastNotice(rpcCtx(t), &messagev1.BroadcastNoticeRequest{ClientMsgId: "maint-1", Text: "maintenance at 22:00"}); err != nil {
			t.Fatal(err)
		}
		bc.nothingNew(t, "a repeated notice")
	})

	var groupID string
	t.Run("dismiss a group", func(t *testing.T) {
		groupID = st.NewGroup(t, ann, bob)
		gid, _ := strconv.ParseInt(groupID, 10, 64)
		if _, err := users.DismissGroup(rpcCtx(t), &userv1.DismissGroupRequest{GroupId: gid, Reason: "abuse"}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(wait)
		for {
			f := bobConn.Next(time.Until(deadline))
			if f.GroupEvent() == "dismissed" {
				if c := content(t, f); c["actor"] != "0" {
					t.Fatalf("dismissed by %v, want 0", c["actor"])
				}
				break
			}
		}
		_, err := users.DismissGroup(rpcCtx(t), &userv1.DismissGroupRequest{GroupId: gid})
		wantRefused(t, err, codes.NotFound, "group_id: ")
	})

	t.Run("suspend and unsuspend", func(t *testing.T) {
		if _, err := users.SuspendUser(rpcCtx(t), &userv1.SuspendUserRequest{UserId: bobID, Reason: "spam"}); err != nil {
			t.Fatal(err)
		}
		if code, reason := bobConn.ExpectClose(wait); code != 4003 || reason != "revoked" {
			t.Fatalf("bob: close %d %q, want 4003 revoked", code, reason)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		st.Do(t, http.MethodPost, "/auth/signin", "", map[string]string{"email": bob.Email, "password": bob.Password}, http.StatusForbidden, &e)
		if e.Error.Code != "account_suspended" {
			t.Fatalf("sign-in of a suspended user: %+v", e)
		}
		if _, err := users.UnsuspendUser(rpcCtx(t), &userv1.UnsuspendUserRequest{UserId: bobID}); err != nil {
			t.Fatal(err)
		}
		st.Do(t, http.MethodPost, "/auth/signin", "", map[string]string{"email": bob.Email, "password": bob.Password}, http.StatusOK, nil)
	})

	t.Run("bad input names the field", func(t *testing.T) {
		ctx := rpcCtx(t)
		for _, tc := range []struct {
			name  string
			call  func() error
			code  codes.Code
			field string
		}{
			{"list sessions: no user", func() error { _, err := msg1.ListSessions(ctx, &messagev1.ListSessionsRequest{}); return err }, codes.InvalidArgument, "user_id"},
			{"list sessions: unknown user", func() error {
				_, err := msg1.ListSessions(ctx, &messagev1.ListSessionsRequest{UserId: 987654321})
				return err
			}, codes.NotFound, "user_id"},
			{"logout: unknown user", func() error {
				_, err := msg1.LogoutDevice(ctx, &messagev1.LogoutDeviceRequest{UserId: 987654321, DeviceId: "x"})
				return err
			}, codes.NotFound, "user_id"},
			{"logout: device with no connection", func() error {
				_, err := msg1.LogoutDevice(ctx, &messagev1.LogoutDeviceRequest{UserId: annID, DeviceId: "tablet"})
				return err
			}, codes.NotFound, "device_id"},
			{"logout: device too long", func() error {
				_, err := msg1.LogoutDevice(ctx, &messagev1.LogoutDeviceRequest{UserId: annID, DeviceId: strings.Repeat("d", 65)})
				return err
			}, codes.InvalidArgument, "device_id"},
			{"delete: bad conversation", func() error {
				_, err := msg1.DeleteMessage(ctx, &messagev1.DeleteMessageRequest{Conversation: "x:1", Seq: 1})
				return err
			}, codes.InvalidArgument, "conversation"},
			{"delete: unknown group", func() error {
				_, err := msg1.DeleteMessage(ctx, &messagev1.DeleteMessageRequest{Conversation: "g:987654321", Seq: 1})
				return err
			}, codes.NotFound, "conversation"},
			{"delete: no seq", func() error {
				_, err := msg1.DeleteMessage(ctx, &messagev1.DeleteMessageRequest{Conversation: "sys:" + ann.ID})
				return err
			}, codes.InvalidArgument, "seq"},
			{"delete: unknown seq", func() error {
				_, err := msg1.DeleteMessage(ctx, &messagev1.DeleteMessageRequest{Conversation: "sys:" + ann.ID, Seq: 999})
				return err
			}, codes.NotFound, "seq"},
			{"broadcast: no text", func() error {
				_, err := msg1.BroadcastNotice(ctx, &messagev1.BroadcastNoticeRequest{ClientMsgId: "x"})
				return err
			}, codes.InvalidArgument, "text"},
			{"broadcast: no client_msg_id", func() error {
				_, err := msg1.BroadcastNotice(ctx, &messagev1.BroadcastNoticeRequest{Text: "x"})
				return err
			}, codes.InvalidArgument, "client_msg_id"},
			{"suspend: unknown user", func() error {
				_, err := users.SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: 987654321})
				return err
			}, codes.NotFound, "user_id"},
			{"suspend: no user", func() error { _, err := users.SuspendUser(ctx, &userv1.SuspendUserRequest{}); return err }, codes.InvalidArgument, "user_id"},
			{"dismiss: unknown group", func() error {
				_, err := users.DismissGroup(ctx, &userv1.DismissGroupRequest{GroupId: 987654321})
				return err
			}, codes.NotFound, "group_id"},
			{"dismiss: no group", func() error { _, err := users.DismissGroup(ctx, &userv1.DismissGroupRequest{}); return err }, codes.InvalidArgument, "group_id"},
			{"audit: bad limit", func() error { _, err := users.ListAudit(ctx, &userv1.ListAuditRequest{Limit: 1001}); return err }, codes.InvalidArgument, "limit"},
			{"audit: bad page token", func() error {
				_, err := users.ListAudit(ctx, &userv1.ListAuditRequest{PageToken: "nonsense"})
				return err
			}, codes.InvalidArgument, "page_token"},
		} {
			t.Run(tc.name, func(t *testing.T) { wantRefused(t, tc.call(), tc.code, tc.field+": ") })
		}
	})

	t.Run("every action is in the audit log", func(t *testing.T) {
		var all []*userv1.AuditEntry
		req := &userv1.ListAuditRequest{Limit: 5}
		for {
			r, err := users.ListAudit(rpcCtx(t), req)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r.GetEntries()...)
			if req.PageToken = r.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		has := func(service, action, target, outcome string) error {
			for _, e := range all {
				if e.GetService() == service && e.GetAction() == action && e.GetTarget() == target && e.GetOutcome() == outcome {
					if e.GetActor() != tlsconfig.Admin || e.GetCreatedAt().AsTime().IsZero() {
						return fmt.Errorf("entry %v: want actor admin and a time", e)
					}
					return nil
				}
			}
			return fmt.Errorf("no %s %s %s %s in the audit log", service, action, target, outcome)
		}
		for _, w := range [][4]string{
			{"messageservice", "list_sessions", "user:" + ann.ID, "OK"},
			{"messageservice", "delete_message", "u:", "OK"},
			{"messageservice", "logout_device", "user:" + ann.ID, "OK"},
			{"messageservice", "broadcast_notice", "online", "OK"},
			{"userservice", "dismiss_group", "group:" + groupID, "OK"},
			{"userservice", "dismiss_group", "group:" + groupID, "NotFound"},
			{"userservice", "suspend_user", "user:" + bob.ID, "OK"},
			{"userservice", "unsuspend_user", "user:" + bob.ID, "OK"},
			{"userservice", "suspend_user", "user:987654321", "NotFound"},
			{"messageservice", "logout_device", "user:" + ann.ID, "NotFound"},
		} {
			if w[2] == "u:" { // the conversation of ann and bob
				for _, e := range all {
					if e.GetAction() == "delete_message" && strings.HasPrefix(e.GetTarget(), "u:") && strings.Contains(e.GetDetail(), `"reason":"spam"`) {
						w[2] = e.GetTarget()
						break
					}
				}
			}
			if err := has(w[0], w[1], w[2], w[3]); err != nil {
				t.Error(err)
			}
		}
		// Newest first, and filtered by target.
		for i := 1; i < len(all); i++ {
			if all[i].GetId() >= all[i-1].GetId() {
				t.Fatalf("not newest first at %d: %d after %d", i, all[i].GetId(), all[i-1].GetId())
			}
		}
		r, err := users.ListAudit(rpcCtx(t), &userv1.ListAuditRequest{Target: "user:" + bob.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range r.GetEntries() {
			actions = append(actions, e.GetAction())
		}
		if !slices.Equal(actions, []string{"unsuspend_user", "suspend_user"}) {
			t.Fatalf("bob's entries %v", actions)
		}
	})
}

func wantRefused(t *testing.T, err error, code codes.Code, prefix string) {
	t.Helper()
	st := status.Convert(err)
	if err == nil || st.Code() != code || !strings.HasPrefix(st.Message(), prefix) {
		t.Errorf("got %v, want %s with a message starting %q", err, code, prefix)
	}
}

// TestOnlyAdminCertificatesMayCallAdminMethods: every admin method of both
// services refuses the operator's and every service's certificate with
// PermissionDenied, and changes nothing; the admin certificate may call no
// other method.
func TestOnlyAdminCertificatesMayCallAdminMethods(t *testing.T) {
	st := mstest.StartStack(t)
	n := st.StartNode(t, st.Config())
	u := st.NewUser(t, "target")
	id := userID(t, u)
	c := n.Dial(t, u, "phone")
	certs := st.Data.Certs
	for name, files := range map[string]tlsconfig.Files{
		"operator": certs.Client, "dataservice": certs.Data, "userservice": certs.User,
		"messageservice": certs.Message, "subscriptionservice": certs.Subscription,
	} {
		msg := messagev1.NewAdminClient(dialAs(t, tlsconfig.MessageService, n.GRPCAddr(), files))
		usr := userv1.NewAdminClient(dialAs(t, tlsconfig.UserService, st.Users.GRPCAddr, files))
		ctx := rpcCtx(t)
		for method, call := range map[string]func() error{
			"ListSessions": func() error { _, err := msg.ListSessions(ctx, &messagev1.ListSessionsRequest{UserId: id}); return err },
			"LogoutDevice": func() error {
				_, err := msg.LogoutDevice(ctx, &messagev1.LogoutDeviceRequest{UserId: id, DeviceId: "phone"})
				return err
			},
			"DeleteMessage": func() error {
				_, err := msg.DeleteMessage(ctx, &messagev1.DeleteMessageRequest{Conversation: "sys:" + u.ID, Seq: 1})
				return err
			},
			"BroadcastNotice": func() error {
				_, err := msg.BroadcastNotice(ctx, &messagev1.BroadcastNoticeRequest{ClientMsgId: "x", Text: "x"})
				return err
			},
			"SuspendUser":   func() error { _, err := usr.SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: id}); return err },
			"UnsuspendUser": func() error { _, err := usr.UnsuspendUser(ctx, &userv1.UnsuspendUserRequest{UserId: id}); return err },
			"DismissGroup":  func() error { _, err := usr.DismissGroup(ctx, &userv1.DismissGroupRequest{GroupId: 1}); return err },
			"ListAudit":     func() error { _, err := usr.ListAudit(ctx, &userv1.ListAuditRequest{}); return err },
		} {
			if err := call(); status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s certificate: %s: %v, want PermissionDenied", name, method, err)
			}
		}
	}
	// Nothing happened: the socket is open, the user signs in.
	c.UntilPong(wait)
	st.Do(t, http.MethodPost, "/auth/signin", "", map[string]string{"email": u.Email, "password": u.Password}, http.StatusOK, nil)

	// The admin certificate is for the admin methods only.
	adm := dialAs(t, tlsconfig.MessageService, n.GRPCAddr(), certs.Admin)
	_, err := messagev1.NewMessageServiceClient(adm).Stats(rpcCtx(t), &messagev1.StatsRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("admin certificate: Stats: %v, want PermissionDenied", err)
	}
	_, err = userv1.NewAuthClient(dialAs(t, tlsconfig.UserService, st.Users.GRPCAddr, certs.Admin)).CheckToken(rpcCtx(t), &userv1.CheckTokenRequest{Token: u.Token})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("admin certificate: CheckToken: %v, want PermissionDenied", err)
	}
}
