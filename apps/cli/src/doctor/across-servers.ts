import { isCluster, masterServers } from '@agentry/queue';
import type { CheckStatus, DoctorCheck, Finding } from './doctor-check';

const rank: Record<CheckStatus, number> = { pass: 0, skip: 1, warn: 2, fail: 3 };

/**
 * A check of one Redis server's settings (version, eviction, persistence, memory), run on every
 * master of a Redis Cluster: each node is a server of its own, and one that evicts or does not
 * persist loses the jobs of its slots. The worst finding is the check's status; the findings are
 * listed by node. On a single Redis it is `check` itself.
 */
export function acrossServers(check: DoctorCheck): DoctorCheck {
  return {
    name: check.name,
    async run(ctx, signal) {
      const redis = await ctx.redis();
      if (!redis.ok || !isCluster(redis.value)) return check.run(ctx, signal);
      const masters = masterServers(redis.value);
      if (masters.length === 0) return check.run(ctx, signal);
      // Each node's check names its server by a token, replaced below once we know whether the
      // nodes agree (one line for all) or not (a line part per node).
      const token = '<this master>';
      const findings = await Promise.all(
        masters.map(async (node) => {
          const where = `${node.options.host ?? ''}:${String(node.options.port ?? '')}`;
          const opened = { ok: true as const, value: node };
          const finding = await check.run(
            { ...ctx, redis: () => Promise.resolve(opened), redisWhere: token },
            signal,
          );
          return { where, finding };
        }),
      );
      const worst = findings.reduce((a, b) =>
        rank[b.finding.status] > rank[a.finding.status] ? b : a,
      );
      const same = findings.every((f) => f.finding.finding === worst.finding.finding);
      const named = (text: string, where: string) =>
        text.includes(token) ? text.replaceAll(token, where) : `${where}: ${text}`;
      const result: Finding = {
        status: worst.finding.status,
        finding: same
          ? `${worst.finding.finding.replaceAll(token, ctx.redisWhere)} (all ${findings.length} masters)`
          : findings.map((f) => named(f.finding.finding, f.where)).join('; '),
      };
      if (worst.finding.fix !== undefined) result.fix = named(worst.finding.fix, worst.where);
      return result;
    },
  };
}
