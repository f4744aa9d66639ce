//! The `jobs` tree keeps a scope's jobs under one key (format 4).
//!
//! A session's planned posts, their boosts and what was said in its thread share a scope (the
//! id's first part), so a plan of 10,000 sessions is 10,000 keys instead of 120,000: sled's
//! cost is per key (a leaf splits past 16 keys, and every page has an entry in the page table
//! it keeps in memory), and storing one key per job took more than a second on its own
//! (BENCHMARKS.md, "Plan and persist: sled's own floor"). Writing a job rewrites its group;
//! groups by post instead (scope and item) were measured slower to store and no lighter over a
//! three-day event (BENCHMARKS.md, "Jobs by scope").
//!
//! A group's value is `G`, then for each job, in id order: the id's length (u16, big-endian),
//! the id, the record's length (u32, big-endian) and the record, in the envelope every stored
//! value has (`codec`). A job is read, checked and decoded alone; writing one rewrites its
//! group with a compare-and-swap, so two writers of the same group never lose each other's
//! write.

use super::StoreError;

/// The first byte of a group's value.
const MAGIC: u8 = b'G';

/// The key a job is stored under: its id up to and including the first `.` (a session's jobs,
/// `{session}.…`), or up to and including the second for the families whose first part names
/// the kind and the second the item (`follow.<hash>`, `repost.<hash>-<time>.…`); the whole id
/// when it has no such dot.
///
/// A group key is a prefix of each of its ids, and the groups sort as their ids do, so the
/// tree walks the jobs in id order.
pub fn key(id: &str) -> &str {
    let mut dots = id.match_indices('.').map(|(i, _)| i);
    let Some(first) = dots.next() else { return id };
    if matches!(&id[..first], "follow" | "repost") {
        return dots.next().map_or(id, |second| &id[..=second]);
    }
    &id[..=first]
}

/// The jobs of a group's value, in id order: each id with its record's bytes.
pub fn entries<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Vec<(&'a str, &'a [u8])>, StoreError> {
    let corrupt = |why: &str| StoreError::Corrupt {
        tree: "jobs".into(),
        key: String::from_utf8_lossy(key).into_owned(),
        why: why.to_string(),
    };
    let Some((&MAGIC, mut rest)) = bytes.split_first() else {
        return Err(corrupt("not a group of jobs"));
    };
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (id, after) = take(rest, 2).ok_or_else(|| corrupt("a job's id is cut short"))?;
        let id = std::str::from_utf8(id).map_err(|_| corrupt("a job's id is not UTF-8"))?;
        let (record, after) = take(after, 4).ok_or_else(|| corrupt("a job's record is cut short"))?;
        out.push((id, record));
        rest = after;
    }
    Ok(out)
}

/// The bytes after a length of `width` bytes, and what follows them.
fn take(bytes: &[u8], width: usize) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_at_checked(width)?;
    let len = len.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    rest.split_at_checked(len)
}

/// The record of `id` in a group's value, if it has one.
pub fn find<'a>(key: &[u8], bytes: &'a [u8], id: &str) -> Result<Option<&'a [u8]>, StoreError> {
    Ok(entries(key, bytes)?.into_iter().find(|(i, _)| *i == id).map(|(_, r)| r))
}

/// A group's value with `new` written into `old` (an id already there gets its new record),
/// in id order. `new` must be in id order, each id once.
pub fn upsert(key: &[u8], old: Option<&[u8]>, new: &[(&str, &[u8])]) -> Result<Vec<u8>, StoreError> {
    let old = old.map(|bytes| entries(key, bytes)).transpose()?.unwrap_or_default();
    let size = old.iter().chain(new).map(|(id, r)| 6 + id.len() + r.len()).sum::<usize>();
    let mut out = Vec::with_capacity(1 + size);
    out.push(MAGIC);
    let (mut a, mut b) = (old.into_iter().peekable(), new.iter().copied().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.0 < y.0 => a.next(),
            (Some(x), Some(y)) if x.0 == y.0 => {
                a.next();
                b.next()
            }
            (Some(_), None) => a.next(),
            (_, Some(_)) => b.next(),
            (None, None) => break,
        };
        if let Some((id, record)) = next {
            push(&mut out, id, record)?;
        }
    }
    Ok(out)
}

