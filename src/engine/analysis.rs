//! Checks on the policies' syntax tree before anything runs them, for what regorus would otherwise
//! only find by crashing or by failing without naming a file:
//!
//! - recursion: regorus evaluates rule and function calls by native recursion with no depth limit,
//!   so `f(x) := y if { y := f(x + 1) }` overflows the stack and aborts the process. Rego forbids
//!   recursion (OPA rejects it at compile time); here every rule whose `violations` reaches a cycle
//!   of rules or functions is found at load and reported as a `policy-error` of that rule alone.
//! - nesting: source nested deeper than [`MAX_NESTING`] brackets makes the parser, the compiler and
//!   the evaluator recurse as deep; such a file is refused at load, naming the line.
//! - allocation by argument: `numbers.range(1, 1e8)` with literal bounds over
//!   [`MAX_RANGE_ELEMENTS`] is a `policy-error` of the rule, found at load; a custom rule that
//!   reaches a call with computed bounds runs on the interpreter, whose bounded version of the
//!   builtin fails the rule over the limit (see `bounded`). `sprintf` formats written in the
//!   policy are checked for padding widths over [`MAX_SPRINTF_WIDTH`] and for digits regorus
//!   cannot read (it panics on them).
//! - `print`: the RVM back end has no `print` and fails the whole compilation without naming the
//!   file; a `print` call is refused at load, naming file, line and column.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regorus::unstable::{Expr, Literal, Module, Query, Ref, Rule, RuleHead};

use super::PolicyError;

/// Brackets (`(`, `[`, `{`) a policy may nest: real rules stay under 15.
pub const MAX_NESTING: usize = 64;

/// Arrays, sets and objects (`[`, `{`) a policy may nest. regorus's parser tries each as a
/// comprehension first and parses it again when it is not one, so the time to parse doubles with
/// every level (found by fuzzing: 16 nested objects took 13 s to parse). The deepest in public
/// policies (gatekeeper-library, a test's data) is 13; the built-in ones stay under 8.
pub const MAX_COLLECTION_NESTING: usize = 14;

/// Minus signs a policy may write in a row. Each `-` before a term is a unary minus, which
/// regorus parses by recursion with no limit (found by fuzzing: a few thousand in a row overflowed
/// the stack and killed the process). Real policies write at most two (`x - -1`).
pub const MAX_MINUS_RUN: usize = 16;

/// The largest exponent a number literal may write (`1e1000`). regorus turns a literal in
/// scientific notation into an exact integer, computing ten to the power of its exponent first:
/// `0e55555550` took 35 s to load (found by fuzzing), `0e2147483647` would take minutes and a
/// gigabyte. A float ends near `1e308`; no policy needs more.
pub const MAX_NUMBER_EXPONENT: u32 = 1000;

