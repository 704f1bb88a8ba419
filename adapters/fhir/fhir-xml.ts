import type { Resource } from '@medplum/fhirtypes';
import { XMLParser } from 'fast-xml-parser';
import { primitiveJsonType, r4Elements, type R4Elements } from './r4-elements';

/**
 * FHIR R4 XML → FHIR JSON (https://hl7.org/fhir/R4/xml.html, json.html), driven by the base
 * definitions rather than guesses: whether an element repeats and whether a value is a boolean or
 * a number come from the element's definition, so a single `<given>` still becomes an array and
 * `<rank value="1"/>` a number. Handles primitives with ids and extensions (`_given`), choice
 * elements (`valueQuantity`), `contentReference` elements (Questionnaire.item.item), resources
 * inside resources (contained, Bundle.entry.resource, Parameters) and the XHTML narrative (kept
 * as its markup). fast-xml-parser does the XML itself.
 *
 * Used to turn the UK Core package (published as XML) into the JSON bundle the gateway loads;
 * it is general enough for any R4 resource.
 */

export class FhirXmlError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'FhirXmlError';
  }
}

type XmlNode = Record<string, unknown>;
const ATTR = '@_';
const TEXT = '#text';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Every element as an array, whatever its count: the FHIR definition decides what repeats.
  isArray: (_name, _jpath, _isLeaf, isAttribute) => !isAttribute,
  // The narrative is XHTML: kept as markup, not parsed into elements.
  stopNodes: ['*.div'],
});

function childElements(node: XmlNode): [string, XmlNode[]][] {
  return Object.entries(node).filter(([k]) => !k.startsWith(ATTR) && k !== TEXT) as [string, XmlNode[]][];
}

function attribute(node: XmlNode, name: string): string | undefined {
  const value = node[`${ATTR}${name}`];
  return typeof value === 'string' ? value : undefined;
}

function primitiveValue(raw: string, typeCode: string, path: string): string | number | boolean {
  switch (primitiveJsonType(typeCode)) {
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw new FhirXmlError(`'${raw}' is not a boolean`, path);
      return raw === 'true';
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new FhirXmlError(`'${raw}' is not a number`, path);
      return n;
    }
    case 'string':
    case undefined:
      return raw;
  }
}

function xhtml(node: XmlNode | string): string {
  // A stop node without attributes comes back as its raw inner markup.
  if (typeof node === 'string') return `<div xmlns="http://www.w3.org/1999/xhtml">${node}</div>`;
  const attributes = Object.entries(node)
    .filter(([k]) => k.startsWith(ATTR))
    .map(([k, v]) => ` ${k.slice(ATTR.length)}="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`)
    .join('');
  const namespace = attributes.includes(' xmlns=') ? '' : ' xmlns="http://www.w3.org/1999/xhtml"';
  const inner = typeof node[TEXT] === 'string' ? node[TEXT] : '';
  return `<div${namespace}${attributes}>${inner}</div>`;
}

class Converter {
  constructor(private readonly elements: R4Elements) {}

  resource(type: string, node: XmlNode, path: string): Resource {
    if (!this.elements.isResourceType(type)) throw new FhirXmlError(`<${type}> is not a FHIR R4 resource type`, path);
    return { resourceType: type, ...this.complex(type, node, path) } as Resource;
  }

  /** A complex value: its `id` (and Extension's `url`) attributes plus its child elements. */
  complex(prefix: string, node: XmlNode, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const id = attribute(node, 'id');
    if (id !== undefined) out['id'] = id;
    const url = attribute(node, 'url');
    if (url !== undefined) out['url'] = url;
    for (const [name, occurrences] of childElements(node)) {
      const element = this.elements.child(prefix, name);
      const childPath = `${path}.${name}`;
      if (!element) throw new FhirXmlError(`<${name}> is not an element of ${prefix}`, childPath);
      if (!element.isArray && occurrences.length > 1) throw new FhirXmlError(`<${name}> appears ${String(occurrences.length)} times but may appear once`, childPath);
      if (element.isPrimitive) {
        const values: (string | number | boolean | null)[] = [];
        const extras: (Record<string, unknown> | null)[] = [];
        occurrences.forEach((occurrence, i) => {
          const where = element.isArray ? `${childPath}[${String(i)}]` : childPath;
          if (element.typeCode === 'xhtml') {
            values.push(xhtml(occurrence));
            extras.push(null);
            return;
          }
          const raw = attribute(occurrence, 'value');
          values.push(raw === undefined ? null : primitiveValue(raw, element.typeCode, where));
          const extra = this.complex('Element', occurrence, where);
          delete extra['url'];
          extras.push(Object.keys(extra).length > 0 ? extra : null);
        });
        if (values.some((v) => v !== null)) out[name] = element.isArray ? values : values[0];
        if (extras.some((e) => e !== null)) out[`_${name}`] = element.isArray ? extras : extras[0];
        continue;
      }
      const converted = occurrences.map((occurrence, i) => {
        const where = element.isArray ? `${childPath}[${String(i)}]` : childPath;
        if (element.typeCode === 'Resource') {
          const inner = childElements(occurrence);
          const first = inner[0];
          if (inner.length !== 1 || first?.[1].length !== 1) throw new FhirXmlError(`<${name}> must hold exactly one resource`, where);
          return this.resource(first[0], first[1][0] as XmlNode, `${where}.${first[0]}`);
        }
        return this.complex(element.childPrefix, occurrence, where);
      });
      out[name] = element.isArray ? converted : converted[0];
    }
    return out;
  }
}

/** Parses one FHIR R4 resource in XML into FHIR JSON. Throws FhirXmlError naming the element path. */
export function fhirXmlToJson(xml: string, elements: R4Elements = r4Elements()): Resource {
  const document = parser.parse(xml) as XmlNode;
  const roots = childElements(document);
  const root = roots[0];
  if (roots.length !== 1 || root?.[1].length !== 1) throw new FhirXmlError('The document must hold exactly one resource', '/');
  return new Converter(elements).resource(root[0], root[1][0] as XmlNode, root[0]);
}
