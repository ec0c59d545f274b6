// Server frames rendered from stored messages.

package chat

import (
	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// messageFrame renders a stored message.
func messageFrame(m Message, typ string) frame.Message {
	f := frame.Message{
		Type: typ, MsgID: frame.FormatID(m.ID), Conversation: m.Conversation, Seq: m.Seq,
		From: frame.FormatID(m.SenderID), Content: m.Content, TS: m.CreatedAt.UnixMilli(),
	}
	if c, err := conv.Parse(m.Conversation); err == nil {
		switch c.Kind {
		case conv.KindUser:
			peer := c.A
			if peer == m.SenderID {
				peer = c.B
			}
			f.To = frame.Target{Kind: "user", ID: frame.FormatID(peer)}
		case conv.KindGroup:
			f.To = frame.Target{Kind: "group", ID: frame.FormatID(c.A)}
		case conv.KindSubscription:
			f.To = frame.Target{Kind: "subscription", ID: frame.FormatID(c.A)}
		case conv.KindSystem:
			f.To = frame.Target{Kind: "user", ID: frame.FormatID(c.A)}
		}
	}
	if len(f.Content) == 0 {
		f.Content = []byte("null")
	}
	return f
}

func sentFrame(m Message) []byte {
	return frame.Marshal(frame.Sent{
		Type: "sent", ClientMsgID: m.ClientMsgID, MsgID: frame.FormatID(m.ID),
		Conversation: m.Conversation, Seq: m.Seq, TS: m.CreatedAt.UnixMilli(),
	})
}
