import { component, type FieldValue } from './field';

/** HD hierarchic designator (v2.5.1 §2.A.33): namespace ^ universal id ^ universal id type. */
export interface HierarchicDesignator {
  readonly namespaceId: string;
  readonly universalId: string;
  readonly universalIdType: string;
}

/** An HD sitting at component `start` of a field (its parts are then subcomponents). */
export function readHdComponent(value: FieldValue, start: number): HierarchicDesignator {
  return { namespaceId: component(value, start, 1), universalId: component(value, start, 2), universalIdType: component(value, start, 3) };
}

/** An HD that is a whole field (MSH-3, MSH-4). */
export function readHd(value: FieldValue): HierarchicDesignator {
  return { namespaceId: component(value, 1), universalId: component(value, 2), universalIdType: component(value, 3) };
}
