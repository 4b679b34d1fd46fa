/**
 * NATS subject layout. Every subject starts with a configurable root (default `fleet`) so that
 * several fleets, or parallel test runs, can share one NATS cluster without seeing each other.
 *
 *   <root>.agent.<nodeId>.<verb>      agent → platform (a node's credentials can be confined to it)
 *   <root>.agent.<nodeId>.report.<area>  agent → platform, JetStream (durable, deduplicated)
 *   <root>.node.<nodeId>.<topic>      platform → agent (desired-state notices)
 *   <root>.svc.<service>.<verb>       request/reply APIs, served by a queue group per service
 *   <root>.events.<area>.<event>      JetStream stream <ROOT>_EVENTS
 */
export const DEFAULT_SUBJECT_ROOT = 'fleet';

const TOKEN = /^[A-Za-z0-9_-]+$/;

export function isSubjectToken(value: string): boolean {
  return TOKEN.test(value);
}

export class Subjects {
  constructor(readonly root: string = DEFAULT_SUBJECT_ROOT) {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(root)) {
      throw new Error(`invalid subject root "${root}"`);
    }
  }

  agent(nodeId: string, verb: 'hello' | 'heartbeat' | 'report' | string): string {
    return `${this.root}.agent.${nodeId}.${verb}`;
  }

  /** Wildcard for a verb from every agent; the node id is token index `agentIdIndex`. */
  anyAgent(verb: string): string {
    return `${this.root}.agent.*.${verb}`;
  }

  get agentIdIndex(): number {
    return this.root.split('.').length + 1;
  }

  nodeIdOf(subject: string): string | undefined {
    return subject.split('.')[this.agentIdIndex];
  }

  /** Durable agent report for one area (`update`, `config`, `discovery`), via JetStream. */
  agentReport(nodeId: string, area: string): string {
    return `${this.root}.agent.${nodeId}.report.${area}`;
  }

  anyAgentReport(area: string): string {
    return `${this.root}.agent.*.report.${area}`;
  }

  get allAgentReports(): string {
    return `${this.root}.agent.*.report.>`;
  }

  node(nodeId: string, topic: string): string {
    return `${this.root}.node.${nodeId}.${topic}`;
  }

  /** Reply inbox prefix of a node's agent: inside the tree its credentials may subscribe to. */
  nodeInbox(nodeId: string): string {
    return `${this.root}.node.${nodeId}._INBOX`;
  }

  anyNode(topic: string): string {
    return `${this.root}.node.*.${topic}`;
  }

  svc(service: string, verb: string): string {
    return `${this.root}.svc.${service}.${verb}`;
  }

  event(area: string, event: string): string {
    return `${this.root}.events.${area}.${event}`;
  }

  get allEvents(): string {
    return `${this.root}.events.>`;
  }

  /** JetStream stream holding every event: `FLEET_EVENTS` for the default root. */
  get eventsStream(): string {
    return `${this.root.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_EVENTS`;
  }

  /** JetStream stream holding agent reports (`<root>.agent.*.report.>`). */
  get reportsStream(): string {
    return `${this.root.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_REPORTS`;
  }

  /** Queue group shared by the replicas of one service. */
  queue(service: string): string {
    return `${this.root}-${service}`;
  }
}
