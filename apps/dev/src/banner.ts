import { isAbsolute, relative } from "node:path";
import { formatMoney } from "@pay/core";
import type { Product } from "@pay/core/contract";
import { SANDBOX_CONTROL_PATHS } from "@pay/sandbox/control";
import type { MiniProgramBuild } from "./miniprogram.js";
import { DEV_MODES, MODE_PROFILES } from "./modes.js";
import type { DevStack } from "./stack.js";

/** The command that creates a console staff account (apps/api's staff CLI). */
export const STAFF_CREATE_COMMAND = "npx -y pnpm@10.34.9 --filter @pay/api staff create --username <name> --role operator";

export interface BannerInput {
  readonly stack: DevStack;
  readonly miniProgram: MiniProgramBuild;
  /** The catalogue as GET /api/products answered it just now. */
  readonly products: readonly Product[];
  /** Paths under it are shown relative to it. */
  readonly cwd: string;
}

/** A path as short as it can be shown: relative when under `cwd`. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

function databaseText(url: string, cwd: string): string {
  if (/^postgres(ql)?:\/\//.test(url)) return `PostgreSQL at ${url.replace(/\/\/[^@/]*@/, "//***@")}`;
  return `${displayPath(url, cwd)} (SQLite)`;
}

/** Shell-quotes for the copy-paste lines (single quotes, POSIX). */
function q(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The curl walkthrough with the stack's real URLs, runnable as pasted in bash or zsh (node reads the JSON). */
function walkthrough(stack: DevStack, productId: string, refundFee: number, cwd: string): string[] {
  const api = stack.apiUrl;
  const sandbox = stack.sandboxUrl;
  const loginBody = JSON.stringify({ appid: stack.merchant.miniProgramAppId, user: "alice" });
  const orderBody = JSON.stringify({ items: [{ productId, quantity: 1 }] });
  const envPath = displayPath(stack.envFile.path, cwd);
  return [
    `json() { node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; }`,
    "# 1. wx.login: the sandbox plays WeChat and hands out a login code for user alice",
    `CODE=$(curl -s -X POST ${sandbox}${SANDBOX_CONTROL_PATHS.loginCodes} -d ${q(loginBody)} | json .code)`,
    "# 2. POST /api/session trades it for a session token",
    `TOKEN=$(curl -s -X POST ${api}/api/session -H 'content-type: application/json' -d "{\\"code\\":\\"$CODE\\"}" | json .token)`,
    "# 3. the catalogue (prices in minor units)",
    `curl -s -w '\\n' ${api}/api/products`,
    stack.v3 === undefined
      ? "# 4. an order: the API prices it, calls unifiedorder and signs the wx.requestPayment params"
      : "# 4. an order: the API prices it, places a signed APIv3 JSAPI order and signs the wx.requestPayment params with RSA",
    `ORDER=$(curl -s -X POST ${api}/api/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -H "idempotency-key: order-$(date +%s)" -d ${q(orderBody)})`,
    `ORDER_ID=$(echo "$ORDER" | json .order.id); PREPAY_ID=$(echo "$ORDER" | json '.payment.package.slice(10)'); echo "$ORDER"`,
    `# 5. pay: open the cashier page in a browser ...`,
    `echo "${sandbox}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=$PREPAY_ID"`,
    ...(stack.v3 === undefined
      ? [
          "#    ... or play the payer from here (what wx.requestPayment does); the sandbox then notifies the API",
          `curl -s -w '\\n' -X POST ${sandbox}${SANDBOX_CONTROL_PATHS.pay} -d "{\\"prepay_id\\":\\"$PREPAY_ID\\",\\"outcome\\":\\"success\\"}"`,
        ]
      : [
          "#    ... or play the payer from here: wx.requestPayment hands over the five fields (signType RSA), the sandbox",
          "#    checks paySign with the merchant certificate's key, then sends the signed, encrypted v3 notify",
          `PAY=$(echo "$ORDER" | node -pe "const o = JSON.parse(require('fs').readFileSync(0, 'utf8')); JSON.stringify({ prepay_id: o.payment.package.slice(10), outcome: 'success', payment: o.payment })")`,
          `curl -s -w '\\n' -X POST ${sandbox}${SANDBOX_CONTROL_PATHS.pay} -d "$PAY"`,
        ]),
    `# 6. the order as the mini-program sees it: paid once the notify arrived (at ${new URL(stack.config.merchant.notifyUrl).pathname})`,
    `curl -s -w '\\n' ${api}/api/orders/$ORDER_ID -H "authorization: Bearer $TOKEN"`,
    stack.v3 === undefined
      ? `# 7. a partial refund (admin; over mutual TLS to the gateway), then the refund notify`
      : `# 7. a partial refund (admin; a signed APIv3 request to the gateway), then the v3 refund notify`,
    `ADMIN_TOKEN=$(sed -n 's/^ADMIN_TOKEN=//p' ${q(envPath)})`,
    `curl -s -w '\\n' -X POST ${api}/api/admin/orders/$ORDER_ID/refunds -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' -H "idempotency-key: refund-$ORDER_ID" -d '{"refundFee":${refundFee}}'`,
    `sleep 2; curl -s -w '\\n' ${api}/api/orders/$ORDER_ID -H "authorization: Bearer $TOKEN"`,
  ];
}

/** What runs where and what to do next, printed once the stack answers. */
export function formatBanner(input: BannerInput): string {
  const { stack, miniProgram, products, cwd } = input;
  const { merchant } = stack;
  const config = stack.config;
  const subIds = merchant.subMchId === undefined ? "" : `, sub_appid ${merchant.subAppId ?? ""} sub_mch_id ${merchant.subMchId}`;
  const lines = [
    "",
    `WeChat Pay dev stack is running: ${stack.mode} mode (${MODE_PROFILES[stack.mode].title})`,
    "",
    `  API          ${stack.apiUrl}    health: ${stack.apiUrl}/healthz`,
    `  Sandbox      ${stack.sandboxUrl}    cashier page, control API, wx.login codes (WX_API_BASE_URL)`,
    stack.v3 === undefined
      ? `  Gateway      ${stack.gatewayUrl}   the sandbox over HTTPS (WXPAY_BASE_URL); refunds use mutual TLS`
      : `  Gateway      ${stack.gatewayUrl}   the sandbox over HTTPS (WXPAY_BASE_URL), APIv3 (${stack.v3.account === "global" ? "/v3/global/..." : "/v3/pay/..., /v3/refund/domestic/..."}): every request signed`,
    `  Database     ${databaseText(stack.databaseUrl, cwd)}`,
    `  Config       ${displayPath(stack.envFile.path, cwd)} (${stack.envFile.created ? "generated now, with random keys" : "reused"}; secrets live there)`,
    `  Merchant     appid ${merchant.appId}, mch_id ${merchant.mchId}${subIds}; ${merchant.profile} profile, ${merchant.feeType}, ${stack.v3 === undefined ? config.merchant.signType : "APIv3 (paySign RSA)"}`,
    `  Notify URLs  ${config.merchant.notifyUrl}, ${config.merchant.refundNotifyUrl ?? "(none)"}`,
    `  Webhooks     ${stack.fulfilment.url}   the shop's fulfilment receiver: every order event, signed (WEBHOOK_SECRET made at this start), verified and printed as "fulfilment: ..."`,
  ];
  if (stack.v3 === undefined) {
    lines.push(`  Certificates ${displayPath(stack.pki.dir, cwd)} (CA, server, client for mch_id ${merchant.mchId}; ${stack.pki.created ? "issued now" : "reused"})`);
  } else {
    const { v3 } = stack;
    const verify =
      v3.keyMode === "platform-certificate"
        ? "platform certificates (wechatpay_<serial>.pem, downloaded by the API from the certificates endpoint)"
        : `WeChat Pay public key ${v3.publicKeyId ?? ""} (wxp_pub.pem)${v3.keyMode === "migration" ? " and platform certificates" : ""}`;
    lines.push(
      `  APIv3 keys   ${displayPath(v3.keysDir, cwd)} (generated by the sandbox at this start): apiclient_key.pem signs, serial ${v3.merchantSerial}`,
      `  Key mode     ${v3.keyMode}: answers and notifies verified with ${verify}`,
      `  TLS          ${displayPath(stack.pki.dir, cwd)} (the sandbox's CA, WXPAY_CA_PATH; ${stack.pki.created ? "issued now" : "reused"})`,
    );
  }
  if (stack.overridden.length > 0) lines.push(`  Note         the dev stack set these itself, over the env file: ${stack.overridden.join(", ")}`);
  lines.push(
    "",
    `Products       ${products.length === 0 ? "(none: the database holds no products in this currency)" : products.map((p) => `${p.id} ${formatMoney({ amount: p.price, currency: p.currency })}`).join(", ")}`,
    `Cashier page   ${stack.sandboxUrl}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=<prepay_id from the order's payment.package>`,
  );
  if (miniProgram.status === "built" && miniProgram.folder !== undefined) {
    lines.push(`Mini-program   open ${displayPath(miniProgram.folder, cwd)} in WeChat DevTools (${miniProgram.detail})`);
  } else {
    lines.push(`Mini-program   ${miniProgram.detail}`);
    if (miniProgram.folder !== undefined) lines.push(`               An earlier build is in ${displayPath(miniProgram.folder, cwd)}; it may call another API URL.`);
  }
  lines.push(
    `Console        ${stack.apiUrl}/console   the merchant console: orders, refunds, reconciliation, webhooks, audit log (built by pnpm start)`,
    `               sign in with a staff account; create one with: ${STAFF_CREATE_COMMAND}`,
  );
  const first = products[0];
  const refundFee = first === undefined ? 1 : Math.max(1, Math.floor(first.price / 2));
  lines.push(
    "",
    "Try one purchase with curl (bash or zsh; paste the lines in order):",
    ...walkthrough(stack, first?.id ?? "<product id>", refundFee, cwd).map((line) => `  ${line}`),
  );
  lines.push(
    "",
    "The same purchase, scripted and checked, in every mode (on its own ports; this stack keeps running):",
    "  npx -y pnpm@10.34.9 demo",
    `Other modes: --mode ${DEV_MODES.join("|")}, or --config <env file> (examples in config/); ports: --api-port, --sandbox-port, --gateway-port, --fulfilment-port.`,
    "",
    "Ctrl+C stops everything; the next start reuses the database and the config. API log:",
    "",
  );
  return lines.join("\n");
}
