/**
 * The fields this sample keeps in a session. Augmenting express-session's `SessionData` types
 * `req.session.user` and `@Session('count')` everywhere, in the Nest app and in the reader.
 */
declare module 'express-session' {
  interface SessionData {
    /** The username, copied in at login so services that only read sessions can show it. */
    user?: string;
    /** The per-session counter of the classic express-session demo. */
    count?: number;
  }
}

export {};
