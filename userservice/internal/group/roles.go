package group

// Action is something done to a group or one of its members; Can says
// which roles may do it. Other features (avatars, join requests) check
// their actions here too, so the table is the one place the rules live.
type Action string

// The actions.
const (
	ActRename         Action = "rename"
	ActSetAvatar      Action = "set_avatar"
	ActAnnounce       Action = "announce"
	ActAcceptRequest  Action = "accept_request"
	ActRemoveMember   Action = "remove_member"
	ActBanMember      Action = "ban_member"
	ActUnban          Action = "unban"
	ActMuteMember     Action = "mute_member"
	ActMuteAll        Action = "mute_all"
	ActSetRole        Action = "set_role"
	ActSetPolicy      Action = "set_policy"
	ActTransfer       Action = "transfer"
	ActDismiss        Action = "dismiss"
	ActSend           Action = "send"
	ActReadMembers    Action = "read_members"
	ActSetOwnNickname Action = "set_own_nickname"
)

// Actions lists every action, for tables and tests.
var Actions = []Action{
	ActRename, ActSetAvatar, ActAnnounce, ActAcceptRequest, ActRemoveMember, ActBanMember, ActUnban, ActMuteMember,
	ActMuteAll, ActSetRole, ActSetPolicy, ActTransfer, ActDismiss, ActSend, ActReadMembers, ActSetOwnNickname,
}

// minRole is the least role that may do each action.
var minRole = map[Action]Role{
	ActRename:         RoleAdmin,
	ActSetAvatar:      RoleAdmin,
	ActAnnounce:       RoleAdmin,
	ActAcceptRequest:  RoleAdmin,
	ActRemoveMember:   RoleAdmin,
	ActBanMember:      RoleAdmin,
	ActUnban:          RoleAdmin,
	ActMuteMember:     RoleAdmin,
	ActMuteAll:        RoleAdmin,
	ActSetRole:        RoleOwner,
	ActSetPolicy:      RoleAdmin,
	ActTransfer:       RoleOwner,
	ActDismiss:        RoleOwner,
	ActSend:           RoleMember,
	ActReadMembers:    RoleMember,
	ActSetOwnNickname: RoleMember,
}

// rank orders roles; "" (not a member) is below every role.
func rank(r Role) int {
	switch r {
	case RoleMember:
		return 1
	case RoleAdmin:
		return 2
	case RoleOwner:
		return 3
	}
	return 0
}

// Can reports whether a member with role r may do a. Unknown actions and
// non-members ("") may do nothing.
func Can(r Role, a Action) bool {
	need, ok := minRole[a]
	return ok && rank(r) > 0 && rank(r) >= rank(need)
}

// CanTarget reports whether a member with role actor may act on a member
// with role target (remove, ban, mute): only on those ranked below,
// so admins act on members, never on other admins or the owner.
func CanTarget(actor, target Role) bool { return rank(actor) > rank(target) && rank(target) > 0 }

// MinRole is the least role that may do a ("" for an unknown action).
func MinRole(a Action) Role { return minRole[a] }
