#!/usr/bin/env node
// Validates Kubernetes/Istio manifests against the real API schemas shipped
// by kubernetes-models and @kubernetes-models/istio.
//
//   node tests/platform/validate-manifests.mjs [file.yaml]   (default: stdin)
//
// Prints a JSON report {ok, objects: [{apiVersion, kind, name, namespace,
// errors, unknownFields}]} and exits 1 when any object fails.
//
// The packages ship ajv-compiled validators, not JSON schemas. Those check
// types, enums and required fields but accept unknown property names, so a
// typo such as `imagePullPolcy` would pass. To catch that we run each
// validator on a Proxy of the object and record which keys it reads: a
// compiled validator reads every property its schema declares, and enumerates
// the keys of maps (additionalProperties). Any key of a non-map object that
// the validator never read is not in the schema, i.e. an unknown field.
// Objects whose schema declares no properties at all (free-form) are never
// read and therefore never reported.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function modulePath(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  const group = slash === -1 ? "" : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  if (group.endsWith(".istio.io")) return `@kubernetes-models/istio/${group}/${version}/${kind}`;
  return group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

const modelCache = new Map();
async function loadModel(apiVersion, kind) {
  const path = modulePath(apiVersion, kind);
  if (!modelCache.has(path)) {
    modelCache.set(
      path,
      import(path).then(
        (mod) => mod[kind] ?? null,
        () => null,
      ),
    );
  }
  return modelCache.get(path);
}

function track(value, path, records) {
  if (value === null || typeof value !== "object") return value;
  const record = { path, keys: Object.keys(value), read: new Set(), enumerated: false, array: Array.isArray(value) };
  records.push(record);
  const children = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return v;
      record.read.add(key);
      if (v === null || typeof v !== "object") return v;
      if (!children.has(key)) children.set(key, track(v, `${path}/${key}`, records));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === "string") record.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

export async function validateObject(obj) {
  const apiVersion = obj?.apiVersion;
  const kind = obj?.kind;
  const result = {
    apiVersion,
    kind,
    name: obj?.metadata?.name,
    namespace: obj?.metadata?.namespace,
    errors: [],
    unknownFields: [],
  };
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    result.errors.push("missing apiVersion or kind");
    return result;
  }
  const Model = await loadModel(apiVersion, kind);
  if (!Model) {
    result.errors.push(`no schema for ${apiVersion} ${kind}`);
    return result;
  }
  const records = [];
  try {
    Model.prototype.validate.call(track(obj, "", records));
  } catch (err) {
    result.errors.push(err instanceof Error ? err.message : String(err));
  }
  for (const r of records) {
    if (r.array || r.enumerated || r.read.size === 0) continue;
    for (const key of r.keys) if (!r.read.has(key)) result.unknownFields.push(`${r.path}/${key}`);
  }
  return result;
}

async function main() {
  const file = process.argv[2];
  const text = file ? readFileSync(file, "utf8") : readFileSync(0, "utf8");
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      objects.push({ errors: doc.errors.map((e) => `YAML: ${e.message}`), unknownFields: [] });
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    objects.push(await validateObject(obj));
  }
  const ok = objects.every((o) => o.errors.length === 0 && o.unknownFields.length === 0);
  process.stdout.write(JSON.stringify({ ok, objects }, null, 2) + "\n");
  process.exitCode = ok ? 0 : 1;
}

await main();
