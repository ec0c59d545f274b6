// ApiClient is a small typed client of the HTTP APIs: the userservice's
// (accounts, friends, groups, conversations, files, following) and the
// subscriptionservice's (subscription accounts, articles, review). Each
// route is named by its OpenAPI operationId in ROUTES; test/drift.test.ts
// checks every entry against the two openapi.yaml files, so a renamed or
// removed route fails the tests.

import type { ConversationName, ID } from "./frames.js";

export type Service = "user" | "subscription";
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Route {
  service: Service;
  method: Method;
  path: string;
}

/** Every /api route of both services, by operationId. */
export const ROUTES = {
  signUp: { service: "user", method: "POST", path: "/api/v1/auth/signup" },
  signIn: { service: "user", method: "POST", path: "/api/v1/auth/signin" },
  forgotPassword: { service: "user", method: "POST", path: "/api/v1/auth/password/forgot" },
  resetPassword: { service: "user", method: "POST", path: "/api/v1/auth/password/reset" },
  verifyEmail: { service: "user", method: "POST", path: "/api/v1/auth/email/verify" },
  resendVerification: { service: "user", method: "POST", path: "/api/v1/auth/email/resend" },
  getMe: { service: "user", method: "GET", path: "/api/v1/me" },
  patchMe: { service: "user", method: "PATCH", path: "/api/v1/me" },
  deleteMe: { service: "user", method: "DELETE", path: "/api/v1/me" },
  changePassword: { service: "user", method: "PUT", path: "/api/v1/me/password" },
  putAvatar: { service: "user", method: "PUT", path: "/api/v1/me/avatar" },
  getMyQRCode: { service: "user", method: "GET", path: "/api/v1/me/qrcode" },
  uploadFile: { service: "user", method: "POST", path: "/api/v1/files" },
  parseQRCode: { service: "user", method: "POST", path: "/api/v1/qrcode/parse" },
  searchUsers: { service: "user", method: "GET", path: "/api/v1/users/search" },
  getUser: { service: "user", method: "GET", path: "/api/v1/users/{id}" },
  requestFriend: { service: "user", method: "POST", path: "/api/v1/friends/requests" },
  listFriendRequests: { service: "user", method: "GET", path: "/api/v1/friends/requests" },
  acceptFriendRequest: { service: "user", method: "POST", path: "/api/v1/friends/requests/{user_id}/accept" },
  rejectFriendRequest: { service: "user", method: "POST", path: "/api/v1/friends/requests/{user_id}/reject" },
  listFriends: { service: "user", method: "GET", path: "/api/v1/friends" },
  setFriendNote: { service: "user", method: "PATCH", path: "/api/v1/friends/{user_id}" },
  deleteFriend: { service: "user", method: "DELETE", path: "/api/v1/friends/{user_id}" },
  listBlacklist: { service: "user", method: "GET", path: "/api/v1/blacklist" },
  blacklistUser: { service: "user", method: "PUT", path: "/api/v1/blacklist/{user_id}" },
  unblacklistUser: { service: "user", method: "DELETE", path: "/api/v1/blacklist/{user_id}" },
  createGroup: { service: "user", method: "POST", path: "/api/v1/groups" },
  listMyGroups: { service: "user", method: "GET", path: "/api/v1/groups" },
  searchGroups: { service: "user", method: "GET", path: "/api/v1/groups/search" },
  putGroupAvatar: { service: "user", method: "PUT", path: "/api/v1/groups/{id}/avatar" },
  getGroupAvatar: { service: "user", method: "GET", path: "/api/v1/groups/{id}/avatar" },
  getGroup: { service: "user", method: "GET", path: "/api/v1/groups/{id}" },
  renameGroup: { service: "user", method: "PATCH", path: "/api/v1/groups/{id}" },
  dismissGroup: { service: "user", method: "DELETE", path: "/api/v1/groups/{id}" },
  joinGroup: { service: "user", method: "POST", path: "/api/v1/groups/{id}/join" },
  quitGroup: { service: "user", method: "POST", path: "/api/v1/groups/{id}/quit" },
  listGroupMembers: { service: "user", method: "GET", path: "/api/v1/groups/{id}/members" },
  removeGroupMember: { service: "user", method: "DELETE", path: "/api/v1/groups/{id}/members/{user_id}" },
  setGroupMemberRole: { service: "user", method: "PUT", path: "/api/v1/groups/{id}/members/{user_id}/role" },
  muteGroupMember: { service: "user", method: "PUT", path: "/api/v1/groups/{id}/members/{user_id}/mute" },
  unmuteGroupMember: { service: "user", method: "DELETE", path: "/api/v1/groups/{id}/members/{user_id}/mute" },
  muteAllGroup: { service: "user", method: "PUT", path: "/api/v1/groups/{id}/mute_all" },
  setGroupAnnouncement: { service: "user", method: "PUT", path: "/api/v1/groups/{id}/announcement" },
  listMyJoinRequests: { service: "user", method: "GET", path: "/api/v1/groups/requests" },
  setGroupAccess: { service: "user", method: "PATCH", path: "/api/v1/groups/{id}/access" },
  inviteToGroup: { service: "user", method: "POST", path: "/api/v1/groups/{id}/invites" },
  listGroupJoinRequests: { service: "user", method: "GET", path: "/api/v1/groups/{id}/requests" },
  cancelGroupJoinRequest: { service: "user", method: "DELETE", path: "/api/v1/groups/{id}/requests/{user_id}" },
  acceptGroupJoinRequest: { service: "user", method: "POST", path: "/api/v1/groups/{id}/requests/{user_id}/accept" },
  rejectGroupJoinRequest: { service: "user", method: "POST", path: "/api/v1/groups/{id}/requests/{user_id}/reject" },
  listGroupBans: { service: "user", method: "GET", path: "/api/v1/groups/{id}/bans" },
  unbanGroupMember: { service: "user", method: "DELETE", path: "/api/v1/groups/{id}/bans/{user_id}" },
  transferGroup: { service: "user", method: "PUT", path: "/api/v1/groups/{id}/owner" },
  setGroupNickname: { service: "user", method: "PATCH", path: "/api/v1/groups/{id}/me" },
  getGroupQRCode: { service: "user", method: "GET", path: "/api/v1/groups/{id}/qrcode" },
  searchSubscriptions: { service: "user", method: "GET", path: "/api/v1/subscriptions/search" },
  listFollowing: { service: "user", method: "GET", path: "/api/v1/subscriptions/following" },
  follow: { service: "user", method: "POST", path: "/api/v1/subscriptions/{id}/follow" },
  unfollow: { service: "user", method: "DELETE", path: "/api/v1/subscriptions/{id}/follow" },
  listConversations: { service: "user", method: "GET", path: "/api/v1/conversations" },
  unreadTotal: { service: "user", method: "GET", path: "/api/v1/conversations/unread" },
  updateConversation: { service: "user", method: "PATCH", path: "/api/v1/conversations/{conversation}" },
  markRead: { service: "user", method: "POST", path: "/api/v1/conversations/{conversation}/read" },
  listReaders: { service: "user", method: "GET", path: "/api/v1/conversations/{conversation}/messages/{seq}/readers" },
  createSubscription: { service: "subscription", method: "POST", path: "/api/v1/subscriptions" },
  listMySubscriptions: { service: "subscription", method: "GET", path: "/api/v1/subscriptions/mine" },
  getSubscription: { service: "subscription", method: "GET", path: "/api/v1/subscriptions/{id}" },
  updateSubscription: { service: "subscription", method: "PATCH", path: "/api/v1/subscriptions/{id}" },
  deleteSubscription: { service: "subscription", method: "DELETE", path: "/api/v1/subscriptions/{id}" },
  setSubscriptionAvatar: { service: "subscription", method: "PUT", path: "/api/v1/subscriptions/{id}/avatar" },
  getSubscriptionQRCode: { service: "subscription", method: "GET", path: "/api/v1/subscriptions/{id}/qrcode" },
  setSubscriptionOwner: { service: "subscription", method: "PUT", path: "/api/v1/subscriptions/{id}/owner" },
  listSubscriptionFollowers: { service: "subscription", method: "GET", path: "/api/v1/subscriptions/{id}/followers" },
  createArticle: { service: "subscription", method: "POST", path: "/api/v1/subscriptions/{id}/articles" },
  listArticles: { service: "subscription", method: "GET", path: "/api/v1/subscriptions/{id}/articles" },
  getArticle: { service: "subscription", method: "GET", path: "/api/v1/subscriptions/{id}/articles/{aid}" },
  editArticle: { service: "subscription", method: "PUT", path: "/api/v1/subscriptions/{id}/articles/{aid}" },
  deleteArticle: { service: "subscription", method: "DELETE", path: "/api/v1/subscriptions/{id}/articles/{aid}" },
  submitArticle: { service: "subscription", method: "POST", path: "/api/v1/subscriptions/{id}/articles/{aid}/submit" },
  publishArticle: { service: "subscription", method: "POST", path: "/api/v1/subscriptions/{id}/articles/{aid}/publish" },
  reviewQueue: { service: "subscription", method: "GET", path: "/api/v1/review/queue" },
  approveArticle: { service: "subscription", method: "POST", path: "/api/v1/review/articles/{aid}/approve" },
  rejectArticle: { service: "subscription", method: "POST", path: "/api/v1/review/articles/{aid}/reject" },
} as const satisfies Record<string, Route>;

