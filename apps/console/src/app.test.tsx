import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { LANGUAGE_STORAGE_KEY } from "./i18n/index.js";
import {
  adminOrder,
  auditLog,
  ENDPOINT_ID,
  EVENT_ID,
  ORDER_ID,
  overview,
  reconciliationDetail,
  reconciliationList,
  staffSession,
  webhookDelivery,
  webhookEndpoint,
} from "./testing/fixtures.js";
import { createFakeApi, type FakeHandler } from "./testing/fake-api.js";
import { renderConsole } from "./testing/render.js";
import { nextPath } from "./pages/sign-in.js";

afterEach(() => {
  cleanup();
  localStorage.clear();
});

const signedIn =
  (role: "viewer" | "operator" = "operator"): FakeHandler =>
  () => ({ status: 200, body: staffSession(role) });
const unauthorized: FakeHandler = () => ({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Sign in." } } });

describe("signing in", () => {
  it("a signed-out visitor lands on the sign-in page and, once signed in, goes back where they were going", async () => {
    let session: FakeHandler = unauthorized;
    const api = createFakeApi({
      getStaffSession: (call) => session(call),
      staffSignIn: () => {
        session = signedIn();
        return { status: 200, body: staffSession() };
      },
      listAdminOrders: () => ({ status: 200, body: { orders: [], nextCursor: null } }),
    });
    const view = renderConsole(api.fetch, "/orders");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(view.location.history.at(-1)).toBe("/sign-in?next=%2Forders");
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "olivia" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Orders" })).toBeTruthy();
    expect(view.location.history.at(-1)).toBe("/orders");
    expect(screen.getByText("Signed in as olivia (operator)")).toBeTruthy();
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(
      within(nav)
        .getAllByRole("link")
        .map((link) => link.textContent),
    ).toEqual(["Overview", "Orders", "Reconciliation", "Webhooks", "Audit log"]);
  });

  it("a refused sign-in is shown in an alert; a 429 says how long to wait", async () => {
    let attempt = 0;
    const api = createFakeApi({
      getStaffSession: unauthorized,
      staffSignIn: () => {
        attempt += 1;
        return attempt === 1
          ? { status: 401, body: { error: { code: "SIGN_IN_FAILED", message: "x" } } }
          : { status: 429, headers: { "Retry-After": "42" }, body: { error: { code: "RATE_LIMITED", message: "Too many." } } };
      },
    });
    renderConsole(api.fetch, "/sign-in");
    fireEvent.change(await screen.findByLabelText("Username"), { target: { value: "olivia" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Wrong username or password.");
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("Too many failed attempts: wait 42 seconds and try again."));
  });

  it("a 401 from any page (an expired session) sends the user to sign-in", async () => {
    const api = createFakeApi({ getStaffSession: signedIn(), getOverview: unauthorized });
    const view = renderConsole(api.fetch, "/");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(view.location.history.at(-1)).toBe("/sign-in?next=%2F");
  });

  it("next is only ever a console path", () => {
    expect(nextPath("next=%2Forders%2FX")).toBe("/orders/X");
    expect(nextPath("next=https%3A%2F%2Fevil.example")).toBe("/");
    expect(nextPath("next=%2F%2Fevil.example")).toBe("/");
    expect(nextPath("next=%2Fsign-in")).toBe("/");
    expect(nextPath("")).toBe("/");
  });

  it("Sign out ends the session and shows the sign-in page", async () => {
    const api = createFakeApi({
      getStaffSession: signedIn(),
      getOverview: () => ({ status: 200, body: overview() }),
      staffSignOut: () => ({ status: 200, body: { signedOut: true } }),
    });
    renderConsole(api.fetch, "/");
    fireEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(api.calls.find((call) => call.route === "staffSignOut")?.headers.get("x-csrf-token")).toBe("csrf-operator");
  });
});

describe("languages", () => {
  it("the header button switches between 中文 and English, sets <html lang> and remembers the choice", async () => {
    const api = createFakeApi({ getStaffSession: unauthorized });
    renderConsole(api.fetch, "/sign-in", "en");
    fireEvent.click(await screen.findByRole("button", { name: "中文" }));
    expect(await screen.findByRole("heading", { level: 1, name: "登录" })).toBeTruthy();
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe("zh-CN");
    expect(screen.getByLabelText("用户名")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "English" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(document.documentElement.lang).toBe("en");
    expect(localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe("en");
  });
});

describe("pages", () => {
  it("overview shows the day's figures per currency", async () => {
    const api = createFakeApi({ getStaffSession: signedIn("viewer"), getOverview: () => ({ status: 200, body: overview() }) });
    renderConsole(api.fetch, "/");
    expect(await screen.findByRole("heading", { level: 1, name: "Overview" })).toBeTruthy();
    expect(await screen.findByText("¥119.70")).toBeTruthy();
    expect(screen.getByText("Refused notifies").nextElementSibling?.textContent).toBe("2");
    expect(screen.getByText("Webhook deliveries pending").nextElementSibling?.textContent).toBe("4");
  });

  it("orders: the filters go to the list and the CSV link; order ids link to their page; Next and Previous page walk the cursors", async () => {
    const api = createFakeApi({
      getStaffSession: signedIn("viewer"),
      listAdminOrders: (call) => {
        const cursor = call.query.get("cursor");
        if (cursor === null) return { status: 200, body: { orders: [adminOrder()], nextCursor: "page-2" } };
        return { status: 200, body: { orders: [adminOrder({ id: "ORD20261203000002" })], nextCursor: null } };
      },
    });
    renderConsole(api.fetch, "/orders");
    const search = await screen.findByRole("search");
    expect(
      within(search)
        .getAllByRole("option")
        .map((option) => option.textContent),
    ).toEqual(["All", "Pending", "Paid", "Closed", "Refunded"]);
    fireEvent.change(within(search).getByLabelText("Status"), { target: { value: "paid" } });
    fireEvent.change(within(search).getByLabelText("From"), { target: { value: "2026-12-01" } });
    fireEvent.change(within(search).getByLabelText("To"), { target: { value: "2026-12-03" } });
    const q = within(search).getByLabelText("Search");
    expect(q.getAttribute("placeholder")).toBe("Order id, transaction id or openid");
    fireEvent.change(q, { target: { value: ` ${ORDER_ID} ` } });
    fireEvent.click(within(search).getByRole("button", { name: "Search" }));
    await waitFor(() => expect(api.calls.at(-1)?.url).toBe(`/api/admin/orders?status=paid&from=2026-12-01&to=2026-12-03&q=${ORDER_ID}`));
    expect(screen.getByRole("link", { name: "Export CSV" }).getAttribute("href")).toBe(`/api/admin/exports/orders?status=paid&from=2026-12-01&to=2026-12-03&q=${ORDER_ID}`);
    const link = await screen.findByRole("link", { name: ORDER_ID });
    expect(link.getAttribute("href")).toBe(`/orders/${ORDER_ID}`);
    expect(screen.queryByRole("button", { name: "Previous page" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Next page" }));
    expect(await screen.findByRole("link", { name: "ORD20261203000002" })).toBeTruthy();
    expect(api.calls.at(-1)?.query.get("cursor")).toBe("page-2");
    expect(screen.queryByRole("button", { name: "Next page" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Previous page" }));
    expect(await screen.findByRole("link", { name: ORDER_ID })).toBeTruthy();
    for (const header of document.querySelectorAll("th")) expect(header.getAttribute("scope")).not.toBeNull();
  });

  it("reconciliation: days link to their page; a difference links to its order; an operator may run the day again", async () => {
    const api = createFakeApi({
      getStaffSession: signedIn("operator"),
      listReconciliations: () => ({ status: 200, body: reconciliationList() }),
      getReconciliation: () => ({ status: 200, body: reconciliationDetail() }),
      runReconciliation: () => ({ status: 200, body: reconciliationDetail() }),
    });
    renderConsole(api.fetch, "/reconciliation");
    fireEvent.click(await screen.findByRole("link", { name: "2026-12-02" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Reconciliation 2026-12-02" })).toBeTruthy();
    expect((await screen.findByRole("link", { name: ORDER_ID })).getAttribute("href")).toBe(`/orders/${ORDER_ID}`);
    expect(screen.getByText("Paid, not recorded")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Run again" }));
    expect((await screen.findByRole("status")).textContent).toBe("Reconciliation ran");
    expect(api.calls.find((call) => call.route === "runReconciliation")?.url).toBe("/api/admin/reconciliations/2026-12-02/run");
  });

  it("webhooks: endpoints link to their deliveries; Replay re-delivers one event to that endpoint; a viewer sees no Replay", async () => {
    const handlers = {
      listWebhookEndpoints: (() => ({ status: 200, body: { endpoints: [webhookEndpoint()] } })) as FakeHandler,
      getWebhookEndpoint: (() => ({ status: 200, body: { endpoint: webhookEndpoint(), deliveries: { pending: 0, delivered: 3, failed: 1 } } })) as FakeHandler,
      listWebhookDeliveries: (() => ({ status: 200, body: { deliveries: [webhookDelivery()], nextCursor: null } })) as FakeHandler,
      replayWebhookEvent: (() => ({ status: 200, body: { deliveries: 1 } })) as FakeHandler,
    };
    const api = createFakeApi({ getStaffSession: signedIn("operator"), ...handlers });
    renderConsole(api.fetch, "/webhooks");
    fireEvent.click(await screen.findByRole("link", { name: webhookEndpoint().url }));
    expect(await screen.findByRole("heading", { level: 1, name: `Endpoint ${webhookEndpoint().url}` })).toBeTruthy();
    fireEvent.click(await screen.findByRole("button", { name: "Replay" }));
    expect((await screen.findByRole("status")).textContent).toBe("Replay queued");
    const replay = api.calls.find((call) => call.route === "replayWebhookEvent");
    expect([replay?.params.id, replay?.body]).toEqual([EVENT_ID, { endpointId: ENDPOINT_ID }]);
    cleanup();
    const viewer = createFakeApi({ getStaffSession: signedIn("viewer"), ...handlers });
    renderConsole(viewer.fetch, `/webhooks/${ENDPOINT_ID}`);
    expect(await screen.findByText(EVENT_ID)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Replay" })).toBeNull();
  });

  it("audit log: who, what, the idempotency key and the outcome", async () => {
    const api = createFakeApi({ getStaffSession: signedIn("viewer"), listAuditLog: () => ({ status: 200, body: auditLog() }) });
    renderConsole(api.fetch, "/audit");
    expect(await screen.findByRole("heading", { level: 1, name: "Audit log" })).toBeTruthy();
    const row = (await screen.findByText("createRefund")).closest("tr");
    if (row === null) throw new Error("no row");
    expect([...row.querySelectorAll("td")].map((cell) => cell.textContent)).toEqual([
      "2026-12-03 11:00:00",
      "olivia",
      "createRefund",
      `order:${ORDER_ID}`,
      "6c1f8a0e-2d7c-4bd5-9b6e-0d6f5f7c2a11",
      "ok",
    ]);
  });
});
