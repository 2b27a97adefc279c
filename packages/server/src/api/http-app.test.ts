import { Routes } from '@kluis/protocol';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from './index.js';

describe('route table', () => {
  it('implements every route of the protocol exactly once', () => {
    expect(apiRoutes.map((r) => r.name).sort()).toEqual(Object.keys(Routes).sort());
  });
});