/// Refuses a policy whose brackets nest deeper than [`MAX_NESTING`], that writes more than
/// [`MAX_MINUS_RUN`] minus signs in a row, or a number with an exponent over
/// [`MAX_NUMBER_EXPONENT`] (strings and comments aside).
/// Runs before parsing, since the parser recurses as deep as the nesting.
pub fn check_nesting(file: &str, text: &str) -> Result<(), PolicyError> {
    // The open brackets, innermost last, and how many of them are `[` or `{`.
    let mut open: Vec<char> = Vec::new();
    let mut collections = 0usize;
    // Minus signs in a row (whitespace between them allowed).
    let mut minus_run = 0usize;
    let (mut line, mut column) = (1usize, 0usize);
    let mut chars = text.chars().peekable();
    // Whether the character before was part of a name (`x1e9` is a name, not a number).
    let mut after_name = false;
    while let Some(c) = chars.next() {
        column += 1;
        let starts_number = c.is_ascii_digit() && !after_name;
        after_name = c.is_alphanumeric() || c == '_';
        match c {
            '-' => minus_run += 1,
            c if c.is_whitespace() => {}
            _ => minus_run = 0,
        }
        if minus_run > MAX_MINUS_RUN {
            return Err(PolicyError::Syntax {
                file: file.to_string(),
                position: format!("{line}:{column}"),
                message: format!(
                    "more than {MAX_MINUS_RUN} minus signs in a row (regorus's parser recurses \
                     once for each, and a long run overflows its stack)"
                ),
            });
        }
        match c {
            '\n' => {
                line += 1;
                column = 0;
            }
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        column = 0;
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    column += 1;
                    match c {
                        '\\' => {
                            chars.next();
                            column += 1;
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    column += 1;
                    if c == '\n' {
                        line += 1;
                        column = 0;
                    }
                    if c == '`' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                open.push(c);
                if c != '(' {
                    collections += 1;
                }
                let message = if open.len() > MAX_NESTING {
                    format!("brackets nested more than {MAX_NESTING} deep")
                } else if collections > MAX_COLLECTION_NESTING {
                    format!(
                        "arrays, sets and objects nested more than {MAX_COLLECTION_NESTING} deep \
                         (parsing time doubles with each level)"
                    )
                } else {
                    continue;
                };
                return Err(PolicyError::Syntax {
                    file: file.to_string(),
                    position: format!("{line}:{column}"),
                    message: format!("{message}; split the expression into helper rules"),
                });
            }
            ')' | ']' | '}' => {
                let closed = open.pop();
                collections -= usize::from(closed.is_some_and(|o| o != '('));
            }
            _ if starts_number => {
                let at = column;
                let exponent = number_exponent(&mut chars, &mut column);
                if exponent.is_some_and(|e| e > MAX_NUMBER_EXPONENT) {
                    return Err(PolicyError::Syntax {
                        file: file.to_string(),
                        position: format!("{line}:{at}"),
                        message: format!(
                            "a number with an exponent over {MAX_NUMBER_EXPONENT} (regorus computes \
                             ten to that power when it loads the policy)"
                        ),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads the rest of a number literal whose first digit was just read, and returns the size of
/// its exponent (`2.5e-3` → 3; saturating), if it has one.
fn number_exponent(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    column: &mut usize,
) -> Option<u32> {
    let mut exponent: Option<u32> = None;
    // Right after the `e`, where a sign may stand.
    let mut sign_allowed = false;
    while let Some(&next) = chars.peek() {
        match (next, exponent.as_mut()) {
            ('0'..='9' | '.', None) => {}
            ('e' | 'E', None) => {
                exponent = Some(0);
                sign_allowed = true;
            }
            ('+' | '-', Some(_)) if sign_allowed => sign_allowed = false,
            (digit @ '0'..='9', Some(value)) => {
                sign_allowed = false;
                let digit = digit.to_digit(10).unwrap_or(0);
                *value = value.saturating_mul(10).saturating_add(digit);
            }
            _ => break,
        }
        chars.next();
        *column += 1;
    }
    exponent
}

/// A rule or function of some package, by its full path (`data.pkg.name`).
struct Node {
    /// Where it is defined (the first definition), `file:line:col`.
    at: String,
    /// The paths it refers to (rules, functions, packages), resolved.
    refs: BTreeSet<String>,
}

/// True for a reference that may read `data.inventory`: the inventory itself, a part of it, or
/// the whole of `data`.
fn reads_inventory(path: &str) -> bool {
    path == "data" || path == "data.inventory" || path.starts_with("data.inventory.")
}

/// True for a reference that may read `input.schema` (what the schema check found): it, a part
/// of it, or the whole of `input` (`input[x]` with a computed key reads as all of it).
fn reads_schema(path: &str) -> bool {
    path == "input" || path == "input.schema" || path.starts_with("input.schema.")
}

/// What the analysis found.
#[derive(Default)]
pub struct Analysis {
    /// For each path of a rule or function that cannot run (it takes part in recursion, or it
    /// calls a builtin beyond its limit): why, readable.
    recursive: BTreeMap<String, String>,
    /// Complete rules and functions of custom policies with more than one definition.
    multiple: BTreeSet<String>,
    /// Rules and functions of custom policies that call a builtin only the interpreter bounds.
    bounded_calls: BTreeSet<String>,
    /// Rules and functions, built-in ones included, with a binding the RVM lets through
    /// undefined (see `bindings`).
    unguarded: BTreeSet<String>,
    /// Every reference between rules and functions, built-in policies included.
    nodes_refs: HashMap<String, Vec<String>>,
    /// Rules and functions that refer to `data.inventory` (or all of `data`) themselves.
    inventory_readers: BTreeSet<String>,
    /// Rules and functions that refer to `input.schema` (or all of `input`) themselves.
    schema_readers: BTreeSet<String>,
    /// Rules every definition of which adds to a set (`r contains x if ...`): evaluated, such a
    /// rule is a set, empty when no body holds, never undefined.
    set_rules: BTreeSet<String>,
}

impl Analysis {
    /// Why the rule whose `violations` is at `entry` (`data.pkg.violations`) cannot run, if it
    /// cannot: it reaches a rule or function that cannot.
    pub fn broken(&self, entry: &str) -> Option<String> {
        self.reached(entry, |path| self.recursive.get(path).cloned())
    }

    /// True when the rule whose `violations` is at `entry` must run on the interpreter: it
    /// reaches a complete rule or function of a custom policy defined more than once, whose
    /// definitions may conflict (the RVM makes a conflict silently undefined; the interpreter
    /// raises it, as OPA does), a call of a builtin that allocates by its computed arguments
    /// (the interpreter bounds it, see `bounded`; the RVM cannot call anything in its place), or
    /// a binding the RVM would let through undefined where Rego ends the body (see `bindings`).
    pub fn needs_interpreter(&self, entry: &str) -> bool {
        self.reached(entry, |path| {
            (self.multiple.contains(path)
                || self.bounded_calls.contains(path)
                || self.unguarded.contains(path))
            .then_some(())
        })
        .is_some()
    }

    /// True when the rule whose `violations` is at `entry` may read `data.inventory`: it, or a
    /// rule or function it reaches (in its own package or a library), refers to it. Only then
    /// does a run need to build the inventory, and convert every object for it.
    pub fn reads_inventory(&self, entry: &str) -> bool {
        self.reached(entry, |path| {
            self.inventory_readers.contains(path).then_some(())
        })
        .is_some()
    }

    /// True when the rule whose `violations` is at `entry` may read `input.schema`: only then
    /// must the schema check run on the objects it judges.
    pub fn reads_schema(&self, entry: &str) -> bool {
        self.reached(entry, |path| {
            self.schema_readers.contains(path).then_some(())
        })
        .is_some()
    }

    /// True when the rule at `entry` (`data.pkg.violations`) is a partial set in every definition,
    /// so it evaluates to a set, never to undefined.
    pub fn always_a_set(&self, entry: &str) -> bool {
        self.set_rules.contains(entry)
    }

    /// The first `found` of the rules and functions `entry` reaches (itself included).
    fn reached<T>(&self, entry: &str, found: impl Fn(&str) -> Option<T>) -> Option<T> {
        reached(&self.nodes_refs, entry, found)
    }
}

/// The first `found` of the rules and functions `entry` reaches through `edges` (itself included).
fn reached<T>(
    edges: &HashMap<String, Vec<String>>,
    entry: &str,
    found: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![entry.to_string()];
    while let Some(path) = stack.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        if let Some(hit) = found(&path) {
            return Some(hit);
        }
        if let Some(refs) = edges.get(&path) {
            stack.extend(refs.iter().cloned());
        }
    }
    None
}

/// Walks every module: refuses `print` calls, finds recursion and the bindings the RVM lets
/// through undefined, in every policy. Rules of `trusted` files (the built-in policies, reviewed
/// and tested) are not held to the limits on builtin calls.
pub fn analyze(
    modules: &[Ref<Module>],
    trusted: impl Fn(&str) -> bool,
) -> Result<Analysis, PolicyError> {
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    // Rules and functions that call a builtin beyond its limit, and why.
    let mut limited: BTreeMap<String, String> = BTreeMap::new();
    // Definitions with a value (`x := v`, `f(a) := v`) of each complete rule or function of the
    // custom policies.
    let mut valued: BTreeMap<String, usize> = BTreeMap::new();
    // Rules and functions of custom policies that call `numbers.range` with computed bounds.
    let mut bounded_calls: BTreeSet<String> = BTreeSet::new();
    let mut unguarded: BTreeSet<String> = BTreeSet::new();
    // For each rule path: whether every definition seen so far is a partial set.
    let mut only_sets: BTreeMap<String, bool> = BTreeMap::new();
    // A package may span files: a rule of another file of the package is as local as one of
    // this file.
    let mut package_rules: HashMap<String, BTreeSet<String>> = HashMap::new();
    for module in modules {
        if let Some(package) = ref_path(&module.package.refr) {
            package_rules
                .entry(package)
                .or_default()
                .extend(module_rule_names(module));
        }
    }
    for module in modules {
        let Some(package) = ref_path(&module.package.refr) else {
            continue;
        };
        let locals = package_rules.get(&package).cloned().unwrap_or_default();
        let package = format!("data.{package}");
        let mut scope = Scope {
            trusted: trusted(module.package.span.source.file()),
            problems: Default::default(),
            bounded_calls: Default::default(),
            package: package.clone(),
            imports: HashMap::new(),
            input_imports: HashMap::new(),
            locals,
        };
        for import in &module.imports {
            let Some(path) = ref_path(&import.refr) else {
                continue;
            };
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => path.rsplit('.').next().unwrap_or_default().to_string(),
            };
            if path == "input" || path.starts_with("input.") {
                scope.input_imports.insert(alias, path);
            } else if path.starts_with("data.") {
                scope.imports.insert(alias, path);
            }
        }
        for rule in &module.policy {
            let (span, head_ref) = match rule.as_ref() {
                Rule::Spec { span, head, .. } => (
                    span,
                    match head {
                        RuleHead::Compr { refr, .. }
                        | RuleHead::Set { refr, .. }
                        | RuleHead::Func { refr, .. } => refr,
                    },
                ),
                Rule::Default { span, refr, .. } => (span, refr),
            };
            let Some(name) = ref_path(head_ref) else {
                continue;
            };
            let path = format!("{package}.{name}");
            let mut refs = BTreeSet::new();
            walk_rule(rule, &scope, &mut refs)?;
            let has_value = matches!(
                rule.as_ref(),
                Rule::Spec {
                    head: RuleHead::Compr {
                        assign: Some(_),
                        ..
                    } | RuleHead::Func {
                        assign: Some(_),
                        ..
                    },
                    ..
                }
            );
            if has_value && !scope.trusted {
                *valued.entry(path.clone()).or_default() += 1;
            }
            let is_set = matches!(
                rule.as_ref(),
                Rule::Spec {
                    head: RuleHead::Set { key: Some(_), .. },
                    ..
                }
            );
            *only_sets.entry(path.clone()).or_insert(true) &= is_set;
            for problem in scope.problems.take() {
                limited.entry(path.clone()).or_insert(problem);
            }
            if scope.bounded_calls.take() {
                bounded_calls.insert(path.clone());
            }
            if super::bindings::unguarded_binding(rule).is_some() {
                unguarded.insert(path.clone());
            }
            let node = nodes.entry(path).or_insert_with(|| Node {
                at: format!("{}:{}:{}", span.source.file(), span.line, span.col),
                refs: BTreeSet::new(),
            });
            node.refs.extend(refs);
        }
    }
    let paths: Vec<String> = nodes.keys().cloned().collect();
    let edges = resolve_edges(&nodes, &paths, |node| &node.refs);
    let readers = |reads: fn(&str) -> bool| -> BTreeSet<String> {
        nodes
            .iter()
            .filter(|(_, node)| node.refs.iter().any(|r| reads(r)))
            .map(|(path, _)| path.clone())
            .collect()
    };
    let inventory_readers = readers(reads_inventory);
    let schema_readers = readers(reads_schema);
    let mut recursive = limited;
    for path in &paths {
        if recursive.contains_key(path) {
            continue;
        }
        if let Some(cycle) = cycle_through(path, &edges) {
            let readable = cycle
                .iter()
                .map(|p| short(p))
                .collect::<Vec<_>>()
                .join(" -> ");
            let at = nodes.get(path).map(|n| n.at.as_str()).unwrap_or_default();
            let message = format!(
                "{at}: recursion ({readable}): Rego forbids recursive rules and functions, and \
                 evaluating one would never end"
            );
            for p in &cycle {
                recursive
                    .entry(p.clone())
                    .or_insert_with(|| message.clone());
            }
        }
    }
    Ok(Analysis {
        recursive,
        multiple: valued
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(path, _)| path)
            .collect(),
        bounded_calls,
        unguarded,
        nodes_refs: edges,
        inventory_readers,
        schema_readers,
        // A rule with rules below it (`violations.extra := ...`) is not a plain set. Paths below
        // `p` start with `p.`, and sort together from there.
        set_rules: only_sets
            .iter()
            .filter(|(path, only)| {
                let below = format!("{path}.");
                **only
                    && !only_sets
                        .range(below.clone()..)
                        .next()
                        .is_some_and(|(other, _)| other.starts_with(&below))
            })
            .map(|(path, _)| path.clone())
            .collect(),
    })
}

/// Each node's references resolved to the nodes they name: itself, a prefix (a package) or a
/// part of a rule's value (`data.pkg.rule.field`).
fn resolve_edges(
    nodes: &BTreeMap<String, Node>,
    paths: &[String],
    refs_of: impl Fn(&Node) -> &BTreeSet<String>,
) -> HashMap<String, Vec<String>> {
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for (path, node) in nodes {
        let mut targets = BTreeSet::new();
        for r in refs_of(node) {
            for p in paths {
                let named = p == r
                    || p.strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                    || r.strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('.'));
                if named {
                    targets.insert(p.clone());
                }
            }
        }
        edges.insert(path.clone(), targets.into_iter().collect());
    }
    edges
}

/// `data.seaworthy.rules.test.x.f` → `test.x.f`-like short form: the last two parts.
fn short(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

/// A path from `start` back to itself, if there is one (iterative DFS).
fn cycle_through(start: &str, edges: &HashMap<String, Vec<String>>) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    // (node, index of the next edge to follow)
    let mut stack: Vec<(String, usize)> = vec![(start.to_string(), 0)];
    seen.insert(start.to_string());
    while let Some((node, next)) = stack.last().cloned() {
        let targets = edges.get(&node).map(Vec::as_slice).unwrap_or(&[]);
        match targets.get(next) {
            None => {
                stack.pop();
            }
            Some(target) => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if target == start {
                    let mut cycle: Vec<String> = stack.iter().map(|(n, _)| n.clone()).collect();
                    cycle.push(start.to_string());
                    return Some(cycle);
                }
                if seen.insert(target.clone()) {
                    stack.push((target.clone(), 0));
                }
            }
        }
    }
    None
}

struct Scope {
    /// A built-in policy's module (not held to the limits below).
    trusted: bool,
    /// What the rule being walked does that it must not (calls over the limits), readable.
    problems: std::cell::RefCell<Vec<String>>,
    /// The rule being walked calls a builtin that allocates by arguments known only when it runs.
    bounded_calls: std::cell::Cell<bool>,
    package: String,
    imports: HashMap<String, String>,
    /// Import aliases of `input` or a part of it (`import input.schema as found`).
    input_imports: HashMap<String, String>,
    /// Names of the module's own rules and functions (the first part of each head).
    locals: BTreeSet<String>,
}

impl Scope {
    /// The full path a reference names, when it names a rule, function or package.
    fn resolve(&self, path: &str) -> Option<String> {
        let (root, rest) = match path.split_once('.') {
            Some((root, rest)) => (root, Some(rest)),
            None => (path, None),
        };
        let base = if root == "data" {
            "data".to_string()
        } else if let Some(import) = self.imports.get(root) {
            import.clone()
        } else if self.locals.contains(root) {
            format!("{}.{root}", self.package)
        } else {
            return None;
        };
        Some(match rest {
            Some(rest) => format!("{base}.{rest}"),
            None => base,
        })
    }

    /// The part of `input` a reference may read (`input.schema.x`, or through an import of
    /// `input.schema`), for the analysis of what a rule reads. Kept apart from [`Scope::resolve`]:
    /// an import alias may share its name with a rule of the module, and the recursion check must
    /// still see the rule.
    fn input_ref(&self, path: &str) -> Option<String> {
        let (root, rest) = match path.split_once('.') {
            Some((root, rest)) => (root, Some(rest)),
            None => (path, None),
        };
        let base = if root == "input" {
            "input"
        } else {
            self.input_imports.get(root)?.as_str()
        };
        Some(match rest {
            Some(rest) => format!("{base}.{rest}"),
            None => base.to_string(),
        })
    }
}

fn module_rule_names(module: &Module) -> BTreeSet<String> {
    module
        .policy
        .iter()
        .filter_map(|rule| {
            let refr = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. }
                    | RuleHead::Set { refr, .. }
                    | RuleHead::Func { refr, .. } => refr,
                },
                Rule::Default { refr, .. } => refr,
            };
            ref_path(refr).map(|p| p.split('.').next().unwrap_or_default().to_string())
        })
        .collect()
}

