import type { TDatabase } from "../../db/database.ts";
import { siteNotInWorkspace } from "../../workspaces/require-site.ts";
import type { TRecordResult } from "../recorded-event.schema.ts";
import { requireOwnUserIds, type TActor } from "./actor.ts";
import { openBatch } from "./ingest.repo.ts";
import { lockKeysFor } from "./lock-keys.ts";
import { identifiersOf, prepare, uniqueIdentifiers, type TIngestBody } from "./prepare.ts";
import { dedupe, resolveProfiles } from "./resolve.ts";
import { buildResult } from "./result.ts";
import { toBatchWrite } from "./rows.ts";
import { withTransactionRetry } from "./transaction-retry.ts";
import { stageCeilingFor, trustOf } from "./trust.ts";
import { writeBatch } from "./write-batch.repo.ts";

export type TIngestInput = {
  workspaceId: string;
  actor: TActor;
  body: TIngestBody;
  /** The request's one clock (received_at and every other timestamp it writes); default: now. */
  receivedAt?: Date;
};

/**
 * The one ingest use case every door calls (session, API key, Stripe, browser): records a
 * validated batch for the actor in ONE transaction (retried on deadlock or a lost race): event
 * log, profiles (created or merged), identifiers, timeline, funnel stage and counters.
 * Duplicates by `(siteId, messageId)` within the door's namespace are reported, not re-recorded;
 * what the door's events may do is its row of TRUST_POLICY (trust.ts).
 *
 * The steps: the actor's rules → lock keys → open the batch (site check, locks, what is stored)
 * → prepare each event → set duplicates aside → plan the profiles → write it all with the COMMIT
 * → answer per event.
 */
export async function ingestEvents(db: TDatabase, input: TIngestInput): Promise<TRecordResult> {
  const { workspaceId, actor, body } = input;
  const now = input.receivedAt ?? new Date();
  const scope = { workspaceId, siteId: body.siteId };
  const identifiersByEvent = body.events.map(identifiersOf);
  const identifiers = uniqueIdentifiers(identifiersByEvent);
  const messageIds = body.events.flatMap((e) => (e.messageId ? [e.messageId] : []));
  const { messageScope } = trustOf(actor);
  const lockKeys = lockKeysFor(scope, identifiers, messageScope, messageIds);
  return withTransactionRetry(
    db,
    async (tx) => {
      const opened = await openBatch(tx, scope, lockKeys, identifiers, { scope: messageScope, ids: messageIds });
      if (!opened) throw siteNotInWorkspace();
      requireOwnUserIds(actor, body.events);
      const { site, locked } = opened;
      const batch = { sentAt: body.sentAt, site, ceiling: stageCeilingFor(actor, site), now };
      const prepared = body.events.map((event, index) => prepare(event, index, identifiersByEvent[index] ?? [], batch));
      const deduped = dedupe(prepared, locked);
      const resolved = await resolveProfiles(tx, workspaceId, deduped);
      const stages = await writeBatch(tx, toBatchWrite({ workspaceId, actor, site, now }, deduped.fresh, resolved));
      return buildResult(prepared, deduped, resolved, stages);
    },
    { genericPlans: true },
  );
}
