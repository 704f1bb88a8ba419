import type { Reference, Resource } from '@medplum/fhirtypes';

/**
 * The resources one message maps to, each once: the same clinician in PV1-7 and PV1-17, or the
 * same ward in PV1-3 and a later segment, is one resource. A later mention fills in what an
 * earlier one lacked; it never overwrites.
 */
export class ResourceSet {
  private readonly byKey = new Map<string, Resource & { id: string }>();

  add<T extends Resource & { id: string }>(resource: T): Reference<T> {
    const key = `${resource.resourceType}/${resource.id}`;
    const existing: (Resource & { id: string }) | undefined = this.byKey.get(key);
    const merged: Resource & { id: string } = existing ? Object.assign({}, resource, existing) : resource;
    this.byKey.set(key, merged);
    return { reference: key };
  }

  has(reference: string): boolean {
    return this.byKey.has(reference);
  }

  list(): (Resource & { id: string })[] {
    return [...this.byKey.values()];
  }
}
