/**
 * Every overlay renders and every rendered object is valid against the real
 * Kubernetes / Istio API schemas, including unknown-field detection.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describeIfKubectl, overlays, renderText, validateManifests } from './helpers';

const fixtureText = (name: string): string => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');

describeIfKubectl('rendered manifests match the Kubernetes and Istio schemas', () => {
  it.each(overlays)('overlay %s renders with kubectl kustomize', (overlay) => {
    expect(renderText(overlay)).toContain('kind: Deployment');
  });

  it.each(overlays)('every object in overlay %s is schema-valid with no unknown fields', (overlay) => {
    const report = validateManifests(renderText(overlay));
    const failures = report.objects
      .filter((o) => o.errors.length > 0 || o.unknownFields.length > 0)
      .map((o) => `${o.kind}/${o.name}: ${[...o.errors, ...o.unknownFields.map((f) => `unknown field ${f}`)].join('; ')}`);
    expect(failures).toEqual([]);
    expect(report.objects.length).toBeGreaterThan(40);
  });
});

describe('the schema validator can fail', () => {
  it('rejects an Istio enum typo (mode: STRIKT)', () => {
    const report = validateManifests(fixtureText('peer-authentication-enum-typo.yaml'));
    expect(report.ok).toBe(false);
    expect(report.objects[0].errors.join(' ')).toMatch(/mtls\/mode must be equal to one of the allowed values/);
  });

  it('rejects a misspelt field (imagePullPolcy)', () => {
    const report = validateManifests(fixtureText('deployment-misspelt-field.yaml'));
    expect(report.ok).toBe(false);
    expect(report.objects[0].unknownFields).toEqual(['/spec/template/spec/containers/0/imagePullPolcy']);
  });

  it('rejects a kind it has no schema for instead of passing it', () => {
    const report = validateManifests('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
    expect(report.ok).toBe(false);
    expect(report.objects[0].errors).toEqual(['no schema for example.com/v1 Widget']);
  });

  it('accepts free-form maps (labels, ConfigMap data) without reporting them', () => {
    const report = validateManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {anything: goes}}\ndata: {ANY_KEY: v}\n',
    );
    expect(report).toMatchObject({ ok: true });
  });
});
