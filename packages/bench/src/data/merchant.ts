// The bench's made-up merchant: the API, the sandbox, the reference servers and the generated
// notifies all use it. None of these are real credentials.

export const MERCHANT = {
  appId: "wx8888888888888888",
  mchId: "1230000109",
  key: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
  appSecret: "miniprogram-app-secret-0001",
  signType: "HMAC-SHA256",
} as const;

export const SESSION_SECRET = "session-secret-for-the-bench-0123456789abcdef";
export const ADMIN_TOKEN = "admin-token-for-the-bench-0123456789";
