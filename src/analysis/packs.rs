//! Git objects read straight from the repository's pack files, for the
//! history walk: its cost is inflating commits and trees, and libgit2
//! inflates every commit whole (message, signature) with zlib, through a
//! backend lookup per object. Here an object of known size is inflated
//! whole by libdeflate, and only the start of a long commit by zlib.
//!
//! Guarantees: an object read here is exactly the bytes git stores (the
//! pack's own type and size are checked, deltas are applied as git applies
//! them, and a size that does not match is no answer); anything this
//! reader does not handle (loose objects, alternates, index version 1, a
//! damaged entry, a base in another pack) is `None`, and the caller asks
//! libgit2, which then reports errors as before. Reads never panic on
//! damaged data: every offset is checked.
//!
//! The pack and index files are memory-mapped read-only. Git never rewrites
//! a pack in place (a repack writes new files and removes the old names),
//! so the mapped bytes do not change under the reader.

use std::fs::File;
use std::path::Path;
use std::rc::Rc;

use flate2::{Decompress, FlushDecompress, Status};
use memmap2::Mmap;

use super::fxhash::FxMap;

/// The kind of a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    fn of(code: u8) -> Option<Kind> {
        match code {
            1 => Some(Kind::Commit),
            2 => Some(Kind::Tree),
            3 => Some(Kind::Blob),
            4 => Some(Kind::Tag),
            _ => None,
        }
    }
}

/// One pack and its version-2 index.
struct Pack {
    idx: Mmap,
    data: Mmap,
    count: usize,
}

const IDX_HEADER: usize = 8 + 256 * 4;

impl Pack {
    fn open(idx_path: &Path) -> Option<Pack> {
        let map = |p: &Path| -> Option<Mmap> {
            let f = File::open(p).ok()?;
            // SAFETY: read-only map of a file git never rewrites in place
            // (see the module comment); every read below is bounds-checked.
            unsafe { Mmap::map(&f) }.ok()
        };
        let idx = map(idx_path)?;
        let data = map(&idx_path.with_extension("pack"))?;
        if idx.get(..8)? != b"\xfftOc\0\0\0\x02" || data.get(..4)? != b"PACK" {
            return None;
        }
        let count = be32(&idx, IDX_HEADER - 4)? as usize;
        // Names, CRCs and offsets; then large offsets and two checksums.
        if idx.len() < IDX_HEADER + count * 28 + 40 {
            return None;
        }
        Some(Pack { idx, data, count })
    }

    /// The offset of object `id` in the pack, if this pack has it.
    fn find(&self, id: &[u8; 20]) -> Option<u64> {
        let first = usize::from(id[0]);
        let lo = if first == 0 {
            0
        } else {
            be32(&self.idx, 8 + (first - 1) * 4)? as usize
        };
        let hi = be32(&self.idx, 8 + first * 4)? as usize;
        let names = IDX_HEADER;
        let (mut lo, mut hi) = (lo, hi.min(self.count));
        while lo < hi {
            let mid = (lo + hi) / 2;
            let name = self.idx.get(names + mid * 20..names + mid * 20 + 20)?;
            match name.cmp(id.as_slice()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset(mid),
            }
        }
        None
    }

