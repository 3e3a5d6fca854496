/**
 * The format of the ids the server makes (`newId` in server/db/ids.ts): a lowercase prefix, `_`,
 * then 26 characters of time and randomness in a 32-letter lowercase alphabet. Only text of this
 * shape is put into code the user copies; anything else in a URL is not an id of ours.
 */
const ID = /^[a-z]{1,16}_[0-9a-z]{26}$/;

declare const validId: unique symbol;
/** A string checked against the id format: URL-, HTML-, JS- and shell-inert by construction. */
export type TValidId = string & { readonly [validId]: true };

export function asValidId(text: string): TValidId | undefined {
  return ID.test(text) ? (text as TValidId) : undefined;
}
