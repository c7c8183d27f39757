/**
 * Text SQS accepts in a message attribute value: XML 1.0 characters only (#x9 #xA #xD
 * #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF). SQS refuses an entry holding anything else
 * (LocalStack too, and it fails the whole call on a lone surrogate), so text we did not fully
 * control passes through here before it becomes an attribute.
 */

/** Longest dead-letter reason attribute, in characters (UTF-16 units). */
export const MAX_REASON_ATTRIBUTE_CHARS = 1_024;

// Lone surrogates are matched explicitly: with the `u` flag they are code points of their own.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * `text` with every character SQS refuses replaced by U+FFFD, cut to `maxChars` without
 * splitting a surrogate pair; a placeholder when empty (SQS refuses an empty value).
 */
export function toSqsAttributeText(text: string, maxChars: number = MAX_REASON_ATTRIBUTE_CHARS): string {
  let clean = text.replace(NOT_XML_CHAR, '\uFFFD');
  if (clean.length > maxChars) {
    let end = Math.max(0, maxChars - 3);
    // Do not keep the first half of a pair alone: it would be a lone surrogate again.
    const last = clean.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1;
    clean = `${clean.slice(0, end)}...`;
  }
  return clean.length > 0 ? clean : '(empty)';
}
