//! The dependency graph of a stage: an edge `a → b` (a before b) for every
//! pair that conflicts, with the reason.

use serde::Serialize;

use super::effects::{DepReason, Effects, conflict};

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Indices into the stage's units; `before < after` in the original.
    pub before: usize,
    pub after: usize,
    pub reason: DepReason,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DepGraph {
    pub edges: Vec<Edge>,
}

impl DepGraph {
    pub fn build(effects: &[Effects]) -> Self {
        let mut edges = Vec::new();
        for (i, a) in effects.iter().enumerate() {
            for (j, b) in effects.iter().enumerate().skip(i + 1) {
                if let Some(reason) = conflict(a, b) {
                    edges.push(Edge {
                        before: i,
                        after: j,
                        reason,
                    });
                }
            }
        }
        DepGraph { edges }
    }

    pub fn preds(&self, n: usize) -> Vec<Vec<usize>> {
        let mut p = vec![Vec::new(); n];
        for e in &self.edges {
            if e.after < n {
                p[e.after].push(e.before);
            }
        }
        p
    }
}
