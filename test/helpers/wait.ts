/** Polls `cond` until it holds or `timeoutMs` passes (then throws, with `describe()` for context). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, describe?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${describe ? `: ${describe()}` : ''}`);
}
