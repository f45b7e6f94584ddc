// The environment of an API that a test starts in process with startApi: its database, the sandbox as WeChat Pay and
// the login host, the test-kit merchant and secrets, webhook delivery off; `extra` adds or overrides variables.
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv } from "@pay/test-kit/merchants";

export function startApiEnv(at: { readonly databaseUrl: string; readonly sandboxUrl: string }, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    PORT: "0",
    DATABASE_URL: at.databaseUrl,
    WXPAY_BASE_URL: at.sandboxUrl,
    WX_API_BASE_URL: at.sandboxUrl,
    ...merchantEnv(MERCHANT),
    WXPAY_NOTIFY_URL: "https://shop.example.com/wxpay/notify",
    SESSION_SECRET,
    ADMIN_TOKEN,
    WEBHOOK_DELIVERY: "off",
    ...extra,
  };
}
