package conversation

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/privateim/privateim/foundation/conv"
)

// Item is one conversation of the list as its user sees it.
type Item struct {
	Conversation string
	Kind         Kind
	Name, Avatar string
	Last         *LastMessage // nil: no message yet
	HeadSeq      int64
	// ReadSeq: the user's read seq, floored for a group at the member's
	// join seq (history "joined"), never past the head.
	ReadSeq int64
	// Unread: the messages from others after the read point that count
	// (not lifecycle events, not a group's system notices); the
	// DataService's count, never one over messages.
	Unread int64
	Muted  bool
	Pinned bool
	// Mentioned: a message the user has not read mentions them (by id or
	// mention_all).
	Mentioned bool
	activity  time.Time
}

// LastMessage is what the list shows of the last message.
type LastMessage struct {
	SenderID int64
	Kind     string
	Preview  string // at most PreviewRunes characters
	Seq      int64
	At       time.Time
}

// Page is a page of the list; Next is "" on the last one.
type Page struct {
	Items []Item
	Next  string
}

// Limits of the list.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// pageContent bounds the bytes of a last message read for a page's
	// previews: 100 characters of text are at most 400 bytes, plus the
	// JSON around them and escapes.
	pageContent = 2048
)

// entry is one conversation before it is named.
type entry struct {
	name   Name
	floor  int64 // first seq the user reads (groups with history "joined")
	state  State
	head   Head
	unread int64
}

