import { describe, expect, it, vi } from "vitest";
import { apiRefusal, json } from "../../../test/support/fake-platform.js";
import { appPerTest } from "../../../test/support/launch.js";

const newApp = appPerTest();

describe("products page", () => {
  it("lists the products with prices in each currency's minor units", async () => {
    const app = newApp();
    app.rt.launch();
    await app.rt.idle();
    expect(app.rt.text("add-coffee-beans")).toBe("Add");
    expect(app.rt.text()).toContain("Coffee beans ¥48.00");
    expect(app.rt.text()).toContain("Tea ¥12.50");
  });

  it("shows yen without decimals and dinars with three", async () => {
    const app = newApp({
      products: [
        { id: "matcha", name: "Matcha", price: 1750, currency: "JPY" },
        { id: "dates", name: "Dates", price: 1250, currency: "KWD" },
      ],
    });
    app.rt.launch();
    await app.rt.idle();
    expect(app.rt.text()).toContain("Matcha ¥1,750");
    expect(app.rt.text()).toContain("Dates KWD 1.250");
  });

  it("adds to the cart, shows the count and total, and opens checkout", async () => {
    const app = newApp();
    app.rt.launch();
    const { rt } = app;
    await rt.idle();
    await expect(rt.tap("checkout")).rejects.toThrow(/disabled/);
    await rt.tap("add-coffee-beans");
    await rt.tap("add-coffee-beans");
    await rt.tap("add-tea");
    expect(rt.text("add-coffee-beans")).toBe("Add (2)");
    expect(rt.text("checkout")).toBe("Checkout (3) ¥108.50");
    await rt.tap("checkout");
    expect(rt.current().route).toBe("pages/checkout/index");
    expect(rt.text("total")).toBe("¥108.50");
  });

  it("says why the list is missing and loads it on Try again", async () => {
    const app = newApp();
    app.rt.launch();
    const { rt, platform, api } = app;
    platform.serve(() => ({ networkError: "request:fail net::ERR_CONNECTION_REFUSED" }));
    await rt.idle();
    expect(rt.text()).toContain("Products could not be loaded. The server could not be reached (request:fail net::ERR_CONNECTION_REFUSED).");
    platform.serve((request) => api.handle(request));
    await rt.tap("retry");
    expect(rt.text()).not.toContain("could not be loaded");
    expect(rt.text()).toContain("Tea ¥12.50");
  });

  it("shows a product list the contract refuses (an unknown currency) as an error, not as prices", async () => {
    const app = newApp();
    const { rt, platform, api } = app;
    platform.serve(() => json(200, { products: [{ id: "gold", name: "Gold", price: 100, currency: "XAU" }] }));
    rt.launch();
    await rt.idle();
    expect(rt.text()).toContain("Products could not be loaded. The server's answer does not match what this version of the app understands. Try again later, or update the app.");
    expect(rt.text()).not.toContain("Gold");
    platform.serve((request) => api.handle(request));
    await rt.tap("retry");
    expect(rt.text()).toContain("Tea ¥12.50");
  });

  it("keeps Try again disabled with the countdown when the server asks to wait", async () => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T00:00:00Z") });
    try {
      const app = newApp();
      const { rt, api, platform } = app;
      api.once("listProducts", apiRefusal(503, "OVERLOADED", 2));
      rt.launch();
      await rt.idle();
      expect(rt.text()).toContain("Products could not be loaded. The server is busy. Try again in 2 s.");
      expect(rt.text("retry")).toBe("Try again in 2 s");
      await expect(rt.tap("retry")).rejects.toThrow(/disabled/);
      await vi.advanceTimersByTimeAsync(2_000);
      await rt.tap("retry");
      expect(rt.text()).toContain("Tea ¥12.50");
      expect(platform.requests.filter((r) => r.path === "/api/products")).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
