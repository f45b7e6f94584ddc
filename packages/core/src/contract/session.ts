import { z } from "zod";
import { TimestampSchema } from "./common.js";

/** `wx.login()`'s code; the server trades it for an openid that never leaves the server. */
export const SessionRequestSchema = z.object({ code: z.string().min(1).max(128) }).strict();
export type SessionRequest = z.infer<typeof SessionRequestSchema>;

export const SessionResponseSchema = z.object({ token: z.string().min(1), expiresAt: TimestampSchema });
export type SessionResponse = z.infer<typeof SessionResponseSchema>;
