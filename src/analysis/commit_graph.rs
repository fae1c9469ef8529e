//! The repository's commit-graph file (`objects/info/commit-graph`, which
//! `git gc` and `git commit-graph write` make), read for the first-parent
//! commit chain: per commit its tree and first parent, without inflating
//! the commit object (git log reads it too; without it, inflating the
//! commits is most of a short walk).
//!
//! Guarantees: only a single-file graph of format version 1 with SHA-1 ids
//! is read (a split graph's chain, another version or hash is no graph);
//! the header, the chunk table, the three chunks read (fan-out, ids, commit
//! data) and the fan-out's order are checked when the file is opened, and
//! every later read is bounds-checked, so a damaged file is no answer
//! rather than a panic. A commit the graph does not list (one made after
//! the graph was written) is no answer: the caller reads its object. The
//! graph is trusted as git trusts it: its checksum is not verified (git
//! verifies it only in `git commit-graph verify`). The file is mapped
//! read-only; git replaces it by renaming a new file over it, never by
//! writing into it.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

/// A commit-graph file, mapped and checked.
pub struct CommitGraph {
    map: Mmap,
    /// Number of commits.
    count: usize,
    /// Where the fan-out, the sorted ids and the commit data start.
    fanout: usize,
    ids: usize,
    data: usize,
}

/// Length of an id (SHA-1).
const ID: usize = 20;
/// Length of one commit's data: tree id, two parent positions, generation
/// and time.
const DATA: usize = ID + 16;
/// The first parent of a root commit.
const NO_PARENT: u32 = 0x7000_0000;

/// A commit as the graph lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphCommit {
    pub tree: [u8; ID],
    /// The first parent, `None` for a root commit.
    pub parent: Option<[u8; ID]>,
}

impl CommitGraph {
    /// The graph of the objects directory `objects_dir`, when it has one
    /// this reader can use.
    pub fn open(objects_dir: &Path) -> Option<CommitGraph> {
        let f = File::open(objects_dir.join("info").join("commit-graph")).ok()?;
        // SAFETY: a read-only map of a file git never writes in place (see
        // the module comment); every read below is bounds-checked.
        let map = unsafe { Mmap::map(&f) }.ok()?;
        Self::parse(map)
    }

    fn parse(map: Mmap) -> Option<CommitGraph> {
        // Signature, version 1, hash version 1 (SHA-1), chunk count, and
        // no base graphs.
        let head = map.get(..8)?;
        if head.get(..6)? != b"CGPH\x01\x01" || head[7] != 0 {
            return None;
        }
        let chunks = usize::from(head[6]);
        let (mut fanout, mut ids, mut data) = (None, None, None);
        // The table: (id, offset) per chunk, then a terminating entry
        // whose offset ends the last chunk.
        let mut table = Vec::with_capacity(chunks + 1);
        for k in 0..=chunks {
            let at = 8 + k * 12;
            let id = map.get(at..at + 4)?;
            let off = usize::try_from(be64(&map, at + 4)?).ok()?;
            if off > map.len() {
                return None;
            }
            table.push((id, off));
        }
        for w in table.windows(2) {
            let ((id, start), (_, end)) = (w[0], w[1]);
            let len = end.checked_sub(start)?;
            match id {
                b"OIDF" => fanout = Some((start, len)),
                b"OIDL" => ids = Some((start, len)),
                b"CDAT" => data = Some((start, len)),
                _ => {}
            }
        }
        let (fanout, fanout_len) = fanout?;
        let (ids, ids_len) = ids?;
        let (data, data_len) = data?;
        if fanout_len != 256 * 4 {
            return None;
        }
        // The fan-out counts, per first byte, the ids up to it: never
        // decreasing, and its last entry is the number of commits.
        let mut last = 0;
        for b in 0..256 {
            let n = be32(&map, fanout + b * 4)?;
            if n < last {
                return None;
            }
            last = n;
        }
        let count = usize::try_from(last).ok()?;
        if ids_len != count.checked_mul(ID)? || data_len != count.checked_mul(DATA)? {
            return None;
        }
        Some(CommitGraph {
            map,
            count,
            fanout,
            ids,
            data,
        })
    }

    /// How many commits the graph lists: a first-parent chain read from it
    /// that takes more steps than this runs in a circle (a damaged graph;
    /// commit objects cannot form one).
    pub fn commits(&self) -> usize {
        self.count
    }

    /// The commit `id`, when the graph lists it.
    pub fn commit(&self, id: &[u8; ID]) -> Option<GraphCommit> {
        let pos = self.position(id)?;
        let at = self.data + pos * DATA;
        let tree: [u8; ID] = self.map.get(at..at + ID)?.try_into().ok()?;
        let first = be32(&self.map, at + ID)?;
        let parent = if first == NO_PARENT {
            None
        } else {
            Some(self.id_at(usize::try_from(first).ok()?)?)
        };
        Some(GraphCommit { tree, parent })
    }

    /// Where `id` is in the sorted ids.
    fn position(&self, id: &[u8; ID]) -> Option<usize> {
        let first = usize::from(id[0]);
        let lo = if first == 0 {
            0
        } else {
            be32(&self.map, self.fanout + (first - 1) * 4)? as usize
        };
        let hi = (be32(&self.map, self.fanout + first * 4)? as usize).min(self.count);
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.id_at(mid)?.cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The id at position `pos` (`None` past the end).
    fn id_at(&self, pos: usize) -> Option<[u8; ID]> {
        if pos >= self.count {
            return None;
        }
        let at = self.ids + pos * ID;
        self.map.get(at..at + ID)?.try_into().ok()
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
