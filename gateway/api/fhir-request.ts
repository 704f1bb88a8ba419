import type { Requester } from '../access/hooks';

/** A FHIR request as handlers see it: no Express, no HTTP. */
export interface FhirRequest {
  readonly requestId: string;
  readonly requester: Requester;
  /** e.g. https://carebridge.example.nhs.uk/fhir, for fullUrl and links. */
  readonly baseUrl: string;
  readonly resourceType?: string;
  readonly id?: string;
  readonly versionId?: string;
  readonly query: URLSearchParams;
}

export interface FhirResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}
