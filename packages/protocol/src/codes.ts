/**
 * Codes (invites, link codes) are typed by people: Crockford base32, grouped by 4.
 * Normalising is shared so the server hashes exactly what a client would send.
 */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Uppercases, drops separators and maps the look-alikes Crockford base32 allows (O→0, I/L→1). */
export function normalizeCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

export function formatCode(normalized: string): string {
  return normalized.match(/.{1,4}/g)?.join('-') ?? '';
}

export function isWellFormedCode(input: string, length: number): boolean {
  const n = normalizeCode(input);
  if (n.length !== length) return false;
  for (const ch of n) if (!CODE_ALPHABET.includes(ch)) return false;
  return true;
}

export function normalizeUsername(input: string): string {
  return input.trim().toLowerCase();
}
