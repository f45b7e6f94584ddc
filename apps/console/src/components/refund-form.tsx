import type { AdminOrder } from "@pay/core/contract";
import { parseAmount } from "@pay/core/money";
import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { useCreateRefund } from "../data/queries.js";
import { showMoney } from "../format.js";
import { useI18n, type MessageKey } from "../i18n/index.js";

/** The amount typed (major units, e.g. "1.50") as minor units of the order's currency, or why it cannot be refunded. */
export function refundAmount(text: string, order: Pick<AdminOrder, "feeType" | "refundableFee">): { ok: true; amount: number } | { ok: false; message: MessageKey } {
  const parsed = parseAmount(text, order.feeType);
  if (!parsed.ok) return { ok: false, message: parsed.error.code === "TOO_PRECISE" ? "refund.tooPrecise" : "refund.invalidAmount" };
  if (parsed.value.amount <= 0) return { ok: false, message: "refund.notPositive" };
  if (parsed.value.amount > order.refundableFee) return { ok: false, message: "refund.tooMuch" };
  return { ok: true, amount: parsed.value.amount };
}

/**
 * The refund form, opened in place on the order page. Each opened form holds one Idempotency-Key (in
 * useCreateRefund) that every submit reuses; `Confirm refund` is disabled while its request is in flight and
 * a second click in the same instant is dropped, so a double click refunds once.
 */
export function RefundForm({ order, onRefunded, onCancel }: { readonly order: AdminOrder; readonly onRefunded: () => void; readonly onCancel: () => void }): ReactNode {
  const { t } = useI18n();
  const refund = useCreateRefund(order.id);
  const [amountText, setAmountText] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<MessageKey | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const inFlight = useRef(false);
  const refundable = showMoney(order.refundableFee, order.feeType);

  function next(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const checked = refundAmount(amountText, order);
    if (!checked.ok) {
      setProblem(checked.message);
      return;
    }
    setProblem(null);
    refund.reset();
    setConfirming(checked.amount);
  }

  function confirm(): void {
    if (confirming === null || inFlight.current) return;
    inFlight.current = true;
    refund.mutate(
      { refundFee: confirming, reason: reason.trim() === "" ? undefined : reason.trim() },
      {
        onSuccess: () => onRefunded(),
        onSettled: () => {
          inFlight.current = false;
        },
      },
    );
  }

  return (
    <section aria-labelledby="refund-heading" className="refund">
      <h2 id="refund-heading">{t("refund.heading")}</h2>
      {confirming === null ? (
        <form onSubmit={next} noValidate>
          <div className="field">
            <label htmlFor="refund-amount">{t("refund.amount")}</label>
            <input
              id="refund-amount"
              inputMode="decimal"
              autoComplete="off"
              aria-describedby="refund-refundable"
              value={amountText}
              onChange={(event) => setAmountText(event.target.value)}
            />
            <p id="refund-refundable">{t("refund.refundable", { amount: refundable })}</p>
          </div>
          <div className="field">
            <label htmlFor="refund-reason">{t("refund.reason")}</label>
            <input id="refund-reason" maxLength={80} value={reason} onChange={(event) => setReason(event.target.value)} />
          </div>
          {problem === null ? null : <p role="alert">{t(problem, { amount: refundable })}</p>}
          <div className="actions">
            <button type="submit">{t("refund.continue")}</button>
            <button type="button" onClick={onCancel}>
              {t("refund.cancel")}
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p>{t("refund.confirmText", { amount: showMoney(confirming, order.feeType), id: order.id })}</p>
          <div className="actions">
            <button type="button" disabled={refund.isPending} onClick={confirm}>
              {t("refund.confirm")}
            </button>
            <button type="button" disabled={refund.isPending} onClick={() => setConfirming(null)}>
              {t("refund.back")}
            </button>
          </div>
        </div>
      )}
      {refund.isError ? <p role="alert">{refund.error.message}</p> : null}
    </section>
  );
}
