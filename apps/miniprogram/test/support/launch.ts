import type { Product } from "@pay/core/contract";
import { afterEach, expect, inject } from "vitest";
import { createFakeApi, type FakeApi } from "./fake-api.js";
import { createFakePlatform, type FakePlatform } from "./fake-platform.js";
import { createMiniRuntime, type MiniRuntime } from "./mini-runtime.js";

/** This run's build in the mini runtime, wired to the fake API; `rt.launch(url)` starts it. */
export interface TestApp {
  readonly rt: MiniRuntime;
  readonly platform: FakePlatform;
  readonly api: FakeApi;
}

export function createTestApp(options: { readonly products?: Product[] } = {}): TestApp {
  const platform = createFakePlatform();
  const api = createFakeApi(options.products);
  platform.serve((request) => api.handle(request));
  return { rt: createMiniRuntime({ dir: inject("buildDir"), platform }), platform, api };
}

/**
 * For a test file: creates apps like createTestApp and, after each test, closes the app (its pages
 * stop their timers) and fails the test if a lifecycle function or handler threw or rejected.
 */
export function appPerTest(): (options?: Parameters<typeof createTestApp>[0]) => TestApp {
  let current: TestApp | undefined;
  afterEach(() => {
    const errors = current?.rt.errors ?? [];
    current?.rt.close();
    current = undefined;
    expect(errors).toEqual([]);
  });
  return (options) => {
    current = createTestApp(options);
    return current;
  };
}