    fn offset(&self, k: usize) -> Option<u64> {
        let offsets = IDX_HEADER + self.count * 24;
        let small = be32(&self.idx, offsets + k * 4)?;
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let large = offsets + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        let hi = u64::from(be32(&self.idx, large)?);
        let lo = u64::from(be32(&self.idx, large + 4)?);
        Some(hi << 32 | lo)
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// An entry's header: its type code, inflated size, and where its data
/// (after a delta's base reference) starts.
struct Entry {
    code: u8,
    size: usize,
    base: Base,
    data: usize,
}

enum Base {
    None,
    Offset(u64),
    Id([u8; 20]),
}

/// Parses the entry header at `at`.
fn entry(pack: &[u8], at: u64) -> Option<Entry> {
    let mut p = usize::try_from(at).ok()?;
    let mut c = *pack.get(p)?;
    p += 1;
    let code = (c >> 4) & 7;
    let mut size = u64::from(c & 15);
    let mut shift = 4;
    while c & 0x80 != 0 {
        c = *pack.get(p)?;
        p += 1;
        if shift > 57 {
            return None;
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
    }
    let base = match code {
        6 => {
            let mut c = *pack.get(p)?;
            p += 1;
            let mut back = u64::from(c & 0x7f);
            while c & 0x80 != 0 {
                c = *pack.get(p)?;
                p += 1;
                back = back.checked_add(1)?.checked_mul(128)? | u64::from(c & 0x7f);
            }
            Base::Offset(at.checked_sub(back).filter(|_| back > 0)?)
        }
        7 => {
            let id = pack.get(p..p + 20)?.try_into().ok()?;
            p += 20;
            Base::Id(id)
        }
        _ => Base::None,
    };
    Some(Entry {
        code,
        size: usize::try_from(size).ok()?,
        base,
        data: p,
    })
}

/// Applies a git delta to `base`.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let (base_len, mut i) = varint(delta, 0)?;
    let (out_len, j) = varint(delta, i)?;
    i = j;
    if base_len != base.len() {
        return None;
    }
    let mut out = Vec::with_capacity(out_len);
    while i < delta.len() {
        let c = delta[i];
        i += 1;
        if c & 0x80 != 0 {
            let mut off = 0usize;
            let mut len = 0usize;
            for b in 0..4 {
                if c & (1 << b) != 0 {
                    off |= usize::from(*delta.get(i)?) << (8 * b);
                    i += 1;
                }
            }
            for b in 0..3 {
                if c & (0x10 << b) != 0 {
                    len |= usize::from(*delta.get(i)?) << (8 * b);
                    i += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(off..off.checked_add(len)?)?);
        } else if c != 0 {
            let n = usize::from(c);
            out.extend_from_slice(delta.get(i..i + n)?);
            i += n;
        } else {
            return None;
        }
    }
    (out.len() == out_len).then_some(out)
}

fn varint(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let mut v = 0usize;
    let mut shift = 0;
    loop {
        let c = *b.get(i)?;
        i += 1;
        if shift > 56 {
            return None;
        }
        v |= usize::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Some((v, i));
        }
    }
}

/// The repository's packs (version-2 indexes only; SHA-1 repositories).
pub struct Packs {
    packs: Vec<Pack>,
}

impl Packs {
    /// Maps the packs under `objects_dir/pack`; `None` when there are none
    /// this reader can use.
    pub fn open(objects_dir: &Path) -> Option<Packs> {
        let mut packs: Vec<(std::time::SystemTime, Pack)> =
            std::fs::read_dir(objects_dir.join("pack"))
                .ok()?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .filter_map(|p| {
                    let t = p.metadata().and_then(|m| m.modified()).ok()?;
                    Some((t, Pack::open(&p)?))
                })
                .collect();
        // Newest first, as git searches them.
        packs.sort_by_key(|p| std::cmp::Reverse(p.0));
        let packs: Vec<Pack> = packs.into_iter().map(|(_, p)| p).collect();
        (!packs.is_empty()).then_some(Packs { packs })
    }

    /// Gives the mapped pages back: a long walk touches every commit and
    /// tree of the pack, and mapped pages count in the resident memory
    /// until released (they are read again from the page cache when
    /// needed).
    pub fn release(&self) {
        for p in &self.packs {
            // SAFETY: a read-only shared file mapping (memmap2's
            // `Mmap::map`), never written: dropping its pages loses
            // nothing (they are reloaded from the page cache or the file),
            // and no slice of it outlives a read.
            let _ = unsafe { p.data.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    fn find(&self, id: &[u8; 20]) -> Option<(usize, u64)> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(k, p)| Some((k, p.find(id)?)))
    }
}

/// Where an entry is: which pack, at which offset.
type Place = (usize, u64);

/// The delta-base cache, keyed by pack offsets.
type PlaceMap<V> = FxMap<Place, V>;

/// Reads objects from [`Packs`] (shared by the threads of a walk, each
/// with its own reader), remembering recent delta bases.
pub struct Reader {
    packs: std::sync::Arc<Packs>,
    inflate: Decompress,
    whole: libdeflater::Decompressor,
    bases: PlaceMap<(Kind, Rc<[u8]>)>,
    base_bytes: usize,
    reads: u32,
}

/// Reads between two releases of the mapped pages ([`Reader::tick`]).
const RELEASE_EVERY: u32 = 1 << 13;
/// Bytes of delta bases kept (the cache is emptied when it is full).
const BASE_BYTES: usize = 16 << 20;
/// Objects up to this size are inflated whole, and longer ones this much
/// at a time: zlib decodes with its fast loop only when it has at least
/// 258 bytes of room, so small steps cost more than a whole small commit.
const WHOLE: usize = 1024;
/// Longer delta chains are left to libgit2.
const MAX_CHAIN: usize = 10_000;

impl Reader {
    pub fn new(packs: std::sync::Arc<Packs>) -> Reader {
        Reader {
            packs,
            inflate: Decompress::new(true),
            whole: libdeflater::Decompressor::new(),
            bases: PlaceMap::default(),
            base_bytes: 0,
            reads: 0,
        }
    }

    /// Counts a read; every [`RELEASE_EVERY`] reads, gives the mapped
    /// pages back ([`Packs::release`]).
    fn tick(&mut self) {
        self.reads = self.reads.wrapping_add(1);
        if self.reads.is_multiple_of(RELEASE_EVERY) {
            self.packs.release();
        }
    }

    /// The object `id`, whole.
    pub fn read(&mut self, id: &[u8; 20]) -> Option<(Kind, Rc<[u8]>)> {
        self.tick();
        let (k, at) = self.packs.find(id)?;
        self.resolve(k, at)
    }

    /// The start of object `id` when it is stored whole (not as a delta):
    /// inflated until `enough` says so or the object ends; a delta, or an
    /// object of at most [`WHOLE`] bytes, is read whole. Enough for a
    /// commit's header lines without a long message or signature.
    pub fn read_prefix(
        &mut self,
        id: &[u8; 20],
        enough: impl Fn(&[u8]) -> bool,
    ) -> Option<(Kind, Rc<[u8]>)> {
        self.tick();
        let (k, at) = self.packs.find(id)?;
        let e = entry(&self.packs.packs.get(k)?.data, at)?;
        let Some(kind) = Kind::of(e.code) else {
            return self.resolve(k, at);
        };
        if e.size <= WHOLE {
            let whole = self.inflate_at(k, e.data, e.size)?;
            return Some((kind, whole.into()));
        }
        let mut out = Vec::with_capacity(WHOLE);
        let input = self.packs.packs.get(k)?.data.get(e.data..)?;
        self.inflate.reset(true);
        loop {
            let room = (out.len() + WHOLE).min(e.size + 1);
            out.reserve(room.saturating_sub(out.len()));
            let (had_in, had_out) = (self.inflate.total_in(), out.len());
            let rest = input.get(usize::try_from(had_in).ok()?..)?;
            let status = self
                .inflate
                .decompress_vec(rest, &mut out, FlushDecompress::None)
                .ok()?;
            if out.len() >= e.size || status == Status::StreamEnd {
                break;
            }
            if enough(&out) {
                return Some((kind, out.into()));
            }
            if self.inflate.total_in() == had_in && out.len() == had_out {
                return None;
            }
        }
        (out.len() == e.size).then(|| (kind, out.into()))
    }

    /// The object stored at `at` in pack `k`, its deltas applied.
    fn resolve(&mut self, k: usize, at: u64) -> Option<(Kind, Rc<[u8]>)> {
        // Follow the chain down to a whole object or a cached base.
        let mut chain: Vec<(u64, Entry)> = Vec::new();
        let mut cur = at;
        let (kind, mut bytes) = loop {
            if let Some((kind, b)) = self.bases.get(&(k, cur)) {
                break (*kind, b.clone());
            }
            let e = entry(&self.packs.packs.get(k)?.data, cur)?;
            if let Some(kind) = Kind::of(e.code) {
                let b: Rc<[u8]> = self.inflate_at(k, e.data, e.size)?.into();
                break (kind, b);
            }
            let next = match e.base {
                Base::Offset(o) => o,
                // A base in another pack is left to libgit2.
                Base::Id(id) => self.packs.packs.get(k)?.find(&id)?,
                Base::None => return None,
            };
            if chain.len() >= MAX_CHAIN {
                return None;
            }
            chain.push((cur, e));
            cur = next;
        };
        // Apply the deltas, newest last, keeping each base for next time.
        while let Some((pos, e)) = chain.pop() {
            self.remember(k, cur, kind, &bytes);
            let delta = self.inflate_at(k, e.data, e.size)?;
            bytes = apply_delta(&bytes, &delta)?.into();
            cur = pos;
        }
        Some((kind, bytes))
    }

    fn remember(&mut self, k: usize, at: u64, kind: Kind, bytes: &Rc<[u8]>) {
        if self.bases.contains_key(&(k, at)) {
            return;
        }
        if self.base_bytes + bytes.len() > BASE_BYTES {
            self.bases.clear();
            self.base_bytes = 0;
        }
        self.base_bytes += bytes.len();
        self.bases.insert((k, at), (kind, bytes.clone()));
    }

    /// Inflates exactly `size` bytes of the zlib stream at `data` (a stream
    /// that ends before or goes on after is no answer). libdeflate, which
    /// decodes a whole buffer: three quarters of zlib's instructions on
    /// a chain of small commits, where building the Huffman tables of each
    /// object dominates.
    fn inflate_at(&mut self, k: usize, data: usize, size: usize) -> Option<Vec<u8>> {
        let input = self.packs.packs.get(k)?.data.get(data..)?;
        let mut out = vec![0u8; size];
        let n = self.whole.zlib_decompress(input, &mut out).ok()?;
        (n == size).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_copies_and_inserts() {
        let base = b"hello world";
        // base 11, result 11: copy 6 bytes from 0, insert "there".
        let delta = [11, 11, 0x90, 6, 5, b't', b'h', b'e', b'r', b'e'];
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello there"[..])
        );
    }

    #[test]
    fn a_damaged_delta_is_no_answer() {
        let base = b"hello world";
        // Wrong base size; a copy past the base; a reserved zero opcode.
        assert_eq!(apply_delta(base, &[10, 1, 1, b'x']), None);
        assert_eq!(apply_delta(base, &[11, 20, 0x91, 5, 20]), None);
        assert_eq!(apply_delta(base, &[11, 1, 0]), None);
        assert_eq!(entry(&[0x80], 0).map(|e| e.size), None);
    }
}
