//! Choosing the order of a stage's units: the one, among the orders the
//! dependency graph allows, with the least expected rebuild cost, and among
//! equals the one closest to the original (fewest pairs swapped).
//!
//! The expected cost of an order is `Σ_k cost(o_k) · hit(o_1..o_k)`, where
//! `hit(S)` is the share of builds in which some unit of `S` is invalidated
//! (its inputs or its text changed). `hit` comes either from the static
//! estimate (independent change probabilities) or from the repository's
//! history (the set of directly invalidated units of each walked commit).
//! Exact search over subsets for stages of up to [`EXACT_LIMIT`] units; a
//! local search beyond.

/// How often sets of units are invalidated.
#[derive(Debug, Clone)]
pub enum Hits {
    /// Independent per-unit change probabilities.
    Static(Vec<f64>),
    /// Distinct invalidation masks with the number of commits showing each,
    /// and the number of commits walked.
    Masks {
        masks: Vec<(u64, u64)>,
        commits: u64,
    },
}

impl Hits {
    /// Share of builds in which some unit of `set` is invalidated.
    pub fn hit(&self, set: u64) -> f64 {
        match self {
            Hits::Static(p) => {
                let mut unchanged = 1.0;
                for (i, pi) in p.iter().enumerate() {
                    if set & (1 << i) != 0 {
                        unchanged *= 1.0 - pi;
                    }
                }
                1.0 - unchanged
            }
            Hits::Masks { masks, commits } => {
                if *commits == 0 {
                    return 0.0;
                }
                let n: u64 = masks
                    .iter()
                    .filter(|(m, _)| m & set != 0)
                    .map(|(_, w)| w)
                    .sum();
                n as f64 / *commits as f64
            }
        }
    }

    /// `hit` for every subset of `n` units (exact search only).
    fn table(&self, n: usize) -> Vec<f64> {
        let size = 1usize << n;
        match self {
            Hits::Static(p) => {
                let mut q = vec![1.0f64; size];
                for s in 1..size {
                    let low = s.trailing_zeros() as usize;
                    q[s] = q[s & (s - 1)] * (1.0 - p[low]);
                }
                q.into_iter().map(|x| 1.0 - x).collect()
            }
            Hits::Masks { masks, commits } => {
                // miss[T] = commits whose mask lies inside T (sum over
                // subsets), so hit(S) = 1 - miss[complement S] / commits.
                let full = size - 1;
                let mut miss = vec![0u64; size];
                for (m, w) in masks {
                    miss[(*m as usize) & full] += w;
                }
                for i in 0..n {
                    for t in 0..size {
                        if t & (1 << i) != 0 {
                            miss[t] += miss[t ^ (1 << i)];
                        }
                    }
                }
                let c = (*commits).max(1) as f64;
                (0..size).map(|s| 1.0 - miss[full ^ s] as f64 / c).collect()
            }
        }
    }
}

/// Expected cost of an order.
pub fn expected_cost(order: &[usize], cost: &[f64], hits: &Hits) -> f64 {
    let mut set = 0u64;
    let mut total = 0.0;
    for &u in order {
        set |= 1 << u;
        if cost[u] > 0.0 {
            total += cost[u] * hits.hit(set);
        }
    }
    total
}

/// Largest stage searched exactly.
pub const EXACT_LIMIT: usize = 16;

/// Units beyond this are never reordered (masks are 64 bits).
pub const MAX_UNITS: usize = 64;

/// The best order; `preds[u]` lists units that must stay before `u`.
pub fn best_order(n: usize, preds: &[Vec<usize>], cost: &[f64], hits: &Hits) -> Vec<usize> {
    if n == 0 || n > MAX_UNITS {
        return (0..n).collect();
    }
    if n <= EXACT_LIMIT {
        exact(n, preds, cost, hits)
    } else {
        local(n, preds, cost, hits)
    }
}

