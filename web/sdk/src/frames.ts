// The frames of the messageservice's WebSocket protocol (docs/websocket.md).
// Every frame type has a TypeScript type and an entry in FRAME_FIELDS, the
// runtime list of its fields; the compiler checks that the two agree and
// test/drift.test.ts checks FRAME_FIELDS against docs/websocket.md, so the
// types cannot drift from the documented contract unnoticed.

/** A user, group, message or subscription id: a decimal string (snowflakes exceed 2^53). */
export type ID = string;

/** `u:<lower id>:<higher id>`, `g:<group id>`, `s:<subscription id>` or `sys:<user id>`. */
export type ConversationName = string;

export interface Target {
  kind: "user" | "group";
  id: ID;
}

// ---------------------------------------------------------------- content

/** Fields any content kind may carry (docs/websocket.md "Content", common optional fields). */
export interface CommonContent {
  reply_to?: { seq: number };
  mentions?: ID[];
  mention_all?: boolean;
  forwarded_from?: { conversation: ConversationName; seq: number };
  ext?: Record<string, unknown>;
}

export interface TextContent extends CommonContent {
  kind: "text" | "emoji";
  text: string;
  /** Set by the server once the message was edited (unix ms). */
  edited_at?: number;
}
export interface ImageContent extends CommonContent {
  kind: "image";
  url: string;
  name: string;
  size: number;
  mime: string;
  width: number;
  height: number;
  thumbnail?: string;
}
export interface FileContent extends CommonContent {
  kind: "file";
  url: string;
  name: string;
  size: number;
  mime: string;
}
export interface VoiceContent extends CommonContent {
  kind: "voice";
  url: string;
  size: number;
  mime: string;
  duration: number;
  name?: string;
}
export interface VideoContent extends CommonContent {
  kind: "video";
  url: string;
  size: number;
  mime: string;
  duration: number;
  width: number;
  height: number;
  thumbnail?: string;
  name?: string;
}
export interface LocationContent extends CommonContent {
  kind: "location";
  lat: number;
  lon: number;
  name?: string;
}
export interface CardContent extends CommonContent {
  kind: "card";
  card: Target;
}
export interface CustomContent extends CommonContent {
  kind: "custom";
  type: string;
  data: Record<string, unknown>;
}
/** A forward: the server copies the original's kind and fields. */
export interface ForwardContent extends CommonContent {
  forwarded_from: { conversation: ConversationName; seq: number };
}

/** The kinds a client sends, as they are stored. */
export type KindContent =
  | TextContent
  | ImageContent
  | FileContent
  | VoiceContent
  | VideoContent
  | LocationContent
  | CardContent
  | CustomContent;

/** What a client sends. */
export type SendContent = KindContent | ForwardContent;

// Contents only the server writes.
export interface RecalledContent {
  kind: "recalled";
  by: ID;
}
export interface RecallEvent {
  kind: "recall";
  target_seq: number;
  by: ID;
}
export interface EditEvent {
  kind: "edit";
  target_seq: number;
  text: string;
  edited_at: number;
}
export interface ReactEvent {
  kind: "react" | "unreact";
  target_seq: number;
  emoji: string;
  user: ID;
}
export interface ClearedEvent {
  kind: "cleared";
  conversation: ConversationName;
  up_to_seq: number;
}
export interface GroupEventContent {
  kind: "group_event";
  event: string;
  actor: ID;
  users: ID[];
  [field: string]: unknown;
}
export interface GroupRequestContent {
  kind: "group_request";
  event: string;
  group: ID;
  group_name: string;
  actor: ID;
  user: ID;
  inviter?: ID;
}
/** Any other kind (a subscription's article, kinds added later): shown as unknown by apps. */
export interface OtherContent {
  kind: string;
  [field: string]: unknown;
}

export type Content =
  | KindContent
  | RecalledContent
  | RecallEvent
  | EditEvent
  | ReactEvent
  | ClearedEvent
  | GroupEventContent
  | GroupRequestContent
  | OtherContent;

/** The content kinds a client may send (docs/websocket.md, the Content table). */
export const SEND_KINDS = ["text", "emoji", "image", "file", "voice", "video", "location", "card", "custom"] as const;
/** Lifecycle event kinds (docs/websocket.md, "Message lifecycle"). */
export const EVENT_KINDS = ["recall", "edit", "react", "unreact"] as const;

/** Lifecycle events are applied to the message they name; apps show no bubble for them. */
export function isLifecycleEvent(c: Content): c is RecallEvent | EditEvent | ReactEvent {
  return (EVENT_KINDS as readonly string[]).includes(c.kind);
}

// ----------------------------------------------------------- client frames

