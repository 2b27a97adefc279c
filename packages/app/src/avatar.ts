/** Profile pictures travel to the page as data: URLs of a known image type, never as anything the page would run. */
const SIGNATURES: [string, number[]][] = [
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/png', [0x89, 0x50, 0x4e, 0x47]],
  ['image/gif', [0x47, 0x49, 0x46, 0x38]],
];

export function imageType(bytes: Uint8Array): string | undefined {
  for (const [type, sig] of SIGNATURES) if (sig.every((b, i) => bytes[i] === b)) return type;
  // RIFF....WEBP
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return 'image/webp';
  return undefined;
}

/** null when there is no picture or it is not an image type we show. */
export function avatarDataUrl(bytes: Uint8Array | undefined): string | null {
  if (!bytes || bytes.length === 0) return null;
  const type = imageType(bytes);
  return type ? `data:${type};base64,${Buffer.from(bytes).toString('base64')}` : null;
}
