import { useEffect, useState } from 'preact/hooks';
import { UiMessage } from './errors.js';

/** The SDK's limit for a profile picture. */
export const MAX_AVATAR_BYTES = 64 * 1024;

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function loadImage(file: Blob): Promise<HTMLImageElement> {
  const url = URL.createObjectURL(file);
  return new Promise<HTMLImageElement>((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new UiMessage('account.avatarUnreadable'));
    img.src = url;
  }).finally(() => URL.revokeObjectURL(url));
}

function toJpeg(canvas: HTMLCanvasElement, quality: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/**
 * A picked file as base64 of at most 64 KiB: as it is when it already fits, otherwise
 * drawn smaller on a canvas and saved as JPEG (which also drops the file's metadata).
 */
export async function avatarFromFile(file: File): Promise<{ type: string; data: string }> {
  if (!file.type.startsWith('image/')) throw new UiMessage('account.avatarUnreadable');
  const img = await loadImage(file);
  if (file.size <= MAX_AVATAR_BYTES && /^image\/(jpeg|png|gif|webp)$/.test(file.type)) return { type: file.type, data: base64(new Uint8Array(await file.arrayBuffer())) };
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  if (!ctx || !img.naturalWidth || !img.naturalHeight) throw new UiMessage('account.avatarUnreadable');
  for (let side = 512; side >= 64; side = Math.round(side * 0.75)) {
    const scale = Math.min(1, side / Math.max(img.naturalWidth, img.naturalHeight));
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    ctx.fillStyle = '#fff'; // JPEG has no transparency
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    for (const quality of [0.85, 0.7, 0.5]) {
      const blob = await toJpeg(canvas, quality);
      if (blob && blob.size <= MAX_AVATAR_BYTES) return { type: 'image/jpeg', data: base64(new Uint8Array(await blob.arrayBuffer())) };
    }
  }
  throw new UiMessage('account.avatarTooLarge');
}

/**
 * The host sends pictures as data: URLs; the page's CSP allows images only from itself and
 * blob:, so they are shown through a blob: URL that is let go when no longer needed.
 */
export function useImageUrl(dataUrl: string | null | undefined): string | undefined {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    const m = dataUrl ? /^data:(image\/[a-z+.-]+);base64,([A-Za-z0-9+/]*={0,2})$/.exec(dataUrl) : null;
    if (!m) {
      setUrl(undefined);
      return;
    }
    const bin = atob(m[2]!);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const u = URL.createObjectURL(new Blob([bytes], { type: m[1] }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [dataUrl]);
  return url;
}
