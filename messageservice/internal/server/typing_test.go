package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// typingUntilMessage reads c's frames up to the chat message with text
// (redeliveries of earlier ones are skipped) and returns the typing frames
// of its conversation before it. A test sends its typing frames and
// then a message from the same connection: the node handles them in that
// order and forwards both to a node on one NATS subject, so a typing frame
// that was forwarded arrives before the message.
func typingUntilMessage(t *testing.T, c *mstest.Client, text string) []mstest.Frame {
	t.Helper()
	var out []mstest.Frame
	for {
		f := c.Next(wait)
		switch {
		case f.Type == "typing":
			out = append(out, f)
		case f.Type == "message" && f.GroupEvent() == "":
			var content struct{ Text string }
			if json.Unmarshal(f.Content, &content) == nil && content.Text == text {
				return slices.DeleteFunc(out, func(tf mstest.Frame) bool { return tf.Conversation != f.Conversation })
			}
		}
	}
}

// typingAnswer sends a typing frame and returns the error frame it was
// answered with (the zero Frame when none: the frames up to a pong sent
// after it hold any).
func typingAnswer(c *mstest.Client, conversation string) mstest.Frame {
	typing(c, conversation)
	for _, f := range c.UntilPong(wait) {
		if f.Type == "error" {
			return f
		}
	}
	return mstest.Frame{}
}

func typing(c *mstest.Client, conversation string) {
	c.WriteJSON(map[string]string{"type": "typing", "conversation": conversation})
}

// TestTypingAcrossNodes: typing reaches the other participants' devices
// on other nodes of a 3-node cluster, never the typist's, at most once per
// user and conversation per 2 s; a blacklisted user gets none; bad input is
// an error frame.
func TestTypingAcrossNodes(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	g := st.NewFriendsGroup(t, ada, bob, carol)
	st.Befriend(t, bob, carol)
	ca, cb2, cb3, cc := n1.Dial(t, ada, "a"), n2.Dial(t, bob, "b-phone"), n3.Dial(t, bob, "b-laptop"), n3.Dial(t, carol, "c")
	seen(t, n1, bob, carol)
	seen(t, n2, ada, carol)
	seen(t, n3, ada)
	for _, n := range nodes {
		n.Settle(t)
	}
	direct := conv(ada, bob)

	t.Run("1:1 to both devices of the peer, once per 2 s", func(t *testing.T) {
		typing(ca, direct)
		typing(ca, direct)
		typing(ca, direct)
		ca.Send("d1", "user", bob.ID, "hi")
		for _, c := range []*mstest.Client{cb2, cb3} {
			got := typingUntilMessage(t, c, "hi")
			if len(got) != 1 || got[0].User != ada.ID || got[0].Conversation != direct {
				t.Fatalf("bob got typing %v before the message, want one from ada in %s", raws(got), direct)
			}
		}
		if f := ca.Await("sent", wait); f.Conversation != direct {
			t.Fatalf("ada got %s", f.Raw)
		}
		for _, f := range ca.UntilPong(wait) {
			if f.Type == "typing" {
				t.Fatalf("the typist got her own typing: %s", f.Raw)
			}
		}
		// After the interval the next typing frame goes through again.
		i := 0
		poll.Eventually(t, wait, func() error {
			i++
			typing(ca, direct)
			text := fmt.Sprint("again ", i)
			ca.Send(text, "user", bob.ID, text)
			if got := typingUntilMessage(t, cb2, text); len(got) == 0 {
				return fmt.Errorf("no typing forwarded yet")
			}
			return nil
		})
	})

	t.Run("group to every other member on every node", func(t *testing.T) {
		typing(cc, "g:"+g)
		cc.Send("g1", "group", g, "hello")
		for name, c := range map[string]*mstest.Client{"ada": ca, "bob phone": cb2, "bob laptop": cb3} {
			if got := typingUntilMessage(t, c, "hello"); len(got) != 1 || got[0].User != carol.ID || got[0].Conversation != "g:"+g {
				t.Fatalf("%s got typing %v, want one from carol in g:%s", name, raws(got), g)
			}
		}
	})

	t.Run("a blacklisted user gets none", func(t *testing.T) {
		st.Block(t, ada, bob)
		poll.Eventually(t, wait, func() error {
			if f := typingAnswer(ca, direct); f.Code != "blocked" {
				return fmt.Errorf("1:1 typing to a blacklisted friend: %s, want error blocked", f.Raw)
			}
			return nil
		})
		poll.Eventually(t, wait, func() error {
			if f := typingAnswer(cb2, direct); f.Code != "blocked" {
				return fmt.Errorf("typing to who blacklisted you: %s, want error blocked", f.Raw)
			}
			return nil
		})
		typing(ca, "g:"+g)
		ca.Send("g2", "group", g, "still here")
		if got := typingUntilMessage(t, cc, "still here"); len(got) != 1 || got[0].User != ada.ID {
			t.Fatalf("carol got typing %v, want one from ada", raws(got))
		}
		for _, c := range []*mstest.Client{cb2, cb3} {
			if got := typingUntilMessage(t, c, "still here"); len(got) != 0 {
				t.Fatalf("bob, blacklisted by ada, got typing %v", raws(got))
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		stranger := st.NewUser(t, "stranger")
		for _, tt := range []struct {
			name, frame, code string
		}{
			{"no conversation", `{"type":"typing"}`, "bad_frame"},
			{"malformed conversation", `{"type":"typing","conversation":"g:abc"}`, "bad_frame"},
			{"unknown group", `{"type":"typing","conversation":"g:1"}`, "no_such_target"},
			{"foreign 1:1", `{"type":"typing","conversation":"` + conv(bob, stranger) + `"}`, "not_member"},
			{"not friends", `{"type":"typing","conversation":"` + conv(carol, stranger) + `"}`, "not_friends"},
			{"subscription", `{"type":"typing","conversation":"s:1"}`, "bad_frame"},
			{"system", `{"type":"typing","conversation":"sys:` + carol.ID + `"}`, "bad_frame"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := cc.WS.WriteMessage(1, []byte(tt.frame)); err != nil {
					t.Fatal(err)
				}
				if f := cc.Await("error", wait); f.Code != tt.code {
					t.Fatalf("%s: got %s, want code %s", tt.frame, f.Raw, tt.code)
				}
			})
		}
	})
}

// TestTypingNotInLargeGroups: a group with more members than
// TYPING_MAX_MEMBERS gets no typing frames (here 2, for a group of 3).
func TestTypingNotInLargeGroups(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.TypingMaxMembers = 2
	n := st.StartNode(t, cfg)
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	g := st.NewFriendsGroup(t, ada, bob, carol)
	ca, cb := n.Dial(t, ada, ""), n.Dial(t, bob, "")
	n.Settle(t)
	typing(ca, "g:"+g)
	ca.Send("g1", "group", g, "hello")
	if got := typingUntilMessage(t, cb, "hello"); len(got) != 0 {
		t.Fatalf("a member of a group over the limit got typing %v", raws(got))
	}
	if f := ca.Await("sent", wait); f.Type != "sent" {
		t.Fatal(f.Raw)
	}
	for _, f := range ca.UntilPong(wait) {
		if f.Type == "error" {
			t.Fatalf("typing in a large group is dropped silently, got %s", f.Raw)
		}
	}
}

func raws(fs []mstest.Frame) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Raw)
	}
	return out
}
