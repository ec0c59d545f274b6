// The relation cache (friendship rows) and the group and subscription nodes
// (member and follower sets) with their pruning.

package chat

import (
	"container/list"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

// relations caches the friendship rows of user pairs for ttl, at most max
// pairs: the least recently used pair is forgotten first, so that sends to
// ids a client made up cannot grow it. Relation events drop the pair's
// entry, so the next send reads the DataService.
type relations struct {
	ttl time.Duration
	max int
	mu  lockorder.Mutex            // rank Leaf; guards m and lru
	m   map[[2]int64]*list.Element // of *relEntry
	lru *list.List                 // front: most recently used
}

type relEntry struct {
	key        [2]int64
	loHi, hiLo Relation // what lo holds about hi, and hi about lo
	expires    time.Time
}

// defaultRelationCache is the bound of the relation cache when the
// Options set none: 100,000 pairs, about 20 MB.
const defaultRelationCache = 100_000

func newRelations(ttl time.Duration, max int) relations {
	if max < 1 {
		max = defaultRelationCache
	}
	return relations{ttl: ttl, max: max, mu: lockorder.Mutex{Rank: lockorder.Leaf}, m: make(map[[2]int64]*list.Element), lru: list.New()}
}

func (r *relations) get(ctx context.Context, st Store, a, b int64) (ab, ba Relation, err error) {
	lo, hi := min(a, b), max(a, b)
	key := [2]int64{lo, hi}
	var e relEntry
	r.mu.Lock()
	el, ok := r.m[key]
	if ok {
		r.lru.MoveToFront(el)
		e = *el.Value.(*relEntry)
	}
	r.mu.Unlock()
	if !ok || time.Now().After(e.expires) {
		if e.loHi, err = st.Friendship(ctx, lo, hi); err != nil && !errors.Is(err, ErrNotFound) {
			return ab, ba, err
		}
		if e.hiLo, err = st.Friendship(ctx, hi, lo); err != nil && !errors.Is(err, ErrNotFound) {
			return ab, ba, err
		}
		err = nil
		e.key, e.expires = key, time.Now().Add(r.ttl)
		r.put(e)
	}
	if a == lo {
		return e.loHi, e.hiLo, nil
	}
	return e.hiLo, e.loHi, nil
}

// put stores e as the most recently used, forgetting the least recently
// used pair when full.
func (r *relations) put(e relEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.m[e.key]; ok {
		*el.Value.(*relEntry) = e
		r.lru.MoveToFront(el)
		return
	}
	if r.lru.Len() >= r.max {
		old := r.lru.Back()
		r.lru.Remove(old)
		delete(r.m, old.Value.(*relEntry).key)
	}
	r.m[e.key] = r.lru.PushFront(&e)
}

func (r *relations) forget(a, b int64) {
	key := [2]int64{min(a, b), max(a, b)}
	r.mu.Lock()
	if el, ok := r.m[key]; ok {
		r.lru.Remove(el)
		delete(r.m, key)
	}
	r.mu.Unlock()
}

// clear forgets every pair.
func (r *relations) clear() {
	r.mu.Lock()
	clear(r.m)
	r.lru.Init()
	r.mu.Unlock()
}

func (r *relations) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Len()
}

// nodes holds membership nodes — group nodes (members) or subscription
// nodes (followers) — each loaded from the DataService on first use and
// after ttl, reloaded when a relation event names it, and pruned by age and
// activity (Prune). A relation event makes a node load again (forget).
//
// Locking: nodes.mu guards the map only; a node's mu guards the node and
// is held while it loads, so an event waits for a load in flight and is
// applied on top of it. nodes.mu is never held while taking a node's mu
// (drop takes them the other way round).
//
// An id the DataService does not know is not kept (drop), so that frames
// naming made-up group ids do not grow the map; what is kept is bounded
// by the groups that exist and pruned by Prune.
type nodes struct {
	ttl  time.Duration
	now  func() time.Time
	load func(ctx context.Context, id int64) (Roster, error)
	mu   sync.Mutex
	m    map[int64]*memberNode
}

type memberNode struct {
	created time.Time // when the node was made (its age for pruning)
	hits    int64     // uses since created (its activity for pruning)

	mu      sync.Mutex
	loaded  time.Time // zero: load on next use
	missing bool      // no such group or subscription
	gone    bool      // dismissed or deleted: nobody is a member
	members map[int64]struct{}
	list    []int64 // the members; replaced, never changed in place
	mod     Roster  // the moderation fields of the last load (groups)
}

func newNodes(ttl time.Duration, now func() time.Time, load func(context.Context, int64) (Roster, error)) nodes {
	return nodes{ttl: ttl, now: now, load: load, m: make(map[int64]*memberNode)}
}

func (g *nodes) node(id int64) *memberNode {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.m[id]
	if n == nil {
		n = &memberNode{created: g.now()}
		g.m[id] = n
	}
	n.hits++
	return n
}

func (g *nodes) cached(id int64) *memberNode {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[id]
}

func (g *nodes) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}

// members returns whether user is a member of id and every member (a
// slice the caller must not change). ErrNoSuchTarget for an unknown id.
func (g *nodes) members(ctx context.Context, id, user int64) (bool, []int64, error) {
	n := g.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := g.loadLocked(ctx, id, n); err != nil {
		return false, nil, err
	}
	if n.missing {
		return false, nil, ErrNoSuchTarget
	}
	_, ok := n.members[user]
	return ok, n.list, nil
}

