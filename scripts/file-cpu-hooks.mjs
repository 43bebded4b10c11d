// Module hooks of scripts/file-cpu.mjs: tells the worker's main thread the URL of the first test file it loads.
let port;
export function initialize(data) {
  port = data.port;
}
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (port && /\.test\.[cm]?[jt]s$/.test(resolved.url)) {
    port.postMessage(resolved.url);
    port = undefined;
  }
  return resolved;
}