fn push(out: &mut Vec<u8>, id: &str, record: &[u8]) -> Result<(), StoreError> {
    let too_long = |what: &str| StoreError::Corrupt {
        tree: "jobs".into(),
        key: id.to_string(),
        why: format!("the {what} is too long to store"),
    };
    let id_len = u16::try_from(id.len()).map_err(|_| too_long("id"))?;
    let record_len = u32::try_from(record.len()).map_err(|_| too_long("record"))?;
    out.extend_from_slice(&id_len.to_be_bytes());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&record_len.to_be_bytes());
    out.extend_from_slice(record);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_grouped_with_its_scope() {
        assert_eq!(key("law.title.delegate"), "law.");
        assert_eq!(key("law.p2.delegate+council.undo"), "law.");
        assert_eq!(key("say3.post.delegate"), "say3.");
        assert_eq!(key("cross-1a2b.post-2.sky"), "cross-1a2b.");
        assert_eq!(key("follow.1a2b3c"), "follow.1a2b3c");
        assert_eq!(key("follow.1a2b3c.x"), "follow.1a2b3c.");
        assert_eq!(key("repost.1a2b-20260301-1000.lookup.org"), "repost.1a2b-20260301-1000.");
        assert_eq!(key("nodot"), "nodot");
        assert_eq!(key(""), "");
    }

    /// The tree's order (groups in key order, ids in order within each) is the ids' own.
    #[test]
    fn groups_sort_as_their_ids_do() {
        let mut ids = vec![
            "a.title.x",
            "a-b.title.x",
            "a.p1.x+y",
            "ab.title.x",
            "follow.1",
            "follow.1-2",
            "follow.1.z",
            "follow.12",
            "repost.9-1.lookup.x",
            "repost.9.undo",
            "z",
            "a",
            "a.",
        ];
        ids.sort_unstable();
        let mut walked = ids.clone();
        walked.sort_by_key(|id| (key(id), *id));
        assert_eq!(walked, ids);
    }

    #[test]
    fn writes_replace_and_insert_in_id_order() {
        let k = b"s.";
        let one = upsert(k, None, &[("s.b", b"B1"), ("s.d", b"D1")]).unwrap();
        let two = upsert(k, Some(&one), &[("s.a", b"A"), ("s.b", b"B2"), ("s.c", b""), ("s.e", b"E")]).unwrap();
        assert_eq!(
            entries(k, &two).unwrap(),
            [("s.a", &b"A"[..]), ("s.b", b"B2"), ("s.c", b""), ("s.d", b"D1"), ("s.e", b"E")]
        );
        assert_eq!(find(k, &two, "s.d").unwrap(), Some(&b"D1"[..]));
        assert_eq!(find(k, &two, "s.x").unwrap(), None);
        assert!(entries(k, &upsert(k, None, &[]).unwrap()).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_group_is_named_and_never_overwritten() {
        let k = b"s.";
        let good = upsert(k, None, &[("s.a", b"AAAA"), ("s.b", b"BBBB")]).unwrap();
        for cut in 1..good.len() {
            let err = entries(k, &good[..cut]).err();
            if let Some(err) = err {
                assert!(err.to_string().contains("\"s.\" in jobs is damaged"), "{err}");
            }
        }
        // Cut inside the second record: found.
        let err = entries(k, &good[..good.len() - 1]).unwrap_err().to_string();
        assert!(err.contains("cut short"), "{err}");
        assert!(entries(k, b"").unwrap_err().to_string().contains("not a group of jobs"));
        assert!(entries(k, b"L\x04").unwrap_err().to_string().contains("not a group of jobs"));
        // A write into a damaged group fails instead of dropping what it could not read.
        assert!(upsert(k, Some(&good[..good.len() - 1]), &[("s.c", b"C")]).is_err());
    }
}
