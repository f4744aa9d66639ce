//! Work over a long slice, in ordered parts on up to four threads: a first plan's composing
//! (`plan`) and encoding (`store`). Below `from` items, or on one core, one thread does it all
//! (starting threads would cost more).

/// `work` applied to `items` in parts, the results in the parts' order. A panic in a part is
/// raised again here.
pub fn in_parts<T: Sync, R: Send>(items: &[T], from: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if threads < 2 || items.len() < from {
        return vec![work(items)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let parts: Vec<_> =
            items.chunks(items.len().div_ceil(threads)).map(|part| scope.spawn(move || work(part))).collect();
        parts.into_iter().map(|part| part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}
