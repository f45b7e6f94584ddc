// The bench's made-up merchant is the test kit's, the one the API's own tests use; the bench signs
// with HMAC-SHA256 throughout (the API, the sandbox, the reference servers, the generated notifies).
import { MERCHANT as TEST_MERCHANT } from "@pay/test-kit/merchants";

export const MERCHANT = { ...TEST_MERCHANT, signType: "HMAC-SHA256" } as const;

export { ADMIN_TOKEN, SESSION_SECRET } from "@pay/test-kit/merchants";