// gather reads every conversation of the user with its state, head (no
// last message: the previews of a page are read apart) and unread count,
// in two rounds of DataService calls: the relations, then one
// GetUnreadPlus. Hidden ones (no message since they
// were hidden) and 1:1s and system conversations without messages are
// left out.
func (s *Service) gather(ctx context.Context, user int64) ([]entry, error) {
	es, qs, err := s.queries(ctx, user)
	if err != nil {
		return nil, err
	}
	got, err := s.store.Entries(ctx, user, qs)
	if err != nil {
		return nil, fmt.Errorf("entries of %d conversations: %w", len(qs), err)
	}
	out := es[:0]
	for i, e := range es {
		e.head, e.state, e.unread = got[i].Head, got[i].State, got[i].Unread
		if e.head.HeadSeq == 0 && (e.name.Kind == conv.KindUser || e.name.Kind == conv.KindSystem) {
			continue
		}
		if e.state.HiddenSeq > 0 && e.head.HeadSeq <= e.state.HiddenSeq {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// queries reads the relations of user (friends, groups, subscriptions, in
// parallel) and names every conversation the user may have, with the
// query of each.
func (s *Service) queries(ctx context.Context, user int64) ([]entry, []EntryQuery, error) {
	var (
		wg                 sync.WaitGroup
		friends, following []int64
		groups             []Membership
		errF, errG, errS   error
	)
	wg.Go(func() { friends, errF = s.store.FriendIDs(ctx, user) })
	wg.Go(func() { groups, errG = s.store.Memberships(ctx, user) })
	wg.Go(func() { following, errS = s.store.FollowingIDs(ctx, user) })
	wg.Wait()
	for _, err := range []error{errF, errG, errS} {
		if err != nil {
			return nil, nil, fmt.Errorf("conversations of %d: %w", user, err)
		}
	}
	es := make([]entry, 0, len(friends)+len(groups)+len(following)+1)
	for _, f := range friends {
		es = append(es, entry{name: Direct(user, f)})
	}
	for _, m := range groups {
		e := entry{name: conv.Group(m.GroupID)}
		if !m.HistoryAll {
			e.floor = m.JoinSeq
		}
		es = append(es, e)
	}
	for _, id := range following {
		es = append(es, entry{name: conv.Subscription(id)})
	}
	es = append(es, entry{name: conv.System(user)})
	qs := make([]EntryQuery, len(es))
	for i, e := range es {
		qs[i] = EntryQuery{Conversation: e.name.String(), FloorSeq: e.floor}
	}
	return es, qs, nil
}

// item is e without its name and preview.
func (e entry) item() Item {
	read := min(max(e.state.ReadSeq, e.floor), e.head.HeadSeq)
	it := Item{
		Conversation: e.name.String(), Kind: kindOf(e.name.Kind), HeadSeq: e.head.HeadSeq, ReadSeq: read,
		Unread: e.unread, Muted: e.state.Muted, Pinned: e.state.Pinned, activity: e.head.UpdatedAt,
		Mentioned: e.state.MentionSeq > read,
	}
	return it
}

// before orders the list: pinned first, then the latest activity, then by name.
func before(a, b Item) int {
	if a.Pinned != b.Pinned {
		if a.Pinned {
			return -1
		}
		return 1
	}
	if c := b.activity.Compare(a.activity); c != 0 {
		return c
	}
	return cmp.Compare(a.Conversation, b.Conversation)
}

// cursor is where a page ends: the sort key of its last item.
type cursor struct {
	Pinned bool   `json:"p"`
	At     int64  `json:"t"` // unix ns of the activity
	Conv   string `json:"c"`
}

func encodeCursor(it Item) string {
	b, _ := json.Marshal(cursor{Pinned: it.Pinned, At: it.activity.UnixNano(), Conv: it.Conversation})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (Item, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || len(s) > 512 || json.Unmarshal(b, &c) != nil || c.Conv == "" {
		return Item{}, ErrBadCursor
	}
	if _, err := ParseName(c.Conv); err != nil {
		return Item{}, ErrBadCursor
	}
	return Item{Pinned: c.Pinned, activity: time.Unix(0, c.At), Conversation: c.Conv}, nil
}

// List returns a page of user's conversations after cursor ("" for the
// first page): 400 limit out of 1..MaxLimit, 400 cursor for one it did
// not hand out.
func (s *Service) List(ctx context.Context, user int64, limit int, cur string) (Page, error) {
	var after *Item
	if cur != "" {
		it, err := decodeCursor(cur)
		if err != nil {
			return Page{}, err
		}
		after = &it
	}
	es, err := s.gather(ctx, user)
	if err != nil {
		return Page{}, err
	}
	items := make([]Item, len(es))
	byConv := make(map[string]entry, len(es))
	for i, e := range es {
		items[i] = e.item()
		byConv[items[i].Conversation] = e
	}
	slices.SortFunc(items, before)
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(items, *after, before)
		if start < len(items) && before(items[start], *after) == 0 {
			start++
		}
	}
	end := min(start+limit, len(items))
	page := Page{Items: items[start:end]}
	if end < len(items) && end > start {
		page.Next = encodeCursor(items[end-1])
	}
	if err := s.name(ctx, user, page.Items, byConv); err != nil {
		return Page{}, err
	}
	return page, nil
}

// name fills in the names, avatars and last messages of items.
func (s *Service) name(ctx context.Context, user int64, items []Item, byConv map[string]entry) error {
	var users, groups, subs []int64
	var convs []string
	for _, it := range items {
		e := byConv[it.Conversation]
		switch e.name.Kind {
		case conv.KindUser:
			peer := e.name.A
			if peer == user {
				peer = e.name.B
			}
			users = append(users, peer)
		case conv.KindGroup:
			groups = append(groups, e.name.A)
		case conv.KindSubscription:
			subs = append(subs, e.name.A)
		}
		if e.head.HeadSeq > 0 {
			convs = append(convs, it.Conversation)
		}
	}
	var (
		wg                     sync.WaitGroup
		un, sn                 map[int64]Named
		gn                     map[int64]GroupInfo
		heads                  []Head
		errU, errG, errS, errH error
	)
	if len(users) > 0 {
		wg.Go(func() { un, errU = s.store.UserNames(ctx, users) })
	}
	if len(groups) > 0 {
		wg.Go(func() { gn, errG = s.store.GroupInfos(ctx, groups) })
	}
	if len(subs) > 0 {
		wg.Go(func() { sn, errS = s.store.SubscriptionNames(ctx, subs) })
	}
	if len(convs) > 0 {
		wg.Go(func() { heads, errH = s.store.Heads(ctx, convs, pageContent) })
	}
	wg.Wait()
	for _, err := range []error{errU, errG, errS, errH} {
		if err != nil {
			return fmt.Errorf("name the conversations: %w", err)
		}
	}
	last := make(map[string]*Message, len(heads))
	for _, h := range heads {
		last[h.Conversation] = h.Last
	}
	for i := range items {
		it := &items[i]
		e := byConv[it.Conversation]
		switch e.name.Kind {
		case conv.KindUser:
			peer := e.name.A
			if peer == user {
				peer = e.name.B
			}
			n := un[peer]
			it.Name, it.Avatar = n.Name, n.Avatar
		case conv.KindGroup:
			n := gn[e.name.A]
			it.Name, it.Avatar = n.Name, n.Avatar
		case conv.KindSubscription:
			n := sn[e.name.A]
			it.Name, it.Avatar = n.Name, n.Avatar
		case conv.KindSystem:
			it.Name = "System"
		}
		if m := last[it.Conversation]; m != nil {
			it.Last = &LastMessage{SenderID: m.SenderID, Kind: m.Kind, Preview: Preview(m.Kind, m.Content), Seq: m.Seq, At: m.CreatedAt}
		}
	}
	return nil
}

// Unread is the total unread of user's conversations that are neither
// muted nor hidden.
// The DataService sums the counts (GetUnreadPlus total_only): a
// conversation without messages has none, so the list's other filters do
// not change the sum.
func (s *Service) Unread(ctx context.Context, user int64) (int64, error) {
	_, qs, err := s.queries(ctx, user)
	if err != nil {
		return 0, err
	}
	n, err := s.store.UnreadTotal(ctx, user, qs)
	if err != nil {
		return 0, fmt.Errorf("unread total of %d conversations: %w", len(qs), err)
	}
	return n, nil
}
