import { toAppError } from '@agentry/schema';
import { configuredRefs } from '../commands/secrets';
import { fail, pass, type DoctorCheck } from './doctor-check';

/** Every configured secret reference resolves (what `agentry secrets check` does, in one line). */
export const secretsCheck: DoctorCheck = {
  name: 'secrets',
  async run(ctx) {
    let refs: Array<{ variable: string; ref: string }>;
    try {
      refs = configuredRefs(ctx.env);
    } catch (e) {
      return fail(
        `the model settings are invalid: ${toAppError(e).message}`,
        'correct the AGENTRY_LLM_* variables named',
      );
    }
    if (refs.length === 0) return pass('no secret references configured');
    const failures = (
      await Promise.all(
        refs.map(async ({ variable, ref }) => {
          try {
            await ctx.secrets.get(ref);
            return undefined;
          } catch (e) {
            const error = toAppError(e);
            return { variable, text: `${variable} (${ref}): ${error.code}: ${error.message}` };
          }
        }),
      )
    ).filter((f) => f !== undefined);
    if (failures.length > 0) {
      return fail(
        `${failures.length} of ${refs.length} references do not resolve: ${failures.map((f) => f.text).join('; ')}`,
        `correct ${failures.map((f) => f.variable).join(', ')}, or the secret it names (agentry secrets check lists each reference)`,
      );
    }
    return pass(`${refs.length} reference(s) resolve: ${refs.map((r) => r.variable).join(', ')}`);
  },
};
