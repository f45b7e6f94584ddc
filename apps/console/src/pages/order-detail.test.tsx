import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { adminOrder, ORDER_ID, orderDetail, refund, staffSession } from "../testing/fixtures.js";
import { createFakeApi, deferred, type FakeAnswer } from "../testing/fake-api.js";
import { renderConsole } from "../testing/render.js";

afterEach(() => cleanup());

const refundAnswer = { status: 201, body: { refund: refund(), order: adminOrder({ refundableFee: 3840 }) } };

async function openConfirmation(amount: string): Promise<void> {
  fireEvent.click(await screen.findByRole("button", { name: "Refund" }));
  expect(screen.getByRole("heading", { name: "Refund" })).toBeTruthy();
  expect(screen.getByText("Refundable: ¥39.90")).toBeTruthy();
  fireEvent.change(screen.getByLabelText("Amount"), { target: { value: amount } });
  fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "damaged" } });
  fireEvent.click(screen.getByRole("button", { name: "Continue" }));
}

describe("the order page", () => {
  it("shows items, refunds and the timeline; markup in a product name or a detail is text", async () => {
    const markup = '<img src=x onerror="alert(1)">Mug<script>alert(2)</script>';
    const order = adminOrder({ description: markup, items: [{ productId: "mug", name: markup, quantity: 2, unitPrice: 1995 }] });
    const detail = { ...orderDetail(order, [refund({ status: "succeeded", succeededAt: "2026-12-03T03:00:02.000Z", reason: "<b>late</b>" })]), items: order.items };
    detail.timeline.push({
      at: "2026-12-03T03:00:00.000Z",
      kind: "refund_requested",
      outcome: null,
      reason: null,
      detail: "<i>x</i>",
      refundId: "RF20261203000001",
      amount: 150,
      currency: "CNY",
    });
    const api = createFakeApi({ getStaffSession: () => ({ status: 200, body: staffSession("viewer") }), getAdminOrder: () => ({ status: 200, body: detail }) });
    const view = renderConsole(api.fetch, `/orders/${ORDER_ID}`);
    expect(await screen.findByRole("heading", { level: 1, name: `Order ${ORDER_ID}` })).toBeTruthy();
    const items = (await screen.findByRole("heading", { name: "Items" })).closest("section");
    if (items === null) throw new Error("no Items section");
    expect(within(items).getByText(markup)).toBeTruthy();
    expect(within(items).getByText("¥39.90")).toBeTruthy();
    expect(view.container.querySelector("img")).toBeNull();
    expect(view.container.querySelector("script")).toBeNull();
    expect(view.container.querySelector("b")).toBeNull();
    expect(screen.getByText("<b>late</b>")).toBeTruthy();
    const timeline = screen.getByRole("list", { name: "Timeline" });
    const entries = within(timeline).getAllByRole("listitem");
    expect(entries.map((entry) => entry.querySelector(".kind")?.textContent)).toEqual(["Created", "Notify received", "Paid", "Refund requested"]);
    expect(entries[1]?.textContent).toContain("outcome accepted");
    expect(entries[3]?.textContent).toContain("¥1.50");
    expect(entries[0]?.querySelector("time")?.getAttribute("datetime")).toBe("2026-12-03T02:00:00.000Z");
    expect(entries[0]?.querySelector("time")?.textContent).toBe("2026-12-03 10:00:00");
    expect(view.container.querySelectorAll("h1")).toHaveLength(1);
    expect(screen.getByRole("main")).toBeTruthy();
  });

  it("a viewer never sees the Refund button", async () => {
    const api = createFakeApi({ getStaffSession: () => ({ status: 200, body: staffSession("viewer") }), getAdminOrder: () => ({ status: 200, body: orderDetail() }) });
    renderConsole(api.fetch, `/orders/${ORDER_ID}`);
    await screen.findByRole("heading", { name: "Items" });
    expect(screen.queryByRole("button", { name: "Refund" })).toBeNull();
    expect(screen.getByText("Signed in as victor (viewer)")).toBeTruthy();
  });

  it("an operator refunds through a confirmation step; a double click on Confirm refund sends one request", async () => {
    const held = deferred<FakeAnswer>();
    const api = createFakeApi({
      getStaffSession: () => ({ status: 200, body: staffSession("operator") }),
      getAdminOrder: () => ({ status: 200, body: orderDetail() }),
      createRefund: () => held.promise,
    });
    renderConsole(api.fetch, `/orders/${ORDER_ID}`);
    await openConfirmation("1.50");
    expect(screen.getByText(`Refund ¥1.50 of order ${ORDER_ID}?`)).toBeTruthy();
    const confirm = screen.getByRole("button", { name: "Confirm refund" });
    fireEvent.click(confirm);
    fireEvent.click(confirm);
    await waitFor(() => expect((confirm as HTMLButtonElement).disabled).toBe(true));
    fireEvent.click(confirm);
    held.resolve(refundAnswer);
    expect((await screen.findByRole("status")).textContent).toBe("Refund requested");
    const posts = api.calls.filter((call) => call.route === "createRefund");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body).toEqual({ refundFee: 150, reason: "damaged" });
    expect(posts[0]?.headers.get("x-csrf-token")).toBe("csrf-operator");
    // The order and its timeline are read again after the refund.
    await waitFor(() => expect(api.calls.filter((call) => call.route === "getAdminOrder").length).toBeGreaterThanOrEqual(2));
  });

  it("a retry of the same form after an error reuses its Idempotency-Key; the error is shown in an alert", async () => {
    let attempt = 0;
    const api = createFakeApi({
      getStaffSession: () => ({ status: 200, body: staffSession("operator") }),
      getAdminOrder: () => ({ status: 200, body: orderDetail() }),
      createRefund: () => {
        attempt += 1;
        return attempt === 1 ? { status: 504, body: { error: { code: "GATEWAY_TIMEOUT", message: "WeChat Pay did not answer in time." } } } : refundAnswer;
      },
    });
    renderConsole(api.fetch, `/orders/${ORDER_ID}`);
    await openConfirmation("1.5");
    fireEvent.click(screen.getByRole("button", { name: "Confirm refund" }));
    expect((await screen.findByRole("alert")).textContent).toBe("WeChat Pay did not answer in time.");
    fireEvent.click(screen.getByRole("button", { name: "Confirm refund" }));
    await screen.findByText("Refund requested");
    const keys = api.calls.filter((call) => call.route === "createRefund").map((call) => call.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });

  it("refuses an amount that is not a decimal, too precise, zero, or more than refundable, before any request", async () => {
    const api = createFakeApi({ getStaffSession: () => ({ status: 200, body: staffSession("operator") }), getAdminOrder: () => ({ status: 200, body: orderDetail() }) });
    renderConsole(api.fetch, `/orders/${ORDER_ID}`);
    await openConfirmation("abc");
    expect(screen.getByRole("alert").textContent).toBe("Enter an amount like 1.50.");
    for (const [text, message] of [
      ["1.505", "The amount has too many decimal places."],
      ["0", "The amount must be more than zero."],
      ["39.91", "The amount is more than the refundable ¥39.90."],
    ] as const) {
      fireEvent.change(screen.getByLabelText("Amount"), { target: { value: text } });
      fireEvent.click(screen.getByRole("button", { name: "Continue" }));
      expect(screen.getByRole("alert").textContent).toBe(message);
    }
    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "39.90" } });
    fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(screen.getByText(`Refund ¥39.90 of order ${ORDER_ID}?`)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Back" }));
    expect(screen.getByLabelText<HTMLInputElement>("Amount").value).toBe("39.90");
    expect(api.calls.some((call) => call.route === "createRefund")).toBe(false);
  });
});
