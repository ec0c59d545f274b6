package main

import (
	"context"
	"flag"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	messagev1 "github.com/privateim/privateim/protos/message/v1"
	userv1 "github.com/privateim/privateim/protos/user/v1"
)

// The admin commands: one gRPC call each, its answer printed as JSON. The
// servers check the input and name the field of a bad one; imctl only
// insists on the flags without which the call means nothing.

// adminCall dials with conn, makes the call on the client and prints each
// message it answers, one per line.
func adminCall[C any](ctx context.Context, c *cli, conn func() (*grpc.ClientConn, error), client func(grpc.ClientConnInterface) C,
	call func(context.Context, C) ([]proto.Message, error)) error {
	cc, err := conn()
	if err != nil {
		return err
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	out, err := call(ctx, client(cc))
	if err != nil {
		return err
	}
	for _, m := range out {
		if err := c.printProto(m); err != nil {
			return err
		}
	}
	return nil
}

func one(m proto.Message, err error) ([]proto.Message, error) { return []proto.Message{m}, err }

// userCall and msgCall are adminCall on the userservice's and a message
// node's Admin.
func userCall(ctx context.Context, c *cli, call func(context.Context, userv1.AdminClient) ([]proto.Message, error)) error {
	return adminCall(ctx, c, c.userConn, userv1.NewAdminClient, call)
}

func msgCall(ctx context.Context, c *cli, call func(context.Context, messagev1.AdminClient) ([]proto.Message, error)) error {
	return adminCall(ctx, c, c.msgConn, messagev1.NewAdminClient, call)
}

// userFlags parses -user (required) and -reason.
func userFlags(c *cli, name string, args []string, more func(fs *flag.FlagSet)) (int64, string, error) {
	fs := c.flags(name)
	user := fs.Int64("user", 0, "user id")
	reason := fs.String("reason", "", "why, for the audit log")
	if more != nil {
		more(fs)
	}
	if err := parse(fs, args); err != nil {
		return 0, "", err
	}
	return *user, *reason, required(fs, "user")
}

func cmdSuspend(ctx context.Context, c *cli, args []string) error {
	user, reason, err := userFlags(c, "suspend", args, nil)
	if err != nil {
		return err
	}
	return userCall(ctx, c, func(ctx context.Context, api userv1.AdminClient) ([]proto.Message, error) {
		return one(api.SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: user, Reason: reason}))
	})
}

func cmdUnsuspend(ctx context.Context, c *cli, args []string) error {
	user, reason, err := userFlags(c, "unsuspend", args, nil)
	if err != nil {
		return err
	}
	return userCall(ctx, c, func(ctx context.Context, api userv1.AdminClient) ([]proto.Message, error) {
		return one(api.UnsuspendUser(ctx, &userv1.UnsuspendUserRequest{UserId: user, Reason: reason}))
	})
}

func cmdLogout(ctx context.Context, c *cli, args []string) error {
	var device *string
	user, reason, err := userFlags(c, "logout", args, func(fs *flag.FlagSet) {
		device = fs.String("device", "", "device id (empty: the default device)")
	})
	if err != nil {
		return err
	}
	return msgCall(ctx, c, func(ctx context.Context, api messagev1.AdminClient) ([]proto.Message, error) {
		return one(api.LogoutDevice(ctx, &messagev1.LogoutDeviceRequest{UserId: user, DeviceId: *device, Reason: reason}))
	})
}

// cmdSessions prints one session per line.
func cmdSessions(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("sessions")
	user := fs.Int64("user", 0, "user id")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "user"); err != nil {
		return err
	}
	return msgCall(ctx, c, func(ctx context.Context, api messagev1.AdminClient) ([]proto.Message, error) {
		r, err := api.ListSessions(ctx, &messagev1.ListSessionsRequest{UserId: *user})
		var out []proto.Message
		for _, s := range r.GetSessions() {
			out = append(out, s)
		}
		return out, err
	})
}

func cmdDismiss(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("dismiss")
	group := fs.Int64("group", 0, "group id")
	reason := fs.String("reason", "", "why, for the audit log")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "group"); err != nil {
		return err
	}
	return userCall(ctx, c, func(ctx context.Context, api userv1.AdminClient) ([]proto.Message, error) {
		return one(api.DismissGroup(ctx, &userv1.DismissGroupRequest{GroupId: *group, Reason: *reason}))
	})
}

// cmdAudit prints one entry per line, then {"next_page_token"} when there
// are more.
func cmdAudit(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("audit")
	limit := fs.Int("limit", 50, "entries per page, 1..1000")
	target := fs.String("target", "", "only this target (user:<id>, group:<id>, <conversation>/<seq>, online)")
	action := fs.String("action", "", "only this action (suspend_user, delete_message, ...)")
	page := fs.String("page", "", "the next_page_token of the previous page")
	if err := parse(fs, args); err != nil {
		return err
	}
	return userCall(ctx, c, func(ctx context.Context, api userv1.AdminClient) ([]proto.Message, error) {
		r, err := api.ListAudit(ctx, &userv1.ListAuditRequest{Limit: int32(*limit), Target: *target, Action: *action, PageToken: *page})
		var out []proto.Message
		for _, e := range r.GetEntries() {
			out = append(out, e)
		}
		if r.GetNextPageToken() != "" {
			out = append(out, &userv1.ListAuditResponse{NextPageToken: r.GetNextPageToken()})
		}
		return out, err
	})
}

func cmdDelete(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("delete")
	conv := fs.String("conv", "", "conversation: u:<a>:<b>, g:<id>, s:<id> or sys:<id>")
	seq := fs.Int64("seq", 0, "the message's seq")
	reason := fs.String("reason", "", "why, for the audit log")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "conv", "seq"); err != nil {
		return err
	}
	return msgCall(ctx, c, func(ctx context.Context, api messagev1.AdminClient) ([]proto.Message, error) {
		return one(api.DeleteMessage(ctx, &messagev1.DeleteMessageRequest{Conversation: *conv, Seq: *seq, Reason: *reason}))
	})
}

func cmdNotice(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("notice")
	id := fs.String("id", "", "client_msg_id: a repeat stores nothing new for a user who has it")
	text := fs.String("text", "", "the notice")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "id", "text"); err != nil {
		return err
	}
	return msgCall(ctx, c, func(ctx context.Context, api messagev1.AdminClient) ([]proto.Message, error) {
		return one(api.BroadcastNotice(ctx, &messagev1.BroadcastNoticeRequest{ClientMsgId: *id, Text: *text}))
	})
}