/// `a.b["c"].d` → `a.b.c.d`: a reference made of a variable, fields and string keys. A
/// reference with a computed key stops before it (`a.b[x]` → `a.b`).
fn ref_path(expr: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = expr;
    loop {
        match current {
            Expr::Var { span, .. } => {
                parts.push(span.text().to_string());
                break;
            }
            Expr::RefDot { refr, field, .. } => {
                parts.push(field.0.text().to_string());
                current = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => {
                        parts.push(value.as_string().ok()?.to_string());
                    }
                    _ => parts.clear(),
                }
                current = refr;
            }
            _ => return None,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

fn walk_rule(rule: &Rule, scope: &Scope, refs: &mut BTreeSet<String>) -> Result<(), PolicyError> {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { assign, .. } => {
                    if let Some(a) = assign {
                        walk_expr(&a.value, scope, refs)?;
                    }
                }
                RuleHead::Set { key, .. } => {
                    if let Some(k) = key {
                        walk_expr(k, scope, refs)?;
                    }
                }
                RuleHead::Func { assign, .. } => {
                    if let Some(a) = assign {
                        walk_expr(&a.value, scope, refs)?;
                    }
                }
            }
            for body in bodies {
                if let Some(a) = &body.assign {
                    walk_expr(&a.value, scope, refs)?;
                }
                walk_query(&body.query, scope, refs)?;
            }
        }
        Rule::Default { value, .. } => walk_expr(value, scope, refs)?,
    }
    Ok(())
}

