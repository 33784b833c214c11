//! Keyset pages: a listing asks storage for one item more than the page holds; whether that
//! extra item came back tells if another page follows, and the page's last id is where it
//! starts.

/// Cuts `items` (read with a limit of `page_size + 1` or more) to `page_size` and names the id
/// the next page starts after, when more follow.
pub fn keyset_page<T, I>(
    mut items: Vec<T>,
    page_size: u64,
    id: impl Fn(&T) -> I,
) -> (Vec<T>, Option<I>) {
    let size = usize::try_from(page_size).unwrap_or(usize::MAX);
    let more = items.len() > size;
    items.truncate(size);
    let next = if more { items.last().map(id) } else { None };
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_with_one_more_names_its_last_id() {
        assert_eq!(keyset_page(vec![1, 2, 3], 2, |i| *i), (vec![1, 2], Some(2)));
        assert_eq!(keyset_page(vec![1, 2], 2, |i| *i), (vec![1, 2], None));
        assert_eq!(keyset_page(Vec::<u8>::new(), 2, |i| *i), (vec![], None));
    }
}
