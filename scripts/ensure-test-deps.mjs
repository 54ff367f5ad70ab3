// Runs before `npm test`: the suites start their own redis-server and redis-sentinel and drive
// Debian's chromium.
// When one is missing and we are root on Debian (CI, a fresh machine), install it with apt-get;
// otherwise say how.
import { execSync, spawnSync } from 'node:child_process';

const needed = [
  { binary: 'redis-server', pkg: 'redis-server' },
  { binary: 'redis-sentinel', pkg: 'redis-sentinel' },
  { binary: 'chromium', pkg: 'chromium' },
];
const has = (binary) => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
const missing = needed.filter(({ binary }) => !has(binary));

if (missing.length > 0) {
  const pkgs = missing.map(({ pkg }) => pkg).join(' ');
  const canInstall = process.getuid?.() === 0 && has('apt-get');
  if (!canInstall) {
    console.error(`Tests need: ${pkgs}. Install them, e.g. sudo apt-get install -y ${pkgs}`);
    process.exit(1);
  }
  console.log(`Installing test dependencies: ${pkgs}`);
  execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs}`, {
    stdio: 'inherit',
  });
}
