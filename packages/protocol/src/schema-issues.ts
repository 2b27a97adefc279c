import { BASE64_FORMAT, DISPLAY_TEXT_PATTERN } from './common.js';

/** A schema violation as ajv (Fastify's validator) reports it. */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** One readable sentence (server and app host alike) for the first schema violation, e.g. "body/messages/0/deviceId must be <= 127". */
export function describeSchemaIssue(issue: SchemaIssue, dataVar: string): string {
  const where = `${dataVar}${issue.instancePath}`;
  if (issue.keyword === 'additionalProperties') return `${where} has an unknown property '${String(issue.params?.additionalProperty)}'`;
  if (issue.keyword === 'required') return `${where} is missing the required property '${String(issue.params?.missingProperty)}'`;
  if (issue.keyword === 'format' && issue.params?.format === BASE64_FORMAT) {
    return `${where} is not canonical standard base64 (A-Z a-z 0-9 + /, '=' padding to a multiple of 4 characters, unused bits zero)`;
  }
  if (issue.keyword === 'pattern' && issue.params?.pattern === DISPLAY_TEXT_PATTERN) {
    return `${where} contains a character refused in names: a control character, a bidirectional override, isolate or mark, an invisible formatting character, or a lone surrogate (each lets one name pass for another)`;
  }
  return `${where} ${issue.message ?? 'is invalid'}`;
}
