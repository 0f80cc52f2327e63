//! Rule timings for policy authors (`seaworthy lint --timings`, what `opa eval --profile` gives OPA
//! users): how often each rule ran and how long it took. Timed runs evaluate each rule in an
//! execution of its own instead of the kind's batch (see `compile::Batch`), so that its time is its
//! own: a timed run is slower than a normal one, and each rule's time includes the library helpers
//! it calls, which a batch would share between rules.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Counters per enabled rule (indexed like `Evaluator::active`), added to from every thread.
pub(super) struct Timings {
    slots: Vec<Counter>,
}

#[derive(Default)]
struct Counter {
    evaluations: AtomicU64,
    nanos: AtomicU64,
}

impl Timings {
    pub(super) fn new(rules: usize) -> Timings {
        Timings {
            slots: (0..rules).map(|_| Counter::default()).collect(),
        }
    }

    pub(super) fn record(&self, slot: usize, took: Duration) {
        if let Some(counter) = self.slots.get(slot) {
            counter.evaluations.fetch_add(1, Ordering::Relaxed);
            let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
            counter.nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// The timings of the rules that ran at least once, costliest first (ties by rule id).
    /// `id_of(slot)` names the rule of a slot.
    pub(super) fn report<'a>(&self, id_of: impl Fn(usize) -> &'a str) -> Vec<RuleTiming> {
        let mut timings: Vec<RuleTiming> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, counter)| {
                let evaluations = counter.evaluations.load(Ordering::Relaxed);
                let nanos = counter.nanos.load(Ordering::Relaxed);
                (evaluations > 0).then(|| RuleTiming {
                    rule: id_of(slot).to_string(),
                    evaluations,
                    total_ms: nanos as f64 / 1e6,
                    mean_us: nanos as f64 / 1e3 / evaluations as f64,
                })
            })
            .collect();
        timings.sort_by(|a, b| {
            b.total_ms
                .total_cmp(&a.total_ms)
                .then_with(|| a.rule.cmp(&b.rule))
        });
        timings
    }
}

/// One rule's share of a timed run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTiming {
    pub rule: String,
    /// Objects the rule was evaluated on.
    pub evaluations: u64,
    /// Time spent evaluating it, summed over the threads that did.
    pub total_ms: f64,
    /// `total_ms` per evaluation, in microseconds.
    pub mean_us: f64,
}

/// The timings as a table for people, costliest first, with each rule's share of the total.
pub fn table(timings: &[RuleTiming]) -> String {
    if timings.is_empty() {
        return "timings: no rule was evaluated\n".to_string();
    }
    let total = timings.iter().fold(0.0, |sum, t| sum + t.total_ms);
    let width = timings
        .iter()
        .map(|t| t.rule.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:>11}  {:>11}  {:>10}  {:>6}\n",
        "rule", "evaluations", "total ms", "mean us", "share"
    );
    for t in timings {
        let share = if total > 0.0 {
            t.total_ms / total * 100.0
        } else {
            0.0
        };
        out.push_str(&format!(
            "{:<width$}  {:>11}  {:>11.2}  {:>10.1}  {:>5.1}%\n",
            t.rule, t.evaluations, t.total_ms, t.mean_us, share
        ));
    }
    out.push_str(&format!(
        "{} rule(s), {:.2} ms evaluating in all (each rule timed in an execution of its own)\n",
        timings.len(),
        total
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_sorts_by_total_and_leaves_out_rules_that_never_ran() {
        let timings = Timings::new(3);
        timings.record(0, Duration::from_micros(10));
        timings.record(2, Duration::from_micros(30));
        timings.record(2, Duration::from_micros(50));
        let ids = ["cheap", "never", "costly"];
        let report = timings.report(|slot| ids[slot]);
        let names: Vec<&str> = report.iter().map(|t| t.rule.as_str()).collect();
        assert_eq!(names, ["costly", "cheap"]);
        assert_eq!(report[0].evaluations, 2);
        assert!((report[0].total_ms - 0.08).abs() < 1e-9);
        assert!((report[0].mean_us - 40.0).abs() < 1e-9);
        let text = table(&report);
        assert!(text.lines().nth(1).unwrap().starts_with("costly"), "{text}");
        assert!(text.contains("2 rule(s)"), "{text}");
    }
}
