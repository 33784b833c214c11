//! The offline list of breached passwords: the 100,000 most common passwords of SecLists'
//! "10-million-password-list-top-100000" (MIT; the list by Mark Burnett), embedded in the
//! binary front-coded (about 420 KiB) and searched without decompressing it.
//!
//! Format (`data/make-breached-list` writes it): entries sorted by bytes, each
//! `[shared-prefix length][suffix length][suffix]`, in blocks of 16 whose first entry shares
//! nothing with the entry before it. A lookup binary-searches the blocks by their first entry and
//! decodes one block.

use std::sync::OnceLock;

const DATA: &[u8] = include_bytes!("../data/breached-100k.fc");
const BLOCK: usize = 16;

/// The embedded list with its block index.
pub struct BreachedPasswords {
    data: &'static [u8],
    /// Offset of every block's first entry.
    blocks: Vec<usize>,
    len: usize,
}

impl BreachedPasswords {
    /// The list shipped with Clavis; indexed on first use.
    pub fn embedded() -> &'static Self {
        static LIST: OnceLock<BreachedPasswords> = OnceLock::new();
        LIST.get_or_init(|| Self::index(DATA))
    }

    fn index(data: &'static [u8]) -> Self {
        let mut blocks = Vec::new();
        let mut offset = 0;
        let mut len = 0;
        while offset + 2 <= data.len() {
            if len % BLOCK == 0 {
                blocks.push(offset);
            }
            offset += 2 + usize::from(data[offset + 1]);
            len += 1;
        }
        Self { data, blocks, len }
    }

    /// How many passwords the list holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn first_entry(&self, block: usize) -> &'static [u8] {
        let offset = self.blocks[block];
        let length = usize::from(self.data[offset + 1]);
        &self.data[offset + 2..offset + 2 + length]
    }

    /// Whether `password` is on the list, exactly or in lower case.
    pub fn contains(&self, password: &str) -> bool {
        self.contains_exact(password.as_bytes())
            || password.chars().any(char::is_uppercase)
                && self.contains_exact(password.to_lowercase().as_bytes())
    }

    fn contains_exact(&self, target: &[u8]) -> bool {
        if target.is_empty() || target.len() > 255 || self.blocks.is_empty() {
            return false;
        }
        let Some(block) = self.blocks_not_after(target).checked_sub(1) else {
            return false;
        };
        let mut offset = self.blocks[block];
        let end = self
            .blocks
            .get(block + 1)
            .copied()
            .unwrap_or(self.data.len());
        let mut current: Vec<u8> = Vec::with_capacity(32);
        while offset + 2 <= end {
            let shared = usize::from(self.data[offset]);
            let length = usize::from(self.data[offset + 1]);
            current.truncate(shared);
            current.extend_from_slice(&self.data[offset + 2..offset + 2 + length]);
            match current.as_slice().cmp(target) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Greater => return false,
                std::cmp::Ordering::Less => {}
            }
            offset += 2 + length;
        }
        false
    }

    /// How many blocks start with an entry not after `target`.
    fn blocks_not_after(&self, target: &[u8]) -> usize {
        let (mut low, mut high) = (0, self.blocks.len());
        while low < high {
            let mid = (low + high) / 2;
            if self.first_entry(mid) <= target {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_one_hundred_thousand_sorted_entries() {
        let list = BreachedPasswords::embedded();
        assert_eq!(list.len(), 100_000);
        let firsts: Vec<&[u8]> = (0..list.blocks.len())
            .map(|b| list.first_entry(b))
            .collect();
        assert!(firsts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn finds_common_passwords_at_block_edges_and_inside() {
        let list = BreachedPasswords::embedded();
        for common in ["123456", "password", "12345678", "iloveyou", "qwertyuiop"] {
            assert!(list.contains(common), "{common}");
        }
        for block in [0, 1, list.blocks.len() / 2, list.blocks.len() - 1] {
            let first = std::str::from_utf8(list.first_entry(block)).unwrap_or("123456");
            assert!(list.contains_exact(first.as_bytes()), "{first}");
        }
        assert!(list.contains("PASSWORD"), "upper case of a listed password");
    }

    #[test]
    fn misses_what_is_not_listed() {
        let list = BreachedPasswords::embedded();
        for fresh in [
            "correct horse battery",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "",
            "!",
        ] {
            assert!(!list.contains(fresh), "{fresh}");
        }
    }
}
