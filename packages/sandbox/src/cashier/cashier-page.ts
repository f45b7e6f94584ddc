import { SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import { CASHIER_CSS, CASHIER_SCRIPT } from "./cashier-assets.js";
import type { CashierStatus, CashierView } from "./cashier-view.js";
import { escapeHtml } from "./escape-html.js";

// Every dynamic value passes through escapeHtml exactly once, at the point it enters the markup.

const ICONS = {
  shop: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 9l1.5-5h13L20 9"/><path d="M4 9h16v2a3 3 0 0 1-5.33 1.9A3 3 0 0 1 12 14a3 3 0 0 1-2.67-1.1A3 3 0 0 1 4 11z"/><path d="M5 14v6h14v-6"/></svg>',
  check:
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5"/></svg>',
  cross: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" aria-hidden="true"><path d="M7 7l10 10M17 7L7 17"/></svg>',
  clock:
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" aria-hidden="true"><circle cx="12" cy="12" r="8"/><path d="M12 8v4l2.5 2.5"/></svg>',
  question:
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6V14"/><path d="M12 17.5h.01"/></svg>',
} as const;

type Tone = "success" | "warning" | "error" | "neutral";

interface PageOptions {
  readonly title: string;
  readonly nonce: string;
  readonly body: string;
  readonly script?: boolean;
}

function page(options: PageOptions): string {
  const nonce = escapeHtml(options.nonce);
  const script = options.script === true ? `\n<script nonce="${nonce}">${CASHIER_SCRIPT}</script>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(options.title)}</title>
<style nonce="${nonce}">${CASHIER_CSS}</style>
</head>
<body>
<div class="page">
<p class="badge">WeChat Pay sandbox · no real money moves</p>
${options.body}
</div>${script}
</body>
</html>
`;
}

function row(label: string, value: string | undefined, options: { ident?: boolean; id?: string } = {}): string {
  if (value === undefined) return "";
  const id = options.id === undefined ? "" : ` id="${escapeHtml(options.id)}"`;
  const ident = options.ident === true ? ' class="ident"' : "";
  return `<div class="row"><dt>${escapeHtml(label)}</dt><dd${id}${ident}>${escapeHtml(value)}</dd></div>`;
}

interface ResultPanel {
  /** The `data-panel` name the script switches to. */
  readonly panel: string;
  readonly tone: Tone;
  readonly icon: keyof typeof ICONS;
  readonly title: string;
  readonly text: string;
  /** Markup of `row()`s, already escaped. */
  readonly rows?: string;
  readonly hidden?: boolean;
}

function result(options: ResultPanel): string {
  const rows = options.rows ?? "";
  return `<section class="result ${options.tone}" data-panel="${escapeHtml(options.panel)}"${options.hidden === true ? " hidden" : ""} aria-live="polite">
<div class="result-icon">${ICONS[options.icon]}</div>
<h2 class="result-title">${escapeHtml(options.title)}</h2>
<p class="result-text">${escapeHtml(options.text)}</p>${rows === "" ? "" : `\n<dl class="details">${rows}</dl>`}
</section>`;
}

/** The amount with its symbol set smaller; the element's text stays exactly formatMoney's output. */
function amountMarkup(amount: string): string {
  const digit = amount.search(/\d/);
  if (digit <= 0) return escapeHtml(amount);
  return `<span class="symbol">${escapeHtml(amount.slice(0, digit))}</span><span class="value">${escapeHtml(amount.slice(digit))}</span>`;
}

function paidPanel(view: CashierView, hidden: boolean): string {
  const rows =
    row("Transaction ID", view.transactionId ?? "", { ident: true, id: "cashier-transaction-id" }) +
    row("Paid at (Beijing)", view.paidAt ?? "", { id: "cashier-paid-at" }) +
    row("Charged", view.charged);
  const text = `You paid ${view.amount} to merchant ${view.subMchId ?? view.mchId}.`;
  return result({ panel: "paid", tone: "success", icon: "check", title: "Payment successful", text, rows, hidden });
}

function statusPanel(view: CashierView, status: Exclude<CashierStatus, "open" | "paid">): string {
  switch (status) {
    case "refunded":
      return result({
        panel: "refunded",
        tone: "success",
        icon: "check",
        title: "Paid, then refunded",
        text: "This order was paid; a refund has been requested for it.",
        rows: row("Transaction ID", view.transactionId, { ident: true }) + row("Paid at (Beijing)", view.paidAt),
      });
    case "closed":
      return result({ panel: "closed", tone: "neutral", icon: "cross", title: "Order closed", text: "This order was closed before it was paid. It can no longer be paid." });
    case "expired":
      return result({
        panel: "expired",
        tone: "warning",
        icon: "clock",
        title: "Payment request expired",
        text: "This prepay_id has expired. Ask the merchant to place the order again.",
      });
    case "failed":
      return result({ panel: "failed", tone: "error", icon: "cross", title: "Payment failed", text: "The last payment attempt for this order failed." });
  }
}

/** A v3 order opened without the merchant's signed fields: say what the sheet needs (Pay then answers WeChat's refusal). */
function v3Notice(view: CashierView): string {
  if (view.v3 === undefined || view.v3.payment !== undefined) return "";
  return `<p class="message notice" id="cashier-v3-notice">This is an APIv3 order. WeChat opens its payment only with the wx.requestPayment fields the merchant server signed (timeStamp, nonceStr, package, signType, paySign with the merchant key). Open this page with them in the link (cashierUrl(prepayId, fields)); without them WeChat answers ${escapeHtml("requestPayment:fail 支付验证签名失败")}.</p>\n`;
}

function actionPanels(view: CashierView): string {
  return `<section class="actions" data-panel="open">
${v3Notice(view)}<p class="message" id="cashier-message" role="alert" hidden></p>
<button type="button" class="button primary" data-outcome="success">Pay ${escapeHtml(view.amount)}</button>
<button type="button" class="button secondary" data-outcome="cancel">Cancel</button>
</section>
${paidPanel(view, true)}
${result({ panel: "cancelled", tone: "neutral", icon: "cross", title: "Payment cancelled", text: "Nothing was charged. The order stays unpaid.", hidden: true })}`;
}

/** The payment sheet for one order. `nonce` must be the one in the response's Content-Security-Policy. */
export function renderCashierPage(view: CashierView, nonce: string): string {
  const merchantName = view.subMchId === undefined ? `Merchant ${view.mchId}` : `Sub-merchant ${view.subMchId}`;
  let panels: string;
  if (view.status === "open") panels = actionPanels(view);
  else if (view.status === "paid") panels = paidPanel(view, false);
  else panels = statusPanel(view, view.status);
  // A v3 order's signed fields ride along in the markup for the script to send with Pay and Cancel.
  const payment = view.status === "open" && view.v3?.payment !== undefined ? ` data-payment="${escapeHtml(JSON.stringify(view.v3.payment))}"` : "";
  const body = `<main class="card" id="cashier" data-state="${escapeHtml(view.status)}" data-prepay-id="${escapeHtml(view.prepayId)}" data-pay-path="${escapeHtml(SANDBOX_CONTROL_PATHS.pay)}"${payment}>
<header class="merchant">
<div class="avatar">${ICONS.shop}</div>
<div class="merchant-text">
<h1 class="merchant-name">${escapeHtml(merchantName)}</h1>
<p class="merchant-meta">AppID ${escapeHtml(view.subAppId ?? view.appId)}</p>
</div>
</header>
<section class="summary">
<p class="goods" id="cashier-goods">${escapeHtml(view.goods)}</p>
<p class="amount" id="cashier-amount">${amountMarkup(view.amount)}</p>
<p class="currency">${escapeHtml(view.currency)}</p>
</section>
<dl class="details">
${row("Order No.", view.outTradeNo, { ident: true, id: "cashier-out-trade-no" })}
${row("Merchant ID", view.mchId, { ident: true })}
${row("Sub-merchant ID", view.subMchId, { ident: true })}
${row("AppID", view.appId, { ident: true })}
${row("Sub-AppID", view.subAppId, { ident: true })}
</dl>
${panels}
</main>
<p class="footnote">prepay_id ${escapeHtml(view.prepayId)}</p>`;
  return page({ title: `Pay ${view.amount} · ${merchantName}`, nonce, body, script: view.status === "open" });
}

/** The 404 page for a missing or unknown prepay_id. */
export function renderNotFoundPage(prepayId: string | undefined, nonce: string): string {
  const text =
    prepayId === undefined
      ? `The link has no prepay_id. Open the cashier as ${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=… with the prepay_id from unifiedorder.`
      : "No order in this sandbox has this prepay_id. It may be mistyped, replaced by a newer one, or from a sandbox that has since restarted.";
  const body = `<main class="card" id="cashier" data-state="not-found">
${result({ panel: "not-found", tone: "warning", icon: "question", title: "Payment not found", text, rows: row("prepay_id", prepayId, { ident: true }) })}
</main>`;
  return page({ title: "Payment not found · WeChat Pay sandbox", nonce, body });
}