export type Operation = keyof typeof ROUTES;

// ------------------------------------------------------------------ types
// The schemas of userservice/internal/httpapi/openapi.yaml the app reads.

export interface Me {
  id: ID;
  email: string;
  email_verified: boolean;
  name: string;
  mobile: string;
  gender: "" | "male" | "female" | "other";
  avatar: string;
  created_at: string;
  updated_at: string;
  last_seen_visibility: "everyone" | "friends" | "nobody";
}
export interface Auth {
  token: string;
  user: Me;
}
export interface User {
  id: ID;
  name: string;
  avatar: string;
  friend: boolean;
  mobile?: string;
  gender?: string;
  note?: string;
  last_seen?: number;
}
export interface Friend extends User {
  blacklisted: boolean;
  since: string;
}
export interface FriendRequest {
  direction: "incoming" | "outgoing";
  user: User;
  message: string;
  note?: string;
  created_at: string;
}
export interface RequestResult {
  status: "pending" | "accepted";
  user: User;
}
export interface Group {
  id: ID;
  name: string;
  owner_id: ID;
  avatar: string;
  member_count: number;
  created_at: string;
  updated_at: string;
  join_policy: "open" | "approval" | "invite";
  history: "joined" | "all";
  invite_needs_approval: boolean;
  mute_all: boolean;
  announcement: { text: string; author_id: ID; at: string } | null;
}
export interface Member {
  group_id: ID;
  user_id: ID;
  user?: { id: ID; name: string; avatar: string };
  nickname: string;
  role: "owner" | "admin" | "member";
  joined_at: string;
  join_seq: number;
  muted_until?: string;
}
export interface Conversation {
  conversation: ConversationName;
  kind: "user" | "group" | "subscription" | "system";
  name: string;
  avatar: string;
  last_message: { sender: string; kind: string; preview: string; seq: number; ts: number } | null;
  head_seq: number;
  read_seq: number;
  unread: number;
  muted: boolean;
  pinned: boolean;
  mentioned: boolean;
}
export interface JoinRequest {
  group_id: ID;
  user_id: ID;
  kind: "request" | "invite";
  inviter_id?: ID;
  state: "pending" | "accepted" | "rejected" | "cancelled";
  created_at: string;
  updated_at: string;
}
export interface Subscription {
  id: ID;
  name: string;
  intro: string;
  avatar: string;
  follower_count: number;
  created_at: string;
}
/** A subscription account as the subscriptionservice shows it (its owner's side). */
export interface SubscriptionAccount {
  id: ID;
  name: string;
  intro: string;
  owner_id: ID;
  avatar_url: string;
  follower_count: number;
  created_at: string;
  updated_at: string;
}
export interface Article {
  id: ID;
  subscription_id: ID;
  author_id: ID;
  title: string;
  body: string;
  cover_url: string;
  state: "draft" | "in_review" | "approved" | "rejected" | "published" | "withdrawn";
  reject_reason?: string;
  reviewer_id?: ID;
  pushed: boolean;
  created_at: string;
  updated_at: string;
  published_at?: string;
}
export interface ArticleInput {
  title: string;
  body?: string;
  cover_url?: string;
}
export interface UploadedFile {
  url: string;
  name: string;
  size: number;
  mime: string;
}
export interface Page {
  next_page_token: string;
}
export interface PageQuery {
  limit?: number;
  page_token?: string;
}

