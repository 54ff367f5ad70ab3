const PROBE_COMMANDS = /^(info|config\|.*)$/;
export async function resetRedisStats(redis) {
    await redis.config('RESETSTAT');
    return cpuMicros(await redis.info('cpu'));
}
/** The work since `resetRedisStats`, which returned `cpuAtReset`. */
export async function redisWorkSince(redis, cpuAtReset) {
    const [stats, cpu] = [await redis.info('commandstats'), await redis.info('cpu')];
    const commands = {};
    for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (!PROBE_COMMANDS.test(match[1]))
            commands[match[1]] = Number(match[2]);
    }
    const totalCommands = Object.values(commands).reduce((sum, n) => sum + n, 0);
    return { commands, totalCommands, cpuMicros: cpuMicros(cpu) - cpuAtReset };
}
function cpuMicros(info) {
    const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6);
}
