//! A per-object budget checked before evaluation. Evaluation cost grows with the containers of an
//! object (most rules walk every container, some compare them pairwise), so an object with
//! thousands of them can hold every evaluation slot past its time budget and make the failure
//! mode answer for everyone. Such an object is answered at once, explicitly: denied in enforce
//! mode, a warning in warn mode, and counted. Never silently admitted: size is not a way around
//! the rules.

use crate::config::Mode;
use crate::manifest::node::Node;
use crate::manifest::Object;

use super::admission::{AdmissionRequest, AdmissionResponse};
use super::review::{Decision, Reviewer, Verdict};

#[derive(Debug, Clone, Copy)]
pub struct ObjectBudget {
    pub max_containers: usize,
}

/// Which limit an object went over, for the answer and the metric's `limit` label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exceeded {
    Containers { count: usize, limit: usize },
}

impl Exceeded {
    pub fn limit_name(&self) -> &'static str {
        match self {
            Exceeded::Containers { .. } => "containers",
        }
    }
}

/// Containers, init containers and ephemeral containers in the object's pod spec (0 when the
/// kind runs no pods). The pod spec is found where lint and the rules find it.
pub fn containers(request: &AdmissionRequest, object: &Object) -> usize {
    let Some(paths) = crate::workload::pod_paths(&request.kind.api_version(), &request.kind.kind)
    else {
        return 0;
    };
    let Some(spec) = object.root.at(&paths.spec) else {
        return 0;
    };
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|field| spec.get(field).and_then(Node::as_seq))
        .map(<[Node]>::len)
        .sum()
}

/// Containers whose evaluation one evaluation slot stands for. Evaluation cost grows with the
/// containers of an object: a 1-container Pod takes ~0.2 ms, a 200-container Deployment a hundred
/// times that. So an object takes one slot per this many containers (at least one, at most every
/// slot): an object that costs as much as many small ones holds as many slots, instead of one,
/// and the slots keep bounding the work in flight, not only its count.
pub const CONTAINERS_PER_SLOT: usize = 25;

/// The evaluation slots an object of `containers` containers takes out of `slots`.
pub fn slots_for(containers: usize, slots: usize) -> usize {
    containers
        .div_ceil(CONTAINERS_PER_SLOT)
        .clamp(1, slots.max(1))
}

impl ObjectBudget {
    /// What the object goes over, if anything. Only the new object counts: an UPDATE that brings
    /// an oversized workload back under the limit must not be refused for what it fixes.
    pub fn exceeded(&self, request: &AdmissionRequest, object: &Object) -> Option<Exceeded> {
        let count = containers(request, object);
        (count > self.max_containers).then_some(Exceeded::Containers {
            count,
            limit: self.max_containers,
        })
    }

    /// The answer for an object over budget: a denial, or in warn mode an admission with the
    /// same text as a warning. `None` when the object is within budget.
    pub fn check(
        &self,
        reviewer: &Reviewer,
        request: &AdmissionRequest,
        object: &Object,
    ) -> Option<(Verdict, Exceeded)> {
        let exceeded = self.exceeded(request, object)?;
        let object = object.id.clone();
        let message = match &exceeded {
            Exceeded::Containers { count, limit } => format!(
                "{object} has {count} containers, more than the {limit} seaworthy evaluates \
                 (--max-containers): it was not checked; split the workload or raise the limit"
            ),
        };
        let (response, decision) = match reviewer.policy.mode {
            Mode::Enforce => (
                AdmissionResponse::deny(&request.uid, message),
                Decision::Denied,
            ),
            Mode::Warn => {
                let mut response = AdmissionResponse::allow(&request.uid);
                response.warnings.push(message);
                (response, Decision::Warned)
            }
        };
        Some((
            Verdict {
                response,
                decision,
                object: Some(object),
                findings: Vec::new(),
                failure: None,
            },
            exceeded,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_takes_slots_by_its_containers() {
        assert_eq!(
            slots_for(0, 8),
            1,
            "a kind that runs no pods still takes one"
        );
        assert_eq!(slots_for(1, 8), 1);
        assert_eq!(slots_for(CONTAINERS_PER_SLOT, 8), 1);
        assert_eq!(slots_for(CONTAINERS_PER_SLOT + 1, 8), 2);
        assert_eq!(slots_for(200, 8), 8);
        assert_eq!(slots_for(2_900, 2), 2, "never more than there are");
        assert_eq!(slots_for(2_900, 0), 1);
    }
}