// sender returns every member of group id when user may send to it now:
// ErrNotMember when user is none, a *MutedError when muted (by mute all,
// unless an owner or admin, or on their own).
func (g *nodes) sender(ctx context.Context, id, user int64, now time.Time) ([]int64, error) {
	n := g.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := g.loadLocked(ctx, id, n); err != nil {
		return nil, err
	}
	if n.missing {
		return nil, ErrNoSuchTarget
	}
	if _, ok := n.members[user]; !ok {
		return nil, ErrNotMember
	}
	if until, ok := n.mod.MutedUntil[user]; ok && now.Before(until) {
		return nil, &MutedError{Until: until}
	}
	if n.mod.MuteAll && !n.mod.Privileged[user] {
		return nil, &MutedError{}
	}
	return n.list, nil
}

// readFrom returns whether user is a member of group id and the first seq
// they may read (0: all). A member whose join seq is not known here (joined
// since the load) makes the node load again.
func (g *nodes) readFrom(ctx context.Context, id, user int64) (bool, int64, error) {
	n := g.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := g.loadLocked(ctx, id, n); err != nil {
		return false, 0, err
	}
	if _, ok := n.members[user]; ok && n.mod.ReadFrom != nil {
		if _, known := n.mod.ReadFrom[user]; !known {
			n.loaded = time.Time{}
			if err := g.loadLocked(ctx, id, n); err != nil {
				return false, 0, err
			}
		}
	}
	if n.missing {
		return false, 0, ErrNoSuchTarget
	}
	_, ok := n.members[user]
	return ok, n.mod.ReadFrom[user], nil
}

// forget makes node id, when cached, load again on its next use: its
// group changed, or a relation event named it.
func (g *nodes) forget(id int64) {
	if n := g.cached(id); n != nil {
		n.mu.Lock()
		n.loaded = time.Time{}
		n.mu.Unlock()
	}
}

// list returns every member of id; ErrNoSuchTarget when id is unknown or
// gone (dismissed, deleted).
func (g *nodes) list(ctx context.Context, id int64) ([]int64, error) {
	n := g.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := g.loadLocked(ctx, id, n); err != nil {
		return nil, err
	}
	if n.missing || n.gone {
		return nil, ErrNoSuchTarget
	}
	return n.list, nil
}

func (g *nodes) loadLocked(ctx context.Context, id int64, n *memberNode) error {
	now := time.Now()
	if !n.loaded.IsZero() && now.Sub(n.loaded) <= g.ttl {
		return nil
	}
	r, err := g.load(ctx, id)
	ids, gone := r.Members, r.Gone
	switch {
	case errors.Is(err, ErrNotFound):
		n.missing, n.gone, n.members, n.list = true, false, nil, nil
		// No negative caching: ids a client made up must not stay. Who
		// holds n still sees it missing; the next use loads again.
		g.drop(id, n)
	case err != nil:
		return err
	default:
		n.missing, n.gone = false, gone
		n.members = make(map[int64]struct{}, len(ids))
		for _, id := range ids {
			n.members[id] = struct{}{}
		}
		n.list = slices.Clone(ids)
		if gone {
			n.members, n.list = nil, nil
		}
		n.mod = Roster{MuteAll: r.MuteAll, Privileged: r.Privileged, MutedUntil: r.MutedUntil, ReadFrom: r.ReadFrom}
	}
	n.loaded = now
	return nil
}

// drop forgets node n of id unless another replaced it. It takes g.mu
// under n.mu: the one place the two are held together, in this order.
func (g *nodes) drop(id int64, n *memberNode) {
	g.mu.Lock()
	if g.m[id] == n {
		delete(g.m, id)
	}
	g.mu.Unlock()
}

// stale makes every node load again on its next use.
func (g *nodes) stale() {
	g.mu.Lock()
	ns := make([]*memberNode, 0, len(g.m))
	for _, n := range g.m {
		ns = append(ns, n)
	}
	g.mu.Unlock()
	for _, n := range ns {
		n.mu.Lock()
		n.loaded = time.Time{}
		n.mu.Unlock()
	}
}

// PruneOptions say which cached nodes a pruning drops.
type PruneOptions struct {
	MaxAge   time.Duration // nodes made longer ago than this; 0: none by age
	MaxNodes int           // when more than this many are cached (after the age cut) ...
	Percent  int           // ... this percentage of them, the least active first
}

// prune drops nodes older than MaxAge, then, when more than MaxNodes
// remain, the least active Percent of them. It returns how many it
// dropped. A dropped node is made again, empty, on its next use.
func (g *nodes) prune(now time.Time, o PruneOptions) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	dropped := 0
	if o.MaxAge > 0 {
		for id, n := range g.m {
			if now.Sub(n.created) > o.MaxAge {
				delete(g.m, id)
				dropped++
			}
		}
	}
	if o.MaxNodes > 0 && len(g.m) > o.MaxNodes && o.Percent > 0 {
		type entry struct {
			id   int64
			hits int64
			made time.Time
		}
		es := make([]entry, 0, len(g.m))
		for id, n := range g.m {
			es = append(es, entry{id, n.hits, n.created})
		}
		slices.SortFunc(es, func(a, b entry) int {
			if a.hits != b.hits {
				return cmpInt(a.hits, b.hits)
			}
			return a.made.Compare(b.made)
		})
		k := len(es) * min(o.Percent, 100) / 100
		for _, e := range es[:k] {
			delete(g.m, e.id)
			dropped++
		}
	}
	return dropped
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