export interface SendFrame {
  type: "send";
  client_msg_id: string;
  to: Target;
  content: SendContent;
}
export interface AckFrame {
  type: "ack";
  conversation: ConversationName;
  seq: number;
}
export interface SyncFrame {
  type: "sync";
  conversation: ConversationName;
  after_seq?: number;
  limit?: number;
}
export interface ReadFrame {
  type: "read";
  conversation: ConversationName;
  seq: number;
}
export interface TypingFrame {
  type: "typing";
  conversation: ConversationName;
}
export interface RecallFrame {
  type: "recall";
  client_msg_id: string;
  conversation: ConversationName;
  seq: number;
}
export interface EditFrame {
  type: "edit";
  client_msg_id: string;
  conversation: ConversationName;
  seq: number;
  text: string;
}
export interface ReactFrame {
  type: "react" | "unreact";
  client_msg_id: string;
  conversation: ConversationName;
  seq: number;
  emoji: string;
}
export interface DeleteForMeFrame {
  type: "delete_for_me";
  client_msg_id: string;
  conversation: ConversationName;
  seq: number;
}
/** The kept previous versions of edited message seq (EDIT_HISTORY; docs/websocket.md "Edit history"). */
export interface VersionsFrame {
  type: "versions";
  conversation: ConversationName;
  seq: number;
  limit?: number;
}
export interface PingFrame {
  type: "ping";
}

export type ClientFrame =
  | SendFrame
  | AckFrame
  | SyncFrame
  | ReadFrame
  | TypingFrame
  | RecallFrame
  | EditFrame
  | ReactFrame
  | DeleteForMeFrame
  | VersionsFrame
  | PingFrame;

/** Client frames answered by `sent` (or an error naming their client_msg_id): they go through the outbox. */
export type OutboxFrame = SendFrame | RecallFrame | EditFrame | ReactFrame | DeleteForMeFrame;

// ----------------------------------------------------------- server frames

export interface SentFrame {
  type: "sent";
  client_msg_id: string;
  msg_id: ID;
  conversation: ConversationName;
  seq: number;
  ts: number;
}
export interface Reaction {
  emoji: string;
  count: number;
  me: boolean;
}
export interface MessageFrame {
  type: "message";
  msg_id: ID;
  conversation: ConversationName;
  seq: number;
  from: ID;
  to: Target;
  content: Content;
  ts: number;
  /** Only in history: the message's reactions, per emoji in the order of its first reaction. */
  reactions?: Reaction[];
}
/** A message of a history frame: a message frame without `type`. */
export type HistoryMessage = Omit<MessageFrame, "type">;
export interface HistoryFrame {
  type: "history";
  conversation: ConversationName;
  messages: HistoryMessage[];
  has_more: boolean;
}
/** One kept version: the content as stored until the edit event at seq replaced_by_seq replaced it at replaced_at. */
export interface Version {
  content: Content;
  replaced_by_seq: number;
  replaced_at: number;
}
/** The answer to `versions`: oldest first, the newest `limit` of them. */
export interface VersionsAnswerFrame {
  type: "versions";
  conversation: ConversationName;
  seq: number;
  versions: Version[];
  has_more: boolean;
}
export interface ReadStateFrame {
  type: "read";
  conversation: ConversationName;
  seq: number;
  user: ID;
}
export interface ReceiptFrame {
  type: "receipt";
  conversation: ConversationName;
  seq: number;
  read_count: number;
  delivered_count: number;
}
export interface DeliveredFrame {
  type: "delivered";
  conversation: ConversationName;
  seq: number;
  user: ID;
}
export interface TypingStateFrame {
  type: "typing";
  conversation: ConversationName;
  user: ID;
}
export interface ConversationFrame {
  type: "conversation";
  conversation: ConversationName;
  muted: boolean;
  pinned: boolean;
  hidden: boolean;
}
export interface PresenceFrame {
  type: "presence";
  user: ID;
  online: boolean;
  last_seen?: number;
}
export interface PongFrame {
  type: "pong";
}
export interface ErrorFrame {
  type: "error";
  code: ErrorCode | string;
  message: string;
  client_msg_id?: string;
  /** With code `muted`: when the mute ends (RFC 3339). */
  until?: string;
  /** With code `rate_limited`: milliseconds until the frame is taken again. */
  retry_after?: number;
}

export type ServerFrame =
  | SentFrame
  | MessageFrame
  | HistoryFrame
  | VersionsAnswerFrame
  | ReadStateFrame
  | ReceiptFrame
  | DeliveredFrame
  | TypingStateFrame
  | ConversationFrame
  | PresenceFrame
  | PongFrame
  | ErrorFrame;

// ------------------------------------------------------ runtime field lists