#[allow(clippy::needless_range_loop)] // x indexes several parallel tables
fn exact(n: usize, preds: &[Vec<usize>], cost: &[f64], hits: &Hits) -> Vec<usize> {
    let table = hits.table(n);
    let size = 1usize << n;
    let full = size - 1;
    let pred_mask: Vec<usize> = preds
        .iter()
        .map(|ps| ps.iter().fold(0usize, |m, &x| m | (1 << x)))
        .collect();
    // f[S] = (cost, swaps) of the best completion once S is placed.
    let mut f = vec![(f64::INFINITY, u32::MAX); size];
    f[full] = (0.0, 0);
    let better = |a: (f64, u32), b: (f64, u32)| -> bool {
        let tol = 1e-9 * a.0.abs().max(b.0.abs()).max(1.0);
        a.0 < b.0 - tol || (a.0 <= b.0 + tol && a.1 < b.1)
    };
    let step = |s: usize, x: usize, f: &Vec<(f64, u32)>| -> (f64, u32) {
        let t = s | (1 << x);
        let (fc, fs) = f[t];
        // Units still to come that were originally before x: each one is a
        // swapped pair.
        let swaps = ((!t & full) & ((1usize << x) - 1)).count_ones();
        (cost[x] * table[t] + fc, fs.saturating_add(swaps))
    };
    // Only sets closed under the predecessors are ever placed (the empty
    // set is, and adding an available unit keeps a set closed), so only
    // their completions are read: the others are left unsolved.
    let closed = |s: usize| {
        let mut rest = s;
        while rest != 0 {
            let x = rest.trailing_zeros() as usize;
            if pred_mask[x] & !s != 0 {
                return false;
            }
            rest &= rest - 1;
        }
        true
    };
    for s in (0..full).rev() {
        if !closed(s) {
            continue;
        }
        let mut best = (f64::INFINITY, u32::MAX);
        for x in 0..n {
            if s & (1 << x) == 0 && pred_mask[x] & !s == 0 {
                let v = step(s, x, &f);
                if better(v, best) {
                    best = v;
                }
            }
        }
        f[s] = best;
    }
    let mut order = Vec::with_capacity(n);
    let mut s = 0usize;
    while s != full {
        let mut chosen: Option<(usize, (f64, u32))> = None;
        for x in 0..n {
            if s & (1 << x) == 0 && pred_mask[x] & !s == 0 {
                let v = step(s, x, &f);
                if chosen.is_none_or(|(_, b)| better(v, b)) {
                    chosen = Some((x, v));
                }
            }
        }
        let Some((x, _)) = chosen else {
            return (0..n).collect();
        };
        order.push(x);
        s |= 1 << x;
    }
    order
}

/// Moves single units with a cost up, one best move at a time, while that
/// strictly lowers the cost.
fn local(n: usize, preds: &[Vec<usize>], cost: &[f64], hits: &Hits) -> Vec<usize> {
    let eps = 1e-9;
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..(4 * n + 4) {
        let base = expected_cost(&order, cost, hits);
        let mut best: Option<(f64, Vec<usize>)> = None;
        for i in 1..n {
            let u = order[i];
            if cost[u] <= 0.0 {
                continue;
            }
            for j in (0..i).rev() {
                if preds[u].contains(&order[j]) {
                    break;
                }
                let mut cand = order.clone();
                let moved = cand.remove(i);
                cand.insert(j, moved);
                let v = expected_cost(&cand, cost, hits);
                if v < base - eps * base.max(1.0)
                    && best.as_ref().is_none_or(|(bv, _)| v < *bv - eps)
                {
                    best = Some((v, cand));
                }
            }
        }
        match best {
            Some((_, cand)) => order = cand,
            None => break,
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_moves_rare_inputs_first_and_keeps_ties() {
        // 0: COPY src (p .5), 1: COPY manifest (p .05), 2: RUN install.
        let hits = Hits::Static(vec![0.5, 0.05, 0.0]);
        let cost = [1.0, 1.0, 60.0];
        let preds = vec![vec![], vec![], vec![1]];
        assert_eq!(best_order(3, &preds, &cost, &hits), vec![1, 2, 0]);
        // Nothing to gain: original order.
        let hits = Hits::Static(vec![0.0, 0.0, 0.0]);
        assert_eq!(best_order(3, &preds, &cost, &hits), vec![0, 1, 2]);
    }

    #[test]
    fn history_masks_drive_the_order() {
        // Unit 1 (manifest) changes in every commit, unit 0 never.
        let hits = Hits::Masks {
            masks: vec![(0b010, 10)],
            commits: 10,
        };
        let cost = [1.0, 1.0, 60.0, 60.0];
        // 2 reads 1's output; 3 reads 0's output.
        let preds = vec![vec![], vec![], vec![1], vec![0]];
        let o = best_order(4, &preds, &cost, &hits);
        assert_eq!(o, vec![0, 3, 1, 2]);
    }

    #[test]
    fn table_matches_direct_hit() {
        let hits = Hits::Masks {
            masks: vec![(0b011, 3), (0b100, 2), (0, 5)],
            commits: 10,
        };
        let t = hits.table(3);
        for s in 0..8u64 {
            assert!((t[s as usize] - hits.hit(s)).abs() < 1e-12, "{s}");
        }
        let st = Hits::Static(vec![0.5, 0.2, 0.1]);
        let t = st.table(3);
        for s in 0..8u64 {
            assert!((t[s as usize] - st.hit(s)).abs() < 1e-12, "{s}");
        }
    }

    #[test]
    fn exact_and_local_agree_on_small_cases() {
        let hits = Hits::Static(vec![0.5, 0.05, 0.0, 0.3, 0.0]);
        let cost = [1.0, 1.0, 60.0, 1.0, 30.0];
        let preds = vec![vec![], vec![], vec![1], vec![], vec![3]];
        let e = exact(5, &preds, &cost, &hits);
        let l = local(5, &preds, &cost, &hits);
        let ce = expected_cost(&e, &cost, &hits);
        let cl = expected_cost(&l, &cost, &hits);
        assert!(ce <= cl + 1e-9, "{e:?} {ce} vs {l:?} {cl}");
    }
}
