// The page's only style sheet and script, inlined under the response's CSP nonce: the cashier makes no
// request but the POST to the pay path (from the path table, in the page's data-pay-path). Plain strings because this package compiles without the DOM lib.

/** The payment sheet's style sheet (WeChat's colours, system fonts, mobile first). */
export const CASHIER_CSS = `
:root {
  color-scheme: light dark;
  --green: #07c160;
  --green-pressed: #06ad56;
  --red: #fa5151;
  --orange: #fa9d3b;
  --page: #ededed;
  --card: #ffffff;
  --text: rgba(0, 0, 0, 0.9);
  --muted: rgba(0, 0, 0, 0.5);
  --faint: rgba(0, 0, 0, 0.1);
  --soft: #f2f2f2;
}
@media (prefers-color-scheme: dark) {
  :root {
    --page: #111111;
    --card: #191919;
    --text: rgba(255, 255, 255, 0.85);
    --muted: rgba(255, 255, 255, 0.5);
    --faint: rgba(255, 255, 255, 0.1);
    --soft: #2c2c2c;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  background: var(--page);
  color: var(--text);
  font-family: system-ui, -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Helvetica Neue", Roboto, Arial, sans-serif;
  font-size: 15px;
  line-height: 1.4;
  -webkit-font-smoothing: antialiased;
}
[hidden] { display: none !important; }
.page {
  width: 100%;
  max-width: 420px;
  margin: 0 auto;
  padding: max(16px, env(safe-area-inset-top)) 12px max(24px, env(safe-area-inset-bottom));
}
@media (min-width: 600px) { .page { padding-top: 10vh; } }
.badge {
  display: flex;
  align-items: center;
  justify-content: center;
  gap: 6px;
  margin: 4px 0 14px;
  color: var(--muted);
  font-size: 12px;
  letter-spacing: 0.02em;
}
.badge::before {
  content: "";
  width: 6px;
  height: 6px;
  border-radius: 50%;
  background: var(--orange);
}
.card {
  background: var(--card);
  border-radius: 12px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.04), 0 8px 24px rgba(0, 0, 0, 0.06);
  overflow: hidden;
}
.merchant {
  display: flex;
  align-items: center;
  gap: 12px;
  padding: 18px 20px 0;
}
.avatar {
  flex: none;
  display: grid;
  place-items: center;
  width: 40px;
  height: 40px;
  border-radius: 10px;
  background: var(--green);
  color: #fff;
}
.avatar svg { width: 22px; height: 22px; }
.merchant-text { min-width: 0; }
.merchant-name { margin: 0; font-size: 16px; font-weight: 600; }
.merchant-meta { margin: 2px 0 0; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.summary { padding: 28px 20px 24px; text-align: center; }
.goods { margin: 0 0 6px; color: var(--muted); font-size: 15px; overflow-wrap: anywhere; }
.amount {
  margin: 0;
  font-size: 46px;
  font-weight: 600;
  line-height: 1.1;
  letter-spacing: -0.01em;
  font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere;
}
.amount .symbol { font-size: 28px; font-weight: 600; margin-right: 2px; }
.currency { margin: 8px 0 0; color: var(--muted); font-size: 12px; letter-spacing: 0.08em; }
.details { margin: 0 20px; padding: 6px 0; border-top: 1px solid var(--faint); }
/* A value too long to share the line with its label moves below it, still right-aligned. */
.row { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 16px; row-gap: 2px; padding: 7px 0; }
.row dt { color: var(--muted); font-size: 14px; }
.row dd { margin: 0 0 0 auto; min-width: 0; max-width: 100%; text-align: right; font-size: 14px; overflow-wrap: anywhere; }
.ident { font-variant-numeric: tabular-nums; letter-spacing: 0.01em; }
.actions { display: grid; gap: 10px; padding: 16px 20px 22px; }
.button {
  appearance: none;
  display: flex;
  align-items: center;
  justify-content: center;
  gap: 8px;
  width: 100%;
  min-height: 48px;
  margin: 0;
  padding: 0 16px;
  border: 0;
  border-radius: 8px;
  font: inherit;
  font-size: 17px;
  font-weight: 600;
  cursor: pointer;
  -webkit-tap-highlight-color: transparent;
}
.button:focus-visible { outline: 3px solid rgba(7, 193, 96, 0.4); outline-offset: 2px; }
.button.primary { background: var(--green); color: #fff; }
.button.primary:hover { background: var(--green-pressed); }
.button.secondary { background: var(--soft); color: var(--green-pressed); }
.button:disabled { cursor: default; opacity: 0.55; }
.button.primary:disabled:hover { background: var(--green); }
.button[aria-busy="true"] { opacity: 0.8; }
.button[aria-busy="true"]::before {
  content: "";
  width: 16px;
  height: 16px;
  border: 2px solid currentColor;
  border-right-color: transparent;
  border-radius: 50%;
  animation: spin 0.7s linear infinite;
}
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .button[aria-busy="true"]::before { animation-duration: 2s; } }
.message {
  margin: 0;
  padding: 10px 12px;
  border-radius: 8px;
  background: rgba(250, 81, 81, 0.1);
  color: var(--red);
  font-size: 14px;
}
.message.notice { background: rgba(250, 157, 59, 0.12); color: var(--text); }
.result { margin: 0 20px; padding: 22px 0 24px; border-top: 1px solid var(--faint); text-align: center; }
.card > .result:first-child { border-top: 0; }
.result-icon {
  display: grid;
  place-items: center;
  width: 56px;
  height: 56px;
  margin: 0 auto 12px;
  border-radius: 50%;
  color: #fff;
  background: var(--muted);
}
.result-icon svg { width: 30px; height: 30px; }
.result.success .result-icon { background: var(--green); }
.result.warning .result-icon { background: var(--orange); }
.result.error .result-icon { background: var(--red); }
.result-title { margin: 0; font-size: 20px; font-weight: 600; }
.result-text { margin: 6px 0 0; color: var(--muted); font-size: 14px; }
.result .details { margin: 16px 0 0; text-align: left; }
.footnote { margin: 16px 0 0; color: var(--muted); font-size: 12px; text-align: center; overflow-wrap: anywhere; }
`;

