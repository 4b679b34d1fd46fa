/**
 * Whether a node has answered for its desired content, as SQL over `config.nodes n` LEFT JOIN
 * `config.node_reports r`. One definition for the fleet status (`pending`) and the nudger (who is
 * asked again), so the two never disagree about which nodes are still waiting.
 */

/** The node acknowledged exactly its desired (revision, hash). */
export const APPLIED_DESIRED_SQL = `coalesce(r."applied_revision" = n."desired_revision" AND r."applied_hash" = n."desired_hash", false)`;

/** The node reported that applying exactly its desired content failed (it answered). */
export const FAILED_DESIRED_SQL = `coalesce(r."last_ok" = false AND r."last_hash" = n."desired_hash", false)`;

/** Still waiting for an answer about the desired content. */
export const UNANSWERED_SQL = `(NOT ${APPLIED_DESIRED_SQL} AND NOT ${FAILED_DESIRED_SQL})`;
