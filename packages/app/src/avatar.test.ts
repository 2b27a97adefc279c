import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { avatarDataUrl, imageType } from './avatar.js';
import { MAX_AVATAR_BYTES, ProfileBody } from './api/index.js';

describe('profile pictures at the local API', () => {
  it('knows JPEG, PNG, GIF and WebP by their first bytes, and nothing else', () => {
    expect(imageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(imageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d]))).toBe('image/png');
    expect(imageType(new Uint8Array(Buffer.from('GIF89a')))).toBe('image/gif');
    expect(imageType(new Uint8Array(Buffer.from('RIFF\0\0\0\0WEBPVP8 ')))).toBe('image/webp');
    expect(imageType(new Uint8Array(Buffer.from('<svg onload=alert(1)>')))).toBeUndefined();
  });

  it('hands the page a data: URL of a known image type, or null', () => {
    expect(avatarDataUrl(undefined)).toBeNull();
    expect(avatarDataUrl(new Uint8Array(Buffer.from('<html>')))).toBeNull();
    expect(avatarDataUrl(new Uint8Array([0xff, 0xd8, 0xff]))).toBe('data:image/jpeg;base64,/9j/');
  });

  it('takes a name with a base64 picture, null to remove it, or none to keep it; nothing over 64 KiB', () => {
    expect(Value.Check(ProfileBody, { name: 'A' })).toBe(true);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: null })).toBe(true);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: Buffer.alloc(MAX_AVATAR_BYTES).toString('base64') })).toBe(true);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: Buffer.alloc(MAX_AVATAR_BYTES + 3).toString('base64') })).toBe(false);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: 'not base64!' })).toBe(false);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: '' })).toBe(false);
    // One spelling per image: "QUJ" and "QUI=" decode to the same bytes; only the canonical one passes.
    expect(Value.Check(ProfileBody, { name: 'A', avatar: 'QUI=' })).toBe(true);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: 'QUJ' })).toBe(false);
    expect(Value.Check(ProfileBody, { name: 'A', avatar: 'QUJ=' })).toBe(false);
    expect(Value.Check(ProfileBody, { name: 'A', extra: 1 })).toBe(false);
  });
});
