export default async function globalTeardown() {
  await globalThis.__redisServer?.stop();
}
