import type { ProductListResponse } from "@pay/core/contract";
import { listActiveProducts } from "../db/products.js";
import type { ServiceContext } from "./context.js";

/** GET /api/products: what can be ordered, in the merchant's currency. */
export async function listProducts(ctx: ServiceContext): Promise<ProductListResponse> {
  const currency = ctx.config.merchant.feeType;
  const rows = await listActiveProducts(ctx.db, currency);
  return { products: rows.map((p) => ({ id: p.id, name: p.name, price: p.price, currency })) };
}