fn walk_query(
    query: &Query,
    scope: &Scope,
    refs: &mut BTreeSet<String>,
) -> Result<(), PolicyError> {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    walk_expr(k, scope, refs)?;
                }
                walk_expr(value, scope, refs)?;
                walk_expr(collection, scope, refs)?;
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                walk_expr(expr, scope, refs)?
            }
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, scope, refs)?;
                walk_query(query, scope, refs)?;
            }
        }
        for with in &stmt.with_mods {
            walk_expr(&with.r#as, scope, refs)?;
        }
        // The RVM cannot compile `with` (regorus refuses the whole program): such a rule runs
        // on the interpreter, as the rules generated for Gatekeeper and conftest policies do.
        if !stmt.with_mods.is_empty() && !scope.trusted {
            scope.bounded_calls.set(true);
        }
    }
    Ok(())
}

fn walk_expr(expr: &Expr, scope: &Scope, refs: &mut BTreeSet<String>) -> Result<(), PolicyError> {
    match expr {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. } => {}
        Expr::Var { .. } | Expr::RefDot { .. } => {
            if let Some(path) = ref_path(expr) {
                refs.extend(scope.resolve(&path));
                refs.extend(scope.input_ref(&path));
            }
            if let Expr::RefDot { refr, .. } = expr {
                walk_ref_keys(refr, scope, refs)?;
            }
        }
        Expr::RefBrack { refr, index, .. } => {
            if let Some(path) = ref_path(expr) {
                refs.extend(scope.resolve(&path));
                refs.extend(scope.input_ref(&path));
            }
            walk_expr(index, scope, refs)?;
            walk_ref_keys(refr, scope, refs)?;
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                walk_expr(item, scope, refs)?;
            }
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                walk_expr(k, scope, refs)?;
                walk_expr(v, scope, refs)?;
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, scope, refs)?;
            walk_query(query, scope, refs)?;
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, scope, refs)?;
            walk_expr(value, scope, refs)?;
            walk_query(query, scope, refs)?;
        }
        Expr::Call {
            span, fcn, params, ..
        } => {
            let name = ref_path(fcn);
            if name.as_deref() == Some("print") && scope.resolve("print").is_none() {
                return Err(PolicyError::Syntax {
                    file: span.source.file().to_string(),
                    position: format!("{}:{}", span.line, span.col),
                    message: "`print` is not available to seaworthy policies (no back end has an \
                              output for it); remove the call or report through `violations`"
                        .into(),
                });
            }
            if !scope.trusted {
                match over_limit(name.as_deref(), params) {
                    Limit::Within => {}
                    Limit::AtRunTime => scope.bounded_calls.set(true),
                    Limit::Over(problem) => scope.problems.borrow_mut().push(format!(
                        "{}:{}:{}: {problem}",
                        span.source.file(),
                        span.line,
                        span.col
                    )),
                }
            }
            match name.as_deref().map(|p| (p, scope.resolve(p))) {
                Some((_, Some(path))) => {
                    refs.insert(path);
                }
                // Neither a rule nor a builtin: regorus would only fail when the call runs.
                Some((called, None))
                    if !scope.trusted && !regorus::unstable::BUILTINS.contains_key(called) =>
                {
                    // regorus reads `input.x` followed by `(...)` on the next line as one call.
                    let hint = if called == "input" || called.starts_with("input.") {
                        "; a reference followed by a parenthesised expression on the next line \
                         is read as a call: put a `true` or a comparison after the reference"
                    } else {
                        ""
                    };
                    return Err(PolicyError::Syntax {
                        file: span.source.file().to_string(),
                        position: format!("{}:{}", span.line, span.col),
                        message: format!(
                            "`{called}` is neither a rule of the policies nor a builtin of \
                             seaworthy's Rego engine (which has no network access: no \
                             `http.send`, no Gatekeeper `external_data`){hint}"
                        ),
                    });
                }
                _ => {}
            }
            for p in params {
                walk_expr(p, scope, refs)?;
            }
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, scope, refs)?,
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, scope, refs)?;
            walk_expr(rhs, scope, refs)?;
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(k) = key {
                walk_expr(k, scope, refs)?;
            }
            walk_expr(value, scope, refs)?;
            walk_expr(collection, scope, refs)?;
        }
    }
    Ok(())
}

