/** Catalog events: a product changed or was removed at the Product Catalog. */
import { z } from 'zod';
import { ASIN, identifierSchema } from '../identifier-rules.ts';
import { eventBaseShape, localesField } from './event-base.ts';

/** `catalog.product.updated` v1: any attribute of the product changed (title, price shown, stock...). */
export const catalogProductUpdatedV1 = z.strictObject({
  ...eventBaseShape,
  type: z.literal('catalog.product.updated'),
  asin: identifierSchema(ASIN),
  locales: localesField,
});

/** `catalog.product.deleted` v1: the product is gone; every cached variant must go. */
export const catalogProductDeletedV1 = z.strictObject({
  ...eventBaseShape,
  type: z.literal('catalog.product.deleted'),
  asin: identifierSchema(ASIN),
  locales: localesField,
});

export type CatalogProductUpdated = z.output<typeof catalogProductUpdatedV1>;
export type CatalogProductDeleted = z.output<typeof catalogProductDeletedV1>;
