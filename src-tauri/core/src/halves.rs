//! Work a caller waits on, split over both cores: the first half of a slice on one more thread,
//! the second on this one, the results in the slice's order. Not on rayon's pool, whose threads
//! may all be a scan's parsers (blocked on its writer) when a search or a segment write needs
//! the second core.

/// `f` over the two halves of `items`, concatenated: `f(first half)` on a scoped thread of its
/// own, `f(second half)` on this one. With fewer than two items, or when no thread can be had,
/// all on this thread. A panic in `f` on the other thread is raised here.
pub fn map_halves<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> Vec<R> + Sync) -> Vec<R> {
    let (a, b) = items.split_at(items.len() / 2);
    if a.is_empty() {
        return f(items);
    }
    std::thread::scope(|s| {
        let other = std::thread::Builder::new().spawn_scoped(s, || f(a)).ok();
        let second = f(b);
        let mut first = match other {
            Some(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            None => f(a),
        };
        first.extend(second);
        first
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_are_mapped_and_come_back_in_order() {
        let double = |xs: &[u32]| xs.iter().map(|x| x * 2).collect::<Vec<_>>();
        for n in [0u32, 1, 2, 3, 50, 51] {
            let items: Vec<u32> = (0..n).collect();
            assert_eq!(map_halves(&items, double), double(&items), "{n} items");
        }
        // Two threads when there are two items or more.
        let threads = |xs: &[u32]| vec![std::thread::current().id(); xs.len()];
        let ids = map_halves(&[1, 2, 3, 4], threads);
        assert_ne!(ids[0], ids[3]);
        assert_eq!(ids[3], std::thread::current().id());
        assert_eq!(map_halves(&[1], threads), [std::thread::current().id()]);
    }

    #[test]
    #[should_panic(expected = "from the other thread")]
    fn a_panic_on_the_other_thread_is_raised_here() {
        map_halves(&[1, 2], |xs: &[u32]| -> Vec<u32> {
            if xs == [1] {
                panic!("from the other thread");
            }
            xs.to_vec()
        });
    }
}
