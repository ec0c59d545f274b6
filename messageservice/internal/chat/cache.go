package chat

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// relations caches the friendship rows of user pairs for ttl. Relation
// events drop the pair's entry, so the next send reads the DataService.
type relations struct {
	ttl time.Duration
	mu  sync.Mutex // guards m
	m   map[[2]int64]relEntry
}

type relEntry struct {
	loHi, hiLo Relation // what lo holds about hi, and hi about lo
	expires    time.Time
}

func (r *relations) get(ctx context.Context, st Store, a, b int64) (ab, ba Relation, err error) {
	lo, hi := min(a, b), max(a, b)
	key := [2]int64{lo, hi}
	r.mu.Lock()
	e, ok := r.m[key]
	r.mu.Unlock()
	if !ok || time.Now().After(e.expires) {
		if e.loHi, err = st.Friendship(ctx, lo, hi); err != nil && !errors.Is(err, ErrNotFound) {
			return ab, ba, err
		}
		if e.hiLo, err = st.Friendship(ctx, hi, lo); err != nil && !errors.Is(err, ErrNotFound) {
			return ab, ba, err
		}
		err = nil
		e.expires = time.Now().Add(r.ttl)
		r.mu.Lock()
		r.m[key] = e
		r.mu.Unlock()
	}
	if a == lo {
		return e.loHi, e.hiLo, nil
	}
	return e.hiLo, e.loHi, nil
}

func (r *relations) forget(a, b int64) {
	r.mu.Lock()
	delete(r.m, [2]int64{min(a, b), max(a, b)})
	r.mu.Unlock()
}

// groups holds the group nodes: each group's member set, loaded from the
// DataService on first use and after ttl, kept current by relation events.
//
// Locking: groups.mu guards the map only; a node's mu guards the node and
// is held while it loads, so an event waits for a load in flight and is
// applied on top of it. groups.mu is never held while taking a node's mu.
type groups struct {
	ttl   time.Duration
	mu    sync.Mutex
	nodes map[int64]*groupNode
}

type groupNode struct {
	mu        sync.Mutex
	loaded    time.Time // zero: load on next use
	missing   bool      // no such group
	dismissed bool
	members   map[int64]struct{}
	list      []int64 // the members; replaced, never changed in place
	lastUsed  time.Time
}

func (g *groups) node(id int64) *groupNode {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[id]
	if n == nil {
		n = &groupNode{}
		g.nodes[id] = n
	}
	return n
}

func (g *groups) cached(id int64) *groupNode {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nodes[id]
}

// members returns whether user is a member of group and every member (a
// slice the caller must not change). ErrNoSuchTarget for an unknown group.
func (g *groups) members(ctx context.Context, st Store, group, user int64) (bool, []int64, error) {
	n := g.node(group)
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	if n.loaded.IsZero() || now.Sub(n.loaded) > g.ttl {
		ids, dismissed, err := st.GroupMembers(ctx, group)
		switch {
		case errors.Is(err, ErrNotFound):
			n.missing, n.dismissed, n.members, n.list = true, false, nil, nil
		case err != nil:
			return false, nil, err
		default:
			n.missing, n.dismissed = false, dismissed
			n.members = make(map[int64]struct{}, len(ids))
			for _, id := range ids {
				n.members[id] = struct{}{}
			}
			n.list = slices.Clone(ids)
			if dismissed {
				n.members, n.list = nil, nil
			}
		}
		n.loaded = now
	}
	n.lastUsed = now
	if n.missing {
		return false, nil, ErrNoSuchTarget
	}
	_, ok := n.members[user]
	return ok, n.list, nil
}

// joined, left and dismissed apply relation events to a cached node.
func (g *groups) joined(group, user int64) {
	n := g.cached(group)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.missing || n.dismissed || n.loaded.IsZero() {
		n.loaded = time.Time{} // surprising: reread
		return
	}
	if _, ok := n.members[user]; !ok {
		n.members[user] = struct{}{}
		n.list = append(slices.Clone(n.list), user)
	}
}

func (g *groups) left(group, user int64) {
	n := g.cached(group)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.members[user]; ok {
		delete(n.members, user)
		n.list = slices.DeleteFunc(slices.Clone(n.list), func(id int64) bool { return id == user })
	}
}

func (g *groups) dismiss(group int64) {
	n := g.cached(group)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dismissed, n.members, n.list = true, nil, nil
	if n.loaded.IsZero() {
		n.loaded = time.Now()
	}
}
