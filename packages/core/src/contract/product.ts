import { z } from "zod";
import { CurrencySchema, MinorUnitsSchema } from "./common.js";

export const ProductSchema = z.object({
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(128),
  /** Unit price in the currency's minor units; set on the server only. */
  price: MinorUnitsSchema,
  currency: CurrencySchema,
});
export type Product = z.infer<typeof ProductSchema>;

export const ProductListResponseSchema = z.object({ products: z.array(ProductSchema) });
export type ProductListResponse = z.infer<typeof ProductListResponseSchema>;