pub use super::bounded::{MAX_RANGE_ELEMENTS, MAX_SHIFT_BITS};

/// The widest padding a `sprintf` verb may ask for (`%80d`): regorus builds the padding in one
/// step and reads the width into a 32-bit number, so `%4000000000d` asks for 4 GB.
pub const MAX_SPRINTF_WIDTH: u64 = 10_000;

/// What a builtin call's arguments, as written, allow it to allocate.
enum Limit {
    /// Nothing by argument, or within the limits.
    Within,
    /// It allocates by arguments only known when it runs: the interpreter bounds it then.
    AtRunTime,
    /// Over the limits as written: why.
    Over(String),
}

/// Whether a builtin call is within the limits by its literal arguments.
fn over_limit(name: Option<&str>, params: &[Ref<Expr>]) -> Limit {
    let number = |e: &Ref<Expr>| match e.as_ref() {
        Expr::Number { value, .. } => value.as_f64().ok(),
        Expr::UnaryExpr { expr, .. } => match expr.as_ref() {
            Expr::Number { value, .. } => value.as_f64().ok().map(|n| -n),
            _ => None,
        },
        _ => None,
    };
    let Some(name) = name else {
        return Limit::Within;
    };
    if let ("bits.lsh", [_, shift]) = (name, params) {
        return match number(shift) {
            None => Limit::AtRunTime,
            Some(bits) if bits > MAX_SHIFT_BITS as f64 => Limit::Over(format!(
                "bits.lsh shifts by {bits} bits, over the limit of {MAX_SHIFT_BITS} (a builtin \
                 allocates its whole result at once and cannot be interrupted)"
            )),
            Some(_) => Limit::Within,
        };
    }
    let range = match (name, params) {
        ("numbers.range", [a, b]) => Some((number(a), number(b), Some(1.0))),
        ("numbers.range_step", [a, b, s]) => Some((number(a), number(b), number(s))),
        ("sprintf", [format, ..]) => {
            return match format.as_ref() {
                Expr::String { value, .. } | Expr::RawString { value, .. } => {
                    match value.as_string() {
                        Ok(text) => {
                            sprintf_problem(text.as_ref()).map_or(Limit::Within, Limit::Over)
                        }
                        Err(_) => Limit::Within,
                    }
                }
                _ => Limit::Within,
            }
        }
        _ => None,
    };
    let Some((Some(from), Some(to), Some(step))) = range else {
        return if range.is_some() {
            Limit::AtRunTime
        } else {
            Limit::Within
        };
    };
    // regorus, with builtin errors not strict (as here), does not check the step: 0 divides by
    // zero and a negative step makes a negative element count, and either panics. The
    // interpreter's bounded version (see `bounded`) makes such a call undefined, as OPA does.
    if name == "numbers.range_step" && !(step.fract() == 0.0 && step >= 1.0) {
        return Limit::AtRunTime;
    }
    let step = (name == "numbers.range_step").then_some(step);
    match super::bounded::range_elements(from, to, step) {
        Some(elements) if elements > MAX_RANGE_ELEMENTS as f64 => Limit::Over(format!(
            "{name} makes {elements} elements, over the limit of {MAX_RANGE_ELEMENTS} (a builtin \
             allocates its whole result at once and cannot be interrupted)"
        )),
        _ => Limit::Within,
    }
}

