// Lists product code (src/, scanners/) reached outside a test: at module level, in describe bodies and in
// beforeAll/afterAll hooks. Such calls make Stryker mutants static (docs/testing.md, "Keep product code out
// of hooks"). A heuristic (local helpers are followed; calls on objects built from lakemap are not).
// Usage: node test/helpers/hooks-audit.mjs [checkout]
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
const root = process.argv[2] ?? '.';
const files = fs.readdirSync(path.join(root, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => path.join(root, 'test', f));
const productModule = (m) => /(^|\/)(src|scanners)\//.test(m) || m === 'lakemap' || /helpers\/(scan|gate)/.test(m);
for (const file of files) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const product = new Set();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && productModule(st.moduleSpecifier.text) && st.importClause && !st.importClause.isTypeOnly) {
      const ic = st.importClause;
      if (ic.name) product.add(ic.name.text);
      if (ic.namedBindings && ts.isNamedImports(ic.namedBindings)) for (const e of ic.namedBindings.elements) if (!e.isTypeOnly) product.add(e.name.text);
      if (ic.namedBindings && ts.isNamespaceImport(ic.namedBindings)) product.add(ic.namedBindings.name.text);
    }
  }
  // local functions/consts that reference product names (fixpoint)
  const locals = new Map();
  const visitDecl = (n) => {
    if (ts.isFunctionDeclaration(n) && n.name) locals.set(n.name.text, n);
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))) locals.set(n.name.text, n.initializer);
    ts.forEachChild(n, visitDecl);
  };
  visitDecl(sf);
  const refs = (n, set) => { let hit = []; const v = (x) => { if (ts.isIdentifier(x) && set.has(x.text) && !(ts.isPropertyAccessExpression(x.parent) && x.parent.name === x)) hit.push(x.text); ts.forEachChild(x, v); }; v(n); return hit; };
  let changed = true;
  while (changed) { changed = false; for (const [name, fn] of locals) if (!product.has(name) && refs(fn, product).length) { product.add(name); changed = true; } }
  const findings = [];
  // walk, tracking whether we are inside a test body or a plain function (deferred) or hook
  const isCall = (n, names) => ts.isCallExpression(n) && (ts.isIdentifier(n.expression) ? names.includes(n.expression.text) : ts.isPropertyAccessExpression(n.expression) && ts.isIdentifier(n.expression.expression) && names.includes(n.expression.expression.text));
  const walk = (n, ctx) => {
    if (isCall(n, ['it', 'test'])) return; // in a test: fine
    if (isCall(n, ['beforeAll', 'afterAll'])) { for (const a of n.arguments) walk(a, 'hook'); return; }
    if (isCall(n, ['beforeEach', 'afterEach'])) return;
    if ((ts.isFunctionDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isMethodDeclaration(n)) && ctx !== 'hook-fn') {
      if (ctx === 'hook') { ts.forEachChild(n, (c) => walk(c, 'hook-fn')); return; }
      if (ts.isCallExpression(n.parent) && isCall(n.parent, ['describe', 'describeWithCorpus']) ) { ts.forEachChild(n, (c) => walk(c, 'collect')); return; }
      if (ts.isCallExpression(n.parent) && ts.isPropertyAccessExpression(n.parent.expression) && /^(describe)$/.test(n.parent.expression.expression.getText())) { ts.forEachChild(n, (c) => walk(c, 'collect')); return; }
      return; // a function defined here runs later (from a test, unless a hook calls it: handled by refs)
    }
    if (ts.isIdentifier(n) && product.has(n.text) && ctx !== 'top-import') {
      const p = n.parent;
      if (ts.isImportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return;
      if (ts.isPropertyAccessExpression(p) && p.name === n) return;
      if (ts.isTypeReferenceNode(p) || ts.isTypeQueryNode(p) || ts.isExpressionWithTypeArguments(p)) return;
      if (ts.isVariableDeclaration(p) && p.name === n) return;
      if (ts.isFunctionDeclaration(p) && p.name === n) return;
      // `x instanceof LakemapError` runs no lakemap code (the class is only compared with a prototype chain).
      if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.InstanceOfKeyword && p.right === n) return;
      findings.push(`${ctx}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}:${n.text}`);
    }
    ts.forEachChild(n, (c) => walk(c, ctx === 'hook-fn' ? 'hook' : ctx));
  };
  for (const st of sf.statements) if (!ts.isImportDeclaration(st)) walk(st, 'module');
  if (findings.length) console.log(path.relative(root, file), [...new Set(findings)].slice(0, 12).join(' '));
}