/** The error codes of docs/websocket.md, "Error codes". */
export const ERROR_CODES = [
  "bad_frame",
  "unknown_type",
  "forbidden",
  "not_friends",
  "blocked",
  "not_member",
  "muted",
  "no_such_target",
  "too_large",
  "rate_limited",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Errors after which the same frame may succeed later: the outbox keeps the
 * frame and sends it again (with the same client_msg_id). Every other code
 * is final.
 */
export const RETRYABLE_ERRORS: readonly string[] = ["internal", "rate_limited"];

/** The close codes of docs/websocket.md, "Close codes". */
export const CLOSE_CODES = {
  goingAway: 1001,
  tooLarge: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  replaced: 4001,
  catchUpQueueFull: 4002,
  revoked: 4003,
  expired: 4004,
  loggedOut: 4005,
  rateLimited: 4008,
} as const;

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
type Keys<T> = T extends unknown ? keyof T : never;

/** The fields of each client frame type, as FRAME_FIELDS lists them. */
const clientFields = {
  send: ["type", "client_msg_id", "to", "content"],
  ack: ["type", "conversation", "seq"],
  sync: ["type", "conversation", "after_seq", "limit"],
  read: ["type", "conversation", "seq"],
  typing: ["type", "conversation"],
  recall: ["type", "client_msg_id", "conversation", "seq"],
  edit: ["type", "client_msg_id", "conversation", "seq", "text"],
  react: ["type", "client_msg_id", "conversation", "seq", "emoji"],
  unreact: ["type", "client_msg_id", "conversation", "seq", "emoji"],
  delete_for_me: ["type", "client_msg_id", "conversation", "seq"],
  versions: ["type", "conversation", "seq", "limit"],
  ping: ["type"],
} as const;

const serverFields = {
  sent: ["type", "client_msg_id", "msg_id", "conversation", "seq", "ts"],
  message: ["type", "msg_id", "conversation", "seq", "from", "to", "content", "ts", "reactions"],
  history: ["type", "conversation", "messages", "has_more"],
  versions: ["type", "conversation", "seq", "versions", "has_more"],
  read: ["type", "conversation", "seq", "user"],
  receipt: ["type", "conversation", "seq", "read_count", "delivered_count"],
  delivered: ["type", "conversation", "seq", "user"],
  typing: ["type", "conversation", "user"],
  conversation: ["type", "conversation", "muted", "pinned", "hidden"],
  presence: ["type", "user", "online", "last_seen"],
  pong: ["type"],
  error: ["type", "code", "message", "client_msg_id", "until", "retry_after"],
} as const;

// Compile-time: each list names exactly the fields of its frame's type.
// (Of, not Extract: a frame whose type is a union, react | unreact, is of both.)
type Of<U extends { type: string }, T> = U extends unknown ? (T extends U["type"] ? U : never) : never;
type ClientOf<T extends string> = Of<ClientFrame, T>;
type ServerOf<T extends string> = Of<ServerFrame, T>;
export type _ClientFieldsMatch = Check<
  Equal<
    { [T in keyof typeof clientFields]: (typeof clientFields)[T][number] },
    { [T in keyof typeof clientFields]: Keys<ClientOf<T>> }
  >
>;
export type _ServerFieldsMatch = Check<
  Equal<
    { [T in keyof typeof serverFields]: (typeof serverFields)[T][number] },
    { [T in keyof typeof serverFields]: Keys<ServerOf<T>> }
  >
>;
export type _ClientTypesCovered = Check<Equal<keyof typeof clientFields, ClientFrame["type"]>>;
export type _ServerTypesCovered = Check<Equal<keyof typeof serverFields, ServerFrame["type"]>>;

/** Every frame type with its fields, per direction: what the drift test holds against docs/websocket.md. */
export const FRAME_FIELDS: {
  client: Readonly<Record<string, readonly string[]>>;
  server: Readonly<Record<string, readonly string[]>>;
} = { client: clientFields, server: serverFields };

/** The fields of each content kind the SDK types (send kinds and server-written kinds). */
export const CONTENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  text: ["text", "edited_at"],
  emoji: ["text", "edited_at"],
  image: ["url", "name", "size", "mime", "width", "height", "thumbnail"],
  file: ["url", "name", "size", "mime"],
  voice: ["url", "size", "mime", "duration", "name"],
  video: ["url", "size", "mime", "duration", "width", "height", "thumbnail", "name"],
  location: ["lat", "lon", "name"],
  card: ["card"],
  custom: ["type", "data"],
  recalled: ["by"],
  recall: ["target_seq", "by"],
  edit: ["target_seq", "text", "edited_at"],
  react: ["target_seq", "emoji", "user"],
  unreact: ["target_seq", "emoji", "user"],
  cleared: ["conversation", "up_to_seq"],
  group_event: ["event", "actor", "users"],
  group_request: ["event", "group", "group_name", "actor", "user", "inviter"],
};

/** The common optional content fields. */
export const COMMON_CONTENT_FIELDS = ["reply_to", "mentions", "mention_all", "forwarded_from", "ext"] as const;
export type _CommonFieldsMatch = Check<Equal<(typeof COMMON_CONTENT_FIELDS)[number], keyof CommonContent>>;

/** Parses one server frame; throws on anything that is not a JSON object with a string `type`. */
export function parseServerFrame(data: string): ServerFrame {
  const v: unknown = JSON.parse(data);
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as { type?: unknown }).type !== "string") {
    throw new Error("frame: want a JSON object with a string type");
  }
  return v as ServerFrame;
}

/** The conversation name of a 1:1 between two users. */
export function userConversation(a: ID, b: ID): ConversationName {
  const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  return `u:${lo}:${hi}`;
}

/** The conversation name of a group. */
export function groupConversation(id: ID): ConversationName {
  return `g:${id}`;
}
