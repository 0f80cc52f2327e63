//! Bindings the RVM does not hold to Rego's rule that an undefined value ends a body.
//!
//! In Rego, `x := input.spec.missing` makes the body undefined: nothing after it runs. regorus's
//! RVM binds `x` to undefined and goes on. The body still fails where `x` is used as a
//! condition, a call argument, a reference or a comparison, since each of those is undefined in
//! turn. It does not fail where `x` is never used again, or used only under `not`
//! (`not startswith(x, "a")` holds), in a comprehension (`count([y | some y in x]) == 0` holds),
//! in another binding (`y := x`), in the key or value of a partial object rule, in a complete
//! rule whose value does not use it, or in a value an `else` follows (Rego tries the `else`, the
//! RVM returns undefined). There the RVM reports what Rego (and seaworthy's interpreter)
//! does not: a finding, or a denial in the webhook, that the policy's author never wrote.
//!
//! [`unguarded_binding`] finds such a binding in a rule, so that the rule runs on the interpreter
//! (see `Analysis::needs_interpreter`). It is deliberately conservative: a binding counts as
//! guarded only by a use that is known to fail on undefined.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{AssignOp, Expr, Literal, Query, Ref, Rule, RuleHead};

/// The variable of the first binding of the rule that may be bound to an undefined value without
/// the body failing, if there is one.
pub fn unguarded_binding(rule: &Rule) -> Option<String> {
    let Rule::Spec { head, bodies, .. } = rule else {
        return None;
    };
    // What the head makes of the variables: a set element, a complete rule's value and a
    // function's result are undefined with them; the key and value of a partial object rule
    // are not (the RVM inserts an undefined key).
    let mut head_uses = BTreeSet::new();
    match head {
        RuleHead::Compr { refr, assign, .. } => {
            let is_object_rule = matches!(refr.as_ref(), Expr::RefBrack { .. });
            if let (Some(assign), false) = (assign, is_object_rule) {
                direct_vars(&assign.value, &mut head_uses);
            }
        }
        RuleHead::Set { key: Some(key), .. } => direct_vars(key, &mut head_uses),
        RuleHead::Set { key: None, .. } => {}
        RuleHead::Func { assign, .. } => {
            if let Some(assign) = assign {
                direct_vars(&assign.value, &mut head_uses);
            }
        }
    }
    for (index, body) in bodies.iter().enumerate() {
        // A body's value is its `else := value`, or for the first one the head's. A value that is
        // undefined with a binding fails the rule, unless an `else` follows: Rego then tries the
        // `else`, the RVM returns undefined.
        let mut uses = BTreeSet::new();
        if !bodies.get(index + 1).is_some_and(|next| next.is_else) {
            match &body.assign {
                Some(assign) => direct_vars(&assign.value, &mut uses),
                None if !body.is_else => uses.clone_from(&head_uses),
                None => {}
            }
        }
        if let Some(found) = in_query(&body.query, &uses) {
            return Some(found);
        }
    }
    None
}

/// The first unguarded binding of `query` or of a query nested in it, given the variables that
/// what the query feeds (a rule head, a comprehension's term) uses in a way that fails on
/// undefined.
fn in_query(query: &Query, outer_uses: &BTreeSet<String>) -> Option<String> {
    // Each simple binding `x := rhs` of this query: the variable, and the variables its
    // right-hand side reads (an undefined one makes `x` undefined too).
    let mut bindings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut guarded = outer_uses.clone();
    let mut nested: Vec<(&Query, BTreeSet<String>)> = Vec::new();
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::Expr { expr, .. } => match expr.as_ref() {
                Expr::AssignExpr {
                    op: AssignOp::ColEq,
                    lhs,
                    rhs,
                    ..
                } if matches!(lhs.as_ref(), Expr::Var { .. }) => {
                    if may_be_undefined(rhs) {
                        let mut reads = BTreeSet::new();
                        direct_vars(rhs, &mut reads);
                        bindings.insert(lhs.span().text().to_string(), reads);
                    }
                    nested_queries(rhs, &mut nested);
                }
                // Any other expression, a unification `=` included, fails on an undefined
                // operand.
                expr => {
                    direct_vars_of(expr, &mut guarded);
                    nested_queries(expr, &mut nested);
                }
            },
            // `not` holds on undefined: no guard.
            Literal::NotExpr { expr, .. } => nested_queries(expr, &mut nested),
            Literal::SomeIn { collection, .. } => {
                // Iterating over undefined runs no iteration.
                direct_vars(collection, &mut guarded);
                nested_queries(collection, &mut nested);
            }
            // `every` over undefined holds: no guard.
            Literal::Every { domain, query, .. } => {
                nested_queries(domain, &mut nested);
                nested.push((query, BTreeSet::new()));
            }
            Literal::SomeVars { .. } => {}
        }
    }
    // A guarded variable guards what it was bound from.
    let mut changed = true;
    while changed {
        changed = false;
        for (name, reads) in &bindings {
            if guarded.contains(name) {
                for read in reads {
                    changed |= guarded.insert(read.clone());
                }
            }
        }
    }
    if let Some(name) = bindings.keys().find(|name| !guarded.contains(*name)) {
        return Some(name.clone());
    }
    nested
        .into_iter()
        .find_map(|(query, uses)| in_query(query, &uses))
}

