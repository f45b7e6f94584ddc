import { describe, expect, it } from "vitest";
import { clientAddress, createClientIp } from "./client-ip.js";

describe("clientAddress", () => {
  const SOCKET = "10.0.0.2";

  it("is the connection's address with no proxy trusted, whatever X-Forwarded-For claims", () => {
    expect(clientAddress("198.51.100.9", 0, SOCKET)).toBe(SOCKET);
    expect(clientAddress(undefined, 0, SOCKET)).toBe(SOCKET);
  });

  it("is the Nth address from the right behind N proxies: what a client prepends is never taken", () => {
    expect(clientAddress("203.0.113.5", 1, SOCKET)).toBe("203.0.113.5");
    expect(clientAddress("6.6.6.6, 203.0.113.5", 1, SOCKET)).toBe("203.0.113.5");
    expect(clientAddress("6.6.6.6,203.0.113.5 , 192.0.2.1", 2, SOCKET)).toBe("203.0.113.5");
    expect(clientAddress("2001:db8::1, 192.0.2.1", 2, SOCKET)).toBe("2001:db8::1");
  });

  it("takes the leftmost when the header holds fewer addresses than proxies (as Koa's maxIpsCount does), the connection's without one", () => {
    expect(clientAddress("203.0.113.5", 2, SOCKET)).toBe("203.0.113.5");
    expect(clientAddress(undefined, 1, SOCKET)).toBe(SOCKET);
    expect(clientAddress(" , ", 1, SOCKET)).toBe(SOCKET);
  });

  it("refuses to be built without a proxy to trust", () => {
    expect(() => createClientIp(0)).toThrow(/hops/);
    expect(() => createClientIp(1.5)).toThrow(/hops/);
  });
});
