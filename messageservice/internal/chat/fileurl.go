// The rule on the urls of image and file messages: they point at this
// deployment's file store.

package chat

import (
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// checkFileURL refuses a message whose url or thumbnail is not a chat
// file URL under Options.Files (foundation/fileurl: the base, then
// files/<id>/<name>?exp=&sig=), so that a message can never make the
// receivers' apps fetch from a host the sender chose (tracking pixels,
// phishing pages, internal addresses). The signature is the file store's
// to check, when the file is fetched. A forward's urls are the original's,
// checked when it was sent.
func (s *Service) checkFileURL(f *frame.Send) error {
	fields, urls := f.Content.URLs()
	for i, u := range urls {
		if err := s.opt.Files.Check(u); err != nil {
			return &frame.Error{Code: frame.CodeBadFrame, ClientMsgID: f.ClientMsgID,
				Message: fields[i] + ": must be a file URL of this deployment (" + s.opt.Files.String() + "files/...), as POST /api/v1/files returned it"}
		}
	}
	return nil
}