/**
 * Drives the Pay and Cancel buttons: one POST to the page's data-pay-path at a time (both buttons disabled while it
 * runs, so a double click pays once), then the paid or cancelled panel, or a message chosen by error code. A v3
 * order's signed wx.requestPayment fields (data-payment) go along as `payment`.
 * All text goes in through textContent.
 */
export const CASHIER_SCRIPT = `
(() => {
  "use strict";
  const root = document.getElementById("cashier");
  if (root === null || root.dataset.state !== "open") return;
  const prepayId = root.dataset.prepayId;
  const payPath = root.dataset.payPath;
  const buttons = Array.from(root.querySelectorAll("button[data-outcome]"));
  const message = document.getElementById("cashier-message");
  const MESSAGES = {
    ORDER_PAID: "This order has already been paid. Nothing more was charged.",
    ORDER_CLOSED: "This order is closed and can no longer be paid.",
    PREPAY_EXPIRED: "This payment request has expired. Ask the merchant to place the order again.",
    PREPAY_NOT_FOUND: "This payment no longer exists in the sandbox (unknown prepay_id).",
    PAY_SIGN_INVALID: "WeChat refused to open the payment: requestPayment:fail 支付验证签名失败.",
  };
  // A v3 order's wx.requestPayment fields, signed by the merchant server (from the page's URL).
  const payment = root.dataset.payment === undefined ? undefined : JSON.parse(root.dataset.payment);
  let busy = false;

  const show = (state) => {
    for (const panel of root.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== state;
    root.dataset.state = state;
  };
  const fill = (id, text) => {
    const node = document.getElementById(id);
    if (node !== null) node.textContent = text ?? "";
  };
  const beijingTime = (compact) =>
    /^\\d{14}$/.test(compact ?? "") ? compact.replace(/^(\\d{4})(\\d{2})(\\d{2})(\\d{2})(\\d{2})(\\d{2})$/, "$1-$2-$3 $4:$5:$6") : "";

  async function submit(button) {
    if (busy) return;
    busy = true;
    for (const b of buttons) b.disabled = true;
    button.setAttribute("aria-busy", "true");
    message.hidden = true;
    let settled = false;
    try {
      const outcome = button.dataset.outcome;
      const response = await fetch(payPath, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payment === undefined ? { prepay_id: prepayId, outcome } : { prepay_id: prepayId, outcome, payment }),
        cache: "no-store",
      });
      const data = await response.json().catch(() => null);
      if (response.ok) {
        settled = true;
        if (outcome === "success") {
          fill("cashier-transaction-id", data?.order?.transaction_id);
          fill("cashier-paid-at", beijingTime(data?.order?.time_end));
          show("paid");
        } else {
          show("cancelled");
        }
        return;
      }
      const code = data?.error?.code;
      // These answers are final: paying again cannot succeed, so the buttons stay disabled.
      settled = Object.hasOwn(MESSAGES, code);
      message.textContent = settled
        ? MESSAGES[code] + (code === "PAY_SIGN_INVALID" && data?.error?.message ? " " + data.error.message : "")
        : "The sandbox answered HTTP " + response.status + (data?.error?.message ? ": " + data.error.message : "") + ". Try again.";
      message.hidden = false;
    } catch {
      message.textContent = "Could not reach the sandbox. Check that it is running, then try again.";
      message.hidden = false;
    } finally {
      button.removeAttribute("aria-busy");
      if (!settled) for (const b of buttons) b.disabled = false;
      busy = false;
    }
  }

  for (const button of buttons) button.addEventListener("click", () => void submit(button));
})();
`;
