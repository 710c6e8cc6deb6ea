import type { ErrorCode } from '../errors.js';
import type { ReloadResult } from './types.js';

/** A reload that ran and failed, as its callers see it: the whole result (daemon side and client side alike). */
export class ReloadFailedError extends Error {
  override name = 'ReloadFailedError';
  readonly result: ReloadResult;

  constructor(result: ReloadResult) {
    super(result.error?.message ?? `${result.mode} #${result.id} failed`);
    this.result = result;
  }

  get code(): ErrorCode {
    return this.result.error?.code ?? 'failure';
  }

  get lines(): string[] {
    return this.result.error?.lines ?? [];
  }
}
