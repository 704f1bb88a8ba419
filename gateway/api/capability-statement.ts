import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { allResourceTypes, IndexKind, indexedParams } from '../fhir/definitions';
import { BACKPORT } from '../../mappings/notify/notification';
import { ALL_TOPICS, topicCanonical } from '../../mappings/notify/topics';

const VERSION = '0.1.0';
let cached: Omit<CapabilityStatement, 'implementation'> | undefined;

function resourceEntry(type: string): CapabilityStatementRestResource {
  const params = [...indexedParams(type).values()];
  const includes = params.filter((p) => p.kind === IndexKind.REFERENCE).map((p) => `${type}:${p.code}`);
  return {
    type: type as CapabilityStatementRestResource["type"],
    interaction: [{ code: 'read' }, { code: 'vread' }, { code: 'history-instance' }, { code: 'search-type' }],
    versioning: 'versioned',
    readHistory: true,
    updateCreate: false,
    ...(includes.length > 0 ? { searchInclude: includes } : {}),
    searchParam: [
      { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' },
      { name: '_lastUpdated', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated' },
      ...params.map((p) => ({ name: p.code, type: p.definition.type, ...(p.definition.url ? { definition: p.definition.url } : {}) })),
    ],
    ...(type === 'Patient' ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] } : {}),
  };
}

/**
 * Subscription is the one FHIR write (notify/router.ts): a system creates, reads, lists and
 * deletes its own subscriptions and asks their `$status`; topic-based, per the Subscriptions R5
 * Backport IG, whose extension lists the topics offered.
 */
function subscriptionEntry(): CapabilityStatementRestResource {
  return {
    extension: ALL_TOPICS.map((t) => ({ url: `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`, valueCanonical: topicCanonical(t) })),
    type: 'Subscription',
    supportedProfile: [`${BACKPORT}/backport-subscription`],
    interaction: [{ code: 'create' }, { code: 'read' }, { code: 'delete' }, { code: 'search-type' }],
    versioning: 'no-version',
    readHistory: false,
    updateCreate: false,
    searchParam: [{ name: 'status', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Subscription-status' }],
    operation: [{ name: 'status', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status' }],
  };
}

/**
 * What this server does, exactly: read-only R4 (read, vread, instance history, type search) on every
 * resource type, the search parameters that are indexed (composite and special ones are not), and
 * Patient/$everything. No other write interactions: people never write through /fhir; systems
 * may subscribe to notifications.
 */
export function capabilityStatement(baseUrl: string): CapabilityStatement {
  cached ??= {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    publisher: 'CareBridge',
    software: { name: 'CareBridge', version: VERSION },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Read-only shared care record. Search supports token (system|code, |code, system|, :not), string (default starts-with, :exact, :contains), date with prefixes and partial dates, reference ([Type/]id, :Type), number and quantity with prefixes, :missing, _id, _lastUpdated, _count (max 1000), _sort, _include and _revinclude (one level), _summary=count, _total. Paging links use an opaque _cursor.',
        resource: allResourceTypes().map((type) => (type === 'Subscription' ? subscriptionEntry() : resourceEntry(type))),
      },
    ],
  };
  return { ...cached, implementation: { description: 'CareBridge FHIR gateway', url: baseUrl } };
}