/// Why a `sprintf` format cannot be used, if it cannot: a width over [`MAX_SPRINTF_WIDTH`], or a
/// width with a digit other than 0-9 (regorus reads any Unicode digit as part of the width and
/// then panics converting it).
fn sprintf_problem(format: &str) -> Option<String> {
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%') | None => continue,
            Some(first) if first == '.' || first.is_numeric() => {
                let mut digits = String::new();
                if first != '.' {
                    digits.push(first);
                }
                while let Some(&next) = chars.peek().filter(|c| c.is_numeric()) {
                    digits.push(next);
                    chars.next();
                }
                if !digits.chars().all(|c| c.is_ascii_digit()) {
                    return Some(format!(
                        "sprintf format {format:?}: the width {digits:?} has a digit other than 0-9"
                    ));
                }
                let width = digits.trim_start_matches('0');
                if width.len() > 19 || width.parse::<u64>().unwrap_or(0) > MAX_SPRINTF_WIDTH {
                    return Some(format!(
                        "sprintf format {format:?}: width {width} is over the limit of \
                         {MAX_SPRINTF_WIDTH} characters"
                    ));
                }
            }
            Some(_) => {}
        }
    }
    None
}

/// The computed keys inside a reference (`a[f(x)].b`): walked for the calls they make.
fn walk_ref_keys(
    expr: &Expr,
    scope: &Scope,
    refs: &mut BTreeSet<String>,
) -> Result<(), PolicyError> {
    match expr {
        Expr::RefDot { refr, .. } => walk_ref_keys(refr, scope, refs),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(index, scope, refs)?;
            walk_ref_keys(refr, scope, refs)
        }
        Expr::Var { .. } => Ok(()),
        other => walk_expr(other, scope, refs),
    }
}
