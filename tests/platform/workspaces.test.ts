/**
 * Package boundaries: each workspace's package.json declares exactly the packages its built sources import,
 * so the image of one service installs that service's dependencies and no other's. Type-only imports may rely on
 * the root devDependencies instead, scripts/ and bench/ on the root manifest, and test code, which a development
 * checkout runs with every manifest installed, on any package the repository declares. The peer gateways npm
 * run bench runs are declared in bench/peers, which is no workspace: npm ci does not install them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as ts from 'typescript';
import { repoRoot } from './helpers';

interface Manifest {
  name: string;
  version: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Import {
  pkg: string;
  /** `import type`, `export type` or `typeof import('x')`: erased by the compiler, so needed to build only. */
  typeOnly: boolean;
  file: string;
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(path.join(repoRoot, dir, 'package.json'), 'utf8'));
const root = manifestOf('.');
const rootDev = Object.keys(root.devDependencies ?? {});
const rootDeclared = [...Object.keys(root.dependencies ?? {}), ...rootDev];

const workspaceDirs = root.workspaces!.flatMap((pattern) =>
  pattern.endsWith('/*')
    ? readdirSync(path.join(repoRoot, pattern.slice(0, -2)))
        .map((name) => `${pattern.slice(0, -2)}/${name}`)
        .filter((dir) => existsSync(path.join(repoRoot, dir, 'package.json')))
    : [pattern],
);
const workspaces = workspaceDirs.map((dir) => ({ dir, manifest: manifestOf(dir) }));
const benchPeers = manifestOf('bench/peers');
const workspaceNames = workspaces.map((w) => w.manifest.name);
const declaredAnywhere = [...rootDeclared, ...workspaceNames, ...workspaces.flatMap((w) => Object.keys(w.manifest.dependencies ?? {}))];

