// @privateim/sdk: the client side of PrivateIM's delivery contract
// (docs/websocket.md) and a typed client of its HTTP APIs.
export * from "./frames.js";
export * from "./storage.js";
export * from "./client.js";
export * from "./rest.js";
export { Emitter, type Handler } from "./emitter.js";
