import type { Subscription } from '@kluis/app/api';

/** The server's brand colours, applied only when they are plain colours (nothing else reaches CSS). */
export function applyBrand(sub: Subscription | null | undefined): void {
  const set = (name: string, value: string | null | undefined) => {
    if (value && /^#[0-9a-f]{3,8}$/i.test(value)) document.documentElement.style.setProperty(name, value);
  };
  set('--primary', sub?.brand.primaryColor);
  set('--accent', sub?.brand.accentColor);
}