/** The package a specifier loads ('@scope/name' or 'name'), or undefined for relative paths and Node builtins. */
function packageOf(specifier: string): string | undefined {
  if (/^(\.|\/|node:)/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

/** import 'x' runs x; an import whose every binding is marked `type` does not. */
function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  const clause = node.exportClause;
  return node.isTypeOnly || (!!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
}

/** require('x'), require.resolve('x') and import('x'): resolved when the code runs. */
function isRuntimeLoader(callee: ts.Expression): boolean {
  if (callee.kind === ts.SyntaxKind.ImportKeyword) return true;
  if (ts.isIdentifier(callee)) return callee.text === 'require';
  return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'require' && callee.name.text === 'resolve';
}

/** Every package a source file names in an import, export, import type, require or dynamic import. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (specifier: ts.Node | undefined, typeOnly: boolean) => {
    const pkg = specifier && ts.isStringLiteralLike(specifier) ? packageOf(specifier.text) : undefined;
    if (pkg) found.push({ pkg, typeOnly, file: path.relative(repoRoot, file) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, isTypeOnlyImport(node));
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, isTypeOnlyExport(node));
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (ts.isCallExpression(node) && isRuntimeLoader(node.expression)) add(node.arguments[0], false);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** TypeScript and JavaScript sources under a folder of the repository, without dependencies, builds or declarations. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.[cm]?[jt]s$/.test(file) && !file.endsWith('.d.ts') && !/(^|\/)(node_modules|dist)\//.test(file))
    .map((file) => path.join(repoRoot, dir, file))
    .sort();
}

/** What `tsc -b` compiles for a workspace: its tsconfig's files, which leave out the tests. */
function builtSources(dir: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, dir, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  return config!.fileNames.map((file) => path.resolve(file)).sort();
}

const unique = (names: string[]) => [...new Set(names)].sort();
const where = (imports: Import[], pkg: string) => `${pkg} (${imports.find((i) => i.pkg === pkg)!.file})`;

describe.each(workspaces)('workspace $dir', ({ dir, manifest }) => {
  const declared = Object.keys(manifest.dependencies ?? {});
  const built = builtSources(dir);
  const imports = built.flatMap(importsOf).filter((i) => i.pkg !== manifest.name);

  it('has sources to build (its tsconfig.json compiles something)', () => {
    expect(built.length).toBeGreaterThan(0);
  });

  it('declares in its dependencies every package its built sources load, and type-only ones there or in the root devDependencies', () => {
    const needed = unique(imports.filter((i) => !i.typeOnly || !rootDev.includes(i.pkg)).map((i) => i.pkg));
    expect(needed.filter((pkg) => !declared.includes(pkg)).map((pkg) => where(imports, pkg))).toEqual([]);
  });

  it('declares nothing its built sources do not import', () => {
    const used = unique(imports.map((i) => i.pkg));
    expect(declared.filter((pkg) => !used.includes(pkg))).toEqual([]);
  });

  it('has test code that imports only packages the repository declares', () => {
    const testFiles = sourcesUnder(dir).filter((file) => !built.includes(file));
    const testImports = testFiles.flatMap(importsOf);
    expect(unique(testImports.map((i) => i.pkg)).filter((pkg) => !declaredAnywhere.includes(pkg)).map((pkg) => where(testImports, pkg))).toEqual([]);
  });

  it('is built by npm run build', () => {
    expect(root.scripts!.build!.split(' ')).toContain(dir);
  });
});

describe('the root package', () => {
  // Root-level commands: they run from a development checkout, with the root manifest's packages.
  const commandImports = ['scripts', 'bench'].flatMap(sourcesUnder).filter((f) => !f.endsWith('.test.ts')).flatMap(importsOf);
  const rootLevelTests = ['tests', 'scripts'].flatMap(sourcesUnder).filter((f) => f.startsWith(path.join(repoRoot, 'tests')) || f.endsWith('.test.ts'));

  it('declares every package that scripts/ and bench/ import, or it is a workspace', () => {
    const allowed = [...rootDeclared, ...workspaceNames];
    expect(unique(commandImports.map((i) => i.pkg)).filter((pkg) => !allowed.includes(pkg)).map((pkg) => where(commandImports, pkg))).toEqual([]);
  });

  it('has in its dependencies only packages that scripts/ or bench/ import', () => {
    const used = unique(commandImports.map((i) => i.pkg));
    expect(Object.keys(root.dependencies ?? {}).filter((pkg) => !used.includes(pkg))).toEqual([]);
  });

  it('has tests that import only packages the repository declares', () => {
    const testImports = rootLevelTests.flatMap(importsOf);
    expect(unique(testImports.map((i) => i.pkg)).filter((pkg) => !declaredAnywhere.includes(pkg)).map((pkg) => where(testImports, pkg))).toEqual([]);
  });

  it('runs from its npm scripts only files that exist', () => {
    const files = Object.values(root.scripts ?? {}).flatMap((command) => command.split(/\s+/).filter((word) => /\.[cm]?[jt]s$/.test(word)));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((file) => !existsSync(path.join(repoRoot, file)))).toEqual([]);
  });
});

describe('the bench peers (bench/peers)', () => {
  it('are the peer gateways npm run bench runs, and nothing else', () => {
    expect(Object.keys({ ...benchPeers.dependencies, ...benchPeers.devDependencies }).sort()).toEqual(['@graphql-hive/gateway', '@graphql-hive/router-runtime']);
  });

  it('are no workspace, in no manifest of the repository and not in its lock file, so npm ci never installs them', () => {
    expect(workspaceDirs).not.toContain('bench/peers');
    const peers = Object.keys(benchPeers.dependencies ?? {});
    const elsewhere = [root, ...workspaces.map((w) => w.manifest)].flatMap((m) => Object.keys({ ...m.dependencies, ...m.devDependencies }));
    expect(peers.filter((pkg) => elsewhere.includes(pkg))).toEqual([]);
    const locked = Object.keys(JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')).packages);
    expect(locked.filter((entry) => peers.some((pkg) => entry.endsWith(`node_modules/${pkg}`)))).toEqual([]);
  });
});

it('every package is declared with one version range wherever it is declared, and workspaces at their own version', () => {
  const ranges = new Map<string, Set<string>>();
  const declare = (pkg: string, range: string) => ranges.set(pkg, (ranges.get(pkg) ?? new Set()).add(range));
  for (const { manifest } of [{ manifest: root }, ...workspaces]) {
    for (const [pkg, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) declare(pkg, range);
  }
  for (const { manifest } of workspaces) declare(manifest.name, manifest.version);
  expect([...ranges].filter(([, set]) => set.size > 1).map(([pkg, set]) => `${pkg}: ${[...set].join(', ')}`)).toEqual([]);
});
