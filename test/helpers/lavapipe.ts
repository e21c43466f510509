/**
 * Mesa's lavapipe: a real Vulkan device that computes on the CPU (Debian `mesa-vulkan-drivers`
 * with `libvulkan1`), so the GPU code paths run on any machine. llama.cpp skips CPU-type Vulkan
 * devices unless `GGML_VK_VISIBLE_DEVICES` names them.
 *
 * Without lavapipe a test is skipped with the reason, except under CI=true, where a missing
 * lavapipe is a failure: CI installs it (`.ci/run`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseBool } from '../../src/config.js';

const ICD_FOLDERS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const LOADERS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

/** lavapipe's driver file, or why it cannot be used here. */
function findLavapipe(): { icd: string } | { missing: string } {
  if (!LOADERS.some((path) => existsSync(path))) return { missing: 'the Vulkan loader (libvulkan.so.1) is not installed: apt-get install libvulkan1' };
  for (const folder of ICD_FOLDERS) {
    const file = existsSync(folder) ? readdirSync(folder).find((name) => /^lvp_icd\..*\.json$/.test(name)) : undefined;
    if (file) return { icd: join(folder, file) };
  }
  return { missing: 'lavapipe is not installed: apt-get install mesa-vulkan-drivers' };
}

/**
 * The environment that puts llama.cpp's Vulkan build on lavapipe (`devices` names it that many
 * times: `0,0` is two devices that are the same one), or `{ skip }` with the reason.
 * @throws under CI=true when lavapipe is missing
 */
export function lavapipeEnv(devices = 1): { env: Record<string, string>; skip?: undefined } | { skip: string; env?: undefined } {
  const found = findLavapipe();
  if ('missing' in found) {
    if (parseBool(process.env.CI)) throw new Error(`CI must run the lavapipe tests, but ${found.missing}`);
    return { skip: found.missing };
  }
  return { env: { VK_DRIVER_FILES: found.icd, GGML_VK_VISIBLE_DEVICES: Array.from({ length: devices }, () => '0').join(',') } };
}

/** Puts `env` into this process's environment (GPU checks and workers are child processes that inherit it). */
export function useEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
