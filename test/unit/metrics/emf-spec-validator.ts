/**
 * A validator of CloudWatch embedded metric format documents, written from the published
 * specification ("Specification: Embedded metric format", CloudWatch User Guide):
 * - the log event is one JSON object, nothing before or after it;
 * - root member `_aws` (object) with `Timestamp` (integer ms since epoch) and
 *   `CloudWatchMetrics` (array of MetricDirective);
 * - MetricDirective: `Namespace` (string, 1..255), `Dimensions` (array of DimensionSet, at
 *   least one), `Metrics` (array of at most 100 MetricDefinition); no other members;
 * - DimensionSet: array of at most 30 dimension keys (strings 1..255), each a root member
 *   with a string value;
 * - MetricDefinition: `Name` (string 1..255, a root member that is a number or an array of at
 *   most 100 numbers), optional `Unit` (a CloudWatch unit), optional `StorageResolution`
 *   (1 or 60); no other members;
 * - targets are root members, never nested; the event is at most 1 MB (256 KB before 2023;
 *   we hold ourselves to the older limit).
 */
export const EMF_UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 255;
const onlyKeys = (
  o: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
  errors: string[],
): void => {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errors.push(`${where}: unexpected member ${k}`);
};

/** Every rule the line breaks; empty when it is a valid EMF document. */
export function validateEmfLine(line: string): string[] {
  const errors: string[] = [];
  if (Buffer.byteLength(line, 'utf8') > 256 * 1024) errors.push('event larger than 256 KB');
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return ['not a JSON document (or data around it)'];
  }
  if (!isObject(doc)) return ['root is not a JSON object'];
  const aws = doc._aws;
  if (!isObject(aws)) return ['root has no _aws object'];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 1e12) {
    errors.push('_aws.Timestamp must be an integer of milliseconds since epoch');
  }
  if (!Array.isArray(aws.CloudWatchMetrics)) return [...errors, '_aws.CloudWatchMetrics must be an array'];
  aws.CloudWatchMetrics.forEach((directive: unknown, i) => {
    const where = `CloudWatchMetrics[${i}]`;
    if (!isObject(directive)) {
      errors.push(`${where} is not an object`);
      return;
    }
    onlyKeys(directive, ['Namespace', 'Dimensions', 'Metrics'], where, errors);
    if (!isName(directive.Namespace)) errors.push(`${where}.Namespace must be a string of 1..255`);
    if (!Array.isArray(directive.Dimensions) || directive.Dimensions.length === 0) {
      errors.push(`${where}.Dimensions must be a non-empty array of dimension sets`);
    } else {
      directive.Dimensions.forEach((set: unknown, j) => {
        if (!Array.isArray(set)) return errors.push(`${where}.Dimensions[${j}] is not an array`);
        if (set.length > 30) errors.push(`${where}.Dimensions[${j}] has more than 30 keys`);
        for (const key of set) {
          if (!isName(key)) errors.push(`${where}.Dimensions[${j}] has a bad key`);
          else if (typeof doc[key] !== 'string')
            errors.push(`dimension ${key} is not a root member with a string value`);
        }
        return undefined;
      });
    }
    if (!Array.isArray(directive.Metrics)) {
      errors.push(`${where}.Metrics must be an array`);
      return;
    }
    if (directive.Metrics.length > 100) errors.push(`${where}.Metrics has more than 100 definitions`);
    directive.Metrics.forEach((def: unknown, j) => {
      const at = `${where}.Metrics[${j}]`;
      if (!isObject(def)) return errors.push(`${at} is not an object`);
      onlyKeys(def, ['Name', 'Unit', 'StorageResolution'], at, errors);
      if (!isName(def.Name)) return errors.push(`${at}.Name must be a string of 1..255`);
      if (def.Unit !== undefined && !EMF_UNITS.has(def.Unit as string))
        errors.push(`${at}.Unit ${JSON.stringify(def.Unit)} is not a CloudWatch unit`);
      if (
        def.StorageResolution !== undefined &&
        def.StorageResolution !== 1 &&
        def.StorageResolution !== 60
      ) {
        errors.push(`${at}.StorageResolution must be 1 or 60`);
      }
      const target = doc[def.Name];
      if (typeof target === 'number') {
        if (!Number.isFinite(target)) errors.push(`metric ${def.Name} is not a finite number`);
      } else if (Array.isArray(target)) {
        if (target.length > 100) errors.push(`metric ${def.Name} has more than 100 values`);
        if (!target.every((v) => typeof v === 'number' && Number.isFinite(v)))
          errors.push(`metric ${def.Name} has a non-numeric value`);
      } else {
        errors.push(`metric ${def.Name} is not a root member with a number or an array of numbers`);
      }
      return undefined;
    });
  });
  return errors;
}