/** An error answer: `{"error":{"code","message","field"}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds, from Retry-After on 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ApiOptions {
  /** The userservice's base URL ("" for the page's own origin behind the gateway), e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** The subscriptionservice's base URL; default baseUrl (one origin behind the gateway). */
  subscriptionBaseUrl?: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Path parameters: {id}, {user_id}, {conversation}, ... */
  params?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body, or FormData for uploads. */
  body?: unknown;
}

export class ApiClient {
  token: string | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: ApiOptions) {
    this.token = options.token;
    const f = options.fetch ?? globalThis.fetch;
    if (!f) throw new Error("ApiClient: no fetch in this environment; pass one");
    this.fetchFn = f.bind(globalThis);
  }

  /** The URL of a route with its path parameters and query filled in. */
  url(op: Operation, o: CallOptions = {}): string {
    const r: Route = ROUTES[op];
    const base = r.service === "subscription" ? (this.options.subscriptionBaseUrl ?? this.options.baseUrl) : this.options.baseUrl;
    const path = r.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
      const v = o.params?.[name];
      if (v === undefined) throw new Error(`${op}: path parameter ${name} missing`);
      return encodeURIComponent(String(v));
    });
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return base.replace(/\/$/, "") + path + (qs ? "?" + qs : "");
  }

  /** Calls a route; resolves with the decoded JSON (undefined for 204), throws ApiError for an error answer. */
  async call<T>(op: Operation, o: CallOptions = {}): Promise<T> {
    const r: Route = ROUTES[op];
    const headers: Record<string, string> = {};
    if (this.token) headers["Authorization"] = `Bearer ${this.token}`;
    let body: BodyInit | undefined;
    if (o.body instanceof FormData) {
      body = o.body;
    } else if (o.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(o.body);
    }
    const res = await this.fetchFn(this.url(op, o), { method: r.method, headers, body });
    const text = await res.text();
    if (!res.ok) {
      let e: { code?: string; message?: string; field?: string } = {};
      try {
        e = (JSON.parse(text) as { error?: typeof e }).error ?? {};
      } catch {
        // not the JSON error shape (a proxy's page): keep the status
      }
      const ra = res.headers.get("Retry-After");
      throw new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? (text.slice(0, 200) || res.statusText), e.field, ra ? Number(ra) : undefined);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // ------------------------------------------------------------ auth, me
  async signUp(name: string, email: string, password: string): Promise<Auth> {
    const a = await this.call<Auth>("signUp", { body: { name, email, password } });
    this.token = a.token;
    return a;
  }
  async signIn(email: string, password: string): Promise<Auth> {
    const a = await this.call<Auth>("signIn", { body: { email, password } });
    this.token = a.token;
    return a;
  }
  signOut(): void {
    this.token = undefined;
  }
  forgotPassword(email: string): Promise<void> {
    return this.call("forgotPassword", { body: { email } });
  }
  resetPassword(token: string, password: string): Promise<void> {
    return this.call("resetPassword", { body: { token, password } });
  }
  me(): Promise<Me> {
    return this.call("getMe");
  }
  updateMe(patch: Partial<Pick<Me, "name" | "mobile" | "gender" | "last_seen_visibility">>): Promise<Me> {
    return this.call("patchMe", { body: patch });
  }
  /** Revokes every token of the user (their sockets close with 4003): sign in again after. */
  changePassword(old_password: string, password: string): Promise<void> {
    return this.call("changePassword", { body: { old_password, password } });
  }
  putAvatar(file: Blob, name = "avatar"): Promise<{ avatar_url: string }> {
    return this.call("putAvatar", { body: form("avatar", file, name) });
  }
  /** Uploads a chat file; its url is what an image or file message carries. */
  uploadFile(file: Blob, name = "file"): Promise<UploadedFile> {
    return this.call("uploadFile", { body: form("file", file, name) });
  }

  // ------------------------------------------------------ users, friends
  searchUsers(q: string, page: PageQuery = {}): Promise<{ users: User[] } & Page> {
    return this.call("searchUsers", { query: { q, ...page } });
  }
  user(id: ID): Promise<User> {
    return this.call("getUser", { params: { id } });
  }
  requestFriend(user_id: ID, opts: { note?: string; message?: string } = {}): Promise<RequestResult> {
    return this.call("requestFriend", { body: { user_id, ...opts } });
  }
  friendRequests(direction?: "incoming" | "outgoing", page: PageQuery = {}): Promise<{ requests: FriendRequest[] } & Page> {
    return this.call("listFriendRequests", { query: { direction, ...page } });
  }
  acceptFriend(user_id: ID, note?: string): Promise<User> {
    return this.call("acceptFriendRequest", { params: { user_id }, body: note === undefined ? {} : { note } });
  }
  rejectFriend(user_id: ID, blacklist = false): Promise<void> {
    return this.call("rejectFriendRequest", { params: { user_id }, body: { blacklist } });
  }
  friends(page: PageQuery = {}): Promise<{ friends: Friend[] } & Page> {
    return this.call("listFriends", { query: { ...page } });
  }
  setFriendNote(user_id: ID, note: string): Promise<User> {
    return this.call("setFriendNote", { params: { user_id }, body: { note } });
  }
  deleteFriend(user_id: ID): Promise<void> {
    return this.call("deleteFriend", { params: { user_id } });
  }
  blacklist(user_id: ID): Promise<void> {
    return this.call("blacklistUser", { params: { user_id } });
  }
  unblacklist(user_id: ID): Promise<void> {
    return this.call("unblacklistUser", { params: { user_id } });
  }

  // --------------------------------------------------------------- groups
  createGroup(name: string, member_ids: ID[] = []): Promise<Group> {
    return this.call("createGroup", { body: { name, member_ids } });
  }
  myGroups(page: PageQuery = {}): Promise<{ groups: Group[] } & Page> {
    return this.call("listMyGroups", { query: { ...page } });
  }
  searchGroups(q: string, page: PageQuery = {}): Promise<{ groups: Group[] } & Page> {
    return this.call("searchGroups", { query: { q, ...page } });
  }
  group(id: ID): Promise<Group> {
    return this.call("getGroup", { params: { id } });
  }
  /** 200 with the group for an open group; 202 with the pending request for an approval group. */
  joinGroup(id: ID): Promise<Group | JoinRequest> {
    return this.call("joinGroup", { params: { id } });
  }
  quitGroup(id: ID): Promise<void> {
    return this.call("quitGroup", { params: { id } });
  }
  members(id: ID, page: PageQuery = {}): Promise<{ members: Member[] } & Page> {
    return this.call("listGroupMembers", { params: { id }, query: { ...page } });
  }
  transferGroup(id: ID, user_id: ID): Promise<Group> {
    return this.call("transferGroup", { params: { id }, body: { user_id } });
  }
  dismissGroup(id: ID): Promise<void> {
    return this.call("dismissGroup", { params: { id } });
  }

  // -------------------------------------------------------- conversations
  /** Pinned first, then by last activity; page on with cursor = the previous page's next_cursor. */
  conversations(page: { limit?: number; cursor?: string } = {}): Promise<{ conversations: Conversation[]; next_cursor: string }> {
    return this.call("listConversations", { query: { ...page } });
  }
  unreadTotal(): Promise<{ total: number }> {
    return this.call("unreadTotal");
  }
  updateConversation(
    conversation: ConversationName,
    patch: { muted?: boolean; pinned?: boolean; hidden?: boolean },
  ): Promise<{ conversation: ConversationName; muted: boolean; pinned: boolean; hidden: boolean }> {
    return this.call("updateConversation", { params: { conversation }, body: patch });
  }
  markRead(conversation: ConversationName, seq: number): Promise<{ conversation: ConversationName; read_seq: number }> {
    return this.call("markRead", { params: { conversation }, body: { seq } });
  }

  // -------------------------------------------------------- subscriptions
  searchSubscriptions(q: string, page: PageQuery = {}): Promise<{ subscriptions: Subscription[] } & Page> {
    return this.call("searchSubscriptions", { query: { q, ...page } });
  }
  following(page: PageQuery = {}): Promise<{ subscriptions: Subscription[] } & Page> {
    return this.call("listFollowing", { query: { ...page } });
  }
  follow(id: ID): Promise<Subscription> {
    return this.call("follow", { params: { id } });
  }
  unfollow(id: ID): Promise<void> {
    return this.call("unfollow", { params: { id } });
  }

  // ---------------------------------- the subscriptionservice: accounts, articles, review
  createSubscription(name: string, intro = ""): Promise<SubscriptionAccount> {
    return this.call("createSubscription", { body: { name, intro } });
  }
  mySubscriptions(page: PageQuery = {}): Promise<{ subscriptions: SubscriptionAccount[] } & Page> {
    return this.call("listMySubscriptions", { query: { ...page } });
  }
  /** Newest first: every article for the owner, published and withdrawn ones for followers. */
  articles(id: ID, page: PageQuery = {}): Promise<{ articles: Article[] } & Page> {
    return this.call("listArticles", { params: { id }, query: { ...page } });
  }
  article(id: ID, aid: ID): Promise<Article> {
    return this.call("getArticle", { params: { id, aid } });
  }
  createArticle(id: ID, input: ArticleInput): Promise<Article> {
    return this.call("createArticle", { params: { id }, body: input });
  }
  submitArticle(id: ID, aid: ID): Promise<Article> {
    return this.call("submitArticle", { params: { id, aid } });
  }
  publishArticle(id: ID, aid: ID): Promise<Article> {
    return this.call("publishArticle", { params: { id, aid } });
  }
  /** The articles in review (reviewers). */
  reviewQueue(page: PageQuery = {}): Promise<{ articles: Article[] } & Page> {
    return this.call("reviewQueue", { query: { ...page } });
  }
  approveArticle(aid: ID): Promise<Article> {
    return this.call("approveArticle", { params: { aid } });
  }
  rejectArticle(aid: ID, reason: string): Promise<Article> {
    return this.call("rejectArticle", { params: { aid }, body: { reason } });
  }
}

function form(field: string, file: Blob, name: string): FormData {
  const f = new FormData();
  f.append(field, file, name);
  return f;
}
