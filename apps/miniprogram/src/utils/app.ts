import type { AppOption, AppServices } from "../services/app-services.js";

/** The app's services, for a page. */
export function appServices(): AppServices {
  return getApp<AppOption>().services;
}

/** Page routes, in one place for wx.navigateTo and friends. */
export const ROUTES = {
  products: "/pages/products/index",
  checkout: "/pages/checkout/index",
  result: (orderId: string): string => `/pages/result/index?id=${encodeURIComponent(orderId)}`,
  orders: "/pages/orders/index",
} as const;

/**
 * Opens a page, and shows why when that fails (an unknown route, a full page stack) instead of
 * dropping the failure: wx's navigation APIs report it only to a `fail` callback.
 */
export function navigate(api: "navigateTo" | "redirectTo" | "reLaunch", url: string): void {
  const fail = (result: WechatMiniprogram.GeneralCallbackResult): void => {
    wx.showToast({ title: `Could not open the page (${result.errMsg})`, icon: "none", duration: 3000, fail: (toast) => console.error(result.errMsg, toast.errMsg) });
  };
  switch (api) {
    case "navigateTo":
      wx.navigateTo({ url, fail });
      return;
    case "redirectTo":
      wx.redirectTo({ url, fail });
      return;
    case "reLaunch":
      wx.reLaunch({ url, fail });
      return;
  }
}

/** The `data-*` of the element a handler is bound on. */
export type TapEvent<Dataset extends WechatMiniprogram.IAnyObject = Record<string, never>> = WechatMiniprogram.BaseEvent<WechatMiniprogram.IAnyObject, Dataset>;

/** Text for an exception no code path expected, so that it is shown rather than lost. */
export function unexpected(error: unknown): string {
  return `Something went wrong in the app: ${error instanceof Error ? error.message : String(error)}`;
}