/// Whether an expression may evaluate to undefined: anything but a literal built of constants.
fn may_be_undefined(expr: &Expr) -> bool {
    match expr {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. } => false,
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().any(|i| may_be_undefined(i))
        }
        Expr::Object { fields, .. } => fields
            .iter()
            .any(|(_, k, v)| may_be_undefined(k) || may_be_undefined(v)),
        _ => true,
    }
}

fn direct_vars(expr: &Ref<Expr>, out: &mut BTreeSet<String>) {
    direct_vars_of(expr.as_ref(), out)
}

/// The variables an expression reads outside comprehensions: where an undefined one makes the
/// expression undefined. (A comprehension is defined, perhaps empty, whatever its query reads.)
fn direct_vars_of(expr: &Expr, out: &mut BTreeSet<String>) {
    if let Expr::Var { span, .. } = expr {
        out.insert(span.text().to_string());
    }
    for child in operands(expr) {
        direct_vars(child, out);
    }
}

/// The queries of the comprehensions in an expression, each with the variables its term uses in
/// a way that fails on undefined (an array or set element; not an object comprehension's key or
/// value, by the same rule as partial object rules).
fn nested_queries<'a>(expr: &'a Expr, out: &mut Vec<(&'a Query, BTreeSet<String>)>) {
    match expr {
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            let mut uses = BTreeSet::new();
            direct_vars(term, &mut uses);
            nested_queries(term, out);
            out.push((query, uses));
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            nested_queries(key, out);
            nested_queries(value, out);
            out.push((query, BTreeSet::new()));
        }
        expr => {
            for child in operands(expr) {
                nested_queries(child, out);
            }
        }
    }
}

/// The sub-expressions of an expression outside comprehensions.
fn operands(expr: &Expr) -> Vec<&Ref<Expr>> {
    match expr {
        Expr::RefDot { refr, .. } => vec![refr],
        Expr::RefBrack { refr, index, .. } => vec![refr, index],
        Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().collect(),
        Expr::Object { fields, .. } => fields.iter().flat_map(|(_, k, v)| [k, v]).collect(),
        Expr::Call { params, .. } => params.iter().collect(),
        Expr::UnaryExpr { expr, .. } => vec![expr],
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => vec![lhs, rhs],
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => key.iter().chain([value, collection]).collect(),
        Expr::ArrayCompr { .. }
        | Expr::SetCompr { .. }
        | Expr::ObjectCompr { .. }
        | Expr::Var { .. }
        | Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unguarded binding of each rule of a module written with `rules`: (rule name, variable).
    fn unguarded(rules: &str) -> Vec<(String, String)> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(
                "test.rego".into(),
                format!("package test\n\nimport rego.v1\n\n{rules}\n"),
            )
            .expect("parses");
        engine.get_modules()[0]
            .policy
            .iter()
            .filter_map(|rule| {
                let variable = unguarded_binding(rule)?;
                let Rule::Spec { head, .. } = rule.as_ref() else {
                    return None;
                };
                let (RuleHead::Compr { refr, .. }
                | RuleHead::Set { refr, .. }
                | RuleHead::Func { refr, .. }) = head;
                let name = refr.span().text().split('[').next().unwrap_or_default();
                Some((name.to_string(), variable))
            })
            .collect()
    }

    #[test]
    fn a_binding_used_only_where_undefined_does_not_fail_is_found() {
        let found = unguarded(
            r#"
unused contains 1 if {
	x := input.a
}

negated contains 1 if {
	x := input.a
	not startswith(x, "b")
}

in_comprehension contains 1 if {
	x := input.a
	count([y | some y in x]) == 0
}

chained contains 1 if {
	x := input.a
	y := x
}

every_over contains 1 if {
	x := input.a
	every y in x { y == 1 }
}

object_value[k] := x if {
	k := "key"
	x := input.a
}

complete := 1 if {
	x := input.a
}

function(p) := 1 if {
	x := p.a
}

else_body := 1 if {
	false
} else := 2 if {
	x := input.a
}

nested contains 1 if {
	count([1 | x := input.a]) == 1
}

before_an_else(p) := x if {
	x := p.a
} else := 7
"#,
        );
        let rules: Vec<&str> = found.iter().map(|(rule, _)| rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "unused",
                "negated",
                "in_comprehension",
                "chained",
                "every_over",
                "object_value",
                "complete",
                "function",
                "else_body",
                "nested",
                "before_an_else",
            ]
        );
        assert!(
            found.iter().all(|(_, variable)| variable == "x"),
            "{found:?}"
        );
    }

    #[test]
    fn a_binding_whose_use_fails_on_undefined_is_not_found() {
        let found = unguarded(
            r#"
compared contains 1 if {
	x := input.a
	x == 1
}

called contains 1 if {
	x := input.a
	startswith(x, "b")
}

referenced contains 1 if {
	x := input.a
	x.b
}

iterated contains y if {
	x := input.a
	some y in x
}

through_a_chain contains 1 if {
	x := input.a
	y := x.b
	y != null
}

in_the_element contains v if {
	x := input.a
	v := {"msg": x}
}

in_the_value := x if {
	x := input.a
}

function(p) := x if {
	x := p.a
}

constant contains 1 if {
	x := ["a", {"b": 1}]
}

in_the_term contains 1 if {
	count([x | x := input.a]) == 1
}

in_the_last_else := 1 if {
	false
} else := x if {
	x := input.a
}

negated_but_also_used contains 1 if {
	x := input.a
	not startswith(x, "b")
	is_string(x)
}
"#,
        );
        assert_eq!(found, Vec::<(String, String)>::new());
    }
}
