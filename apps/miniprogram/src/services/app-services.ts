import { createApiClient, type ApiClient } from "../api/client.js";
import type { Clock } from "../utils/clock.js";
import type { WxPort } from "../utils/wx-port.js";
import { createCart, type Cart } from "./cart.js";
import { createCheckout, type Checkout } from "./checkout.js";

/** What every page reaches through getApp(): one API client, one cart, one checkout for the app's life. */
export interface AppServices {
  readonly wx: WxPort;
  readonly api: ApiClient;
  readonly cart: Cart;
  readonly checkout: Checkout;
  readonly clock: Clock;
}

/** The App() options' shape, for getApp<AppOption>(). */
export interface AppOption {
  readonly services: AppServices;
}

export interface AppServicesOptions {
  readonly wx: WxPort;
  readonly baseUrl: string;
  readonly contractVersion: string;
  readonly clock: Clock;
}

export function createAppServices(options: AppServicesOptions): AppServices {
  const { wx, clock } = options;
  const api = createApiClient({ wx, baseUrl: options.baseUrl, contractVersion: options.contractVersion, clock });
  const cart = createCart();
  return { wx, api, cart, checkout: createCheckout({ api, wx, cart, clock }), clock };
}
