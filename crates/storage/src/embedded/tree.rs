//! A persistent (copy-on-write) B+tree from keys to [`Rec`]s that knows the size of every
//! subtree.
//!
//! * Cloning a [`Tree`] is O(1) (it clones one `Arc`); later writes to either copy only the nodes
//!   on their path. That is what lets a snapshot of the whole key space be taken under the state
//!   lock in constant time and written out in the background, and lets a range read walk the
//!   tree outside the lock.
//! * Every inner node records the number of keys below each child, so the number of keys in a
//!   key range is O(log n) ([`Tree::count_range`]) instead of a walk over the range.
//! * get, insert and remove are O(log n); iteration from a key is O(log n) to seek plus O(1)
//!   amortised per key.

use std::sync::Arc;

use bytes::Bytes;

/// Most entries (leaf) or children (inner node) a node holds before it splits.
const MAX: usize = 32;
/// Below this many entries a non-root node is merged with (or rebalanced against) a neighbour.
const MIN: usize = MAX / 4;

/// The stored state of one live key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rec {
    /// The value (shared with history, never copied).
    pub value: Bytes,
    /// Revision of the write that created the key.
    pub create: i64,
    /// Revision of the last write to the key.
    pub modr: i64,
    /// Writes since creation (1 after creation).
    pub version: i64,
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<(Arc<str>, Rec)>),
    Inner(Vec<Child>),
}

#[derive(Clone, Debug)]
struct Child {
    /// The smallest key in the subtree.
    min: Arc<str>,
    /// The number of keys in the subtree.
    count: usize,
    node: Arc<Node>,
}

impl Node {
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(c) => c.len(),
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(c) => c.iter().map(|c| c.count).sum(),
        }
    }

    fn min_key(&self) -> Option<&Arc<str>> {
        match self {
            Node::Leaf(v) => v.first().map(|(k, _)| k),
            Node::Inner(c) => c.first().map(|c| &c.min),
        }
    }

    /// Splits off the upper half if the node is over-full.
    fn split_if_full(&mut self) -> Option<Child> {
        if self.width() <= MAX {
            return None;
        }
        let right = match self {
            Node::Leaf(v) => {
                let at = v.len() / 2;
                Node::Leaf(v.split_off(at))
            }
            Node::Inner(c) => {
                let at = c.len() / 2;
                Node::Inner(c.split_off(at))
            }
        };
        let min = right.min_key()?.clone();
        Some(Child { min, count: right.count(), node: Arc::new(right) })
    }
}

/// The index of the child whose subtree would hold `key`: the last child whose min is <= key
/// (or the first child).
fn pick(children: &[Child], key: &str) -> usize {
    children.partition_point(|c| &*c.min <= key).saturating_sub(1)
}

/// A persistent, counted B+tree map from `Arc<str>` keys (ordered as strings, which for UTF-8 is
/// byte order) to [`Rec`]s.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    root: Arc<Node>,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree { root: Arc::new(Node::Leaf(Vec::new())), len: 0 }
    }
}

impl Tree {
    /// The number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<(&Arc<str>, &Rec)> {
        let mut node = &*self.root;
        loop {
            match node {
                Node::Inner(c) => node = &c.get(pick(c, key))?.node,
                Node::Leaf(v) => {
                    let i = v.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
                    return v.get(i).map(|(k, r)| (k, r));
                }
            }
        }
    }

    /// Sets `key` to `rec`; returns the previous record.
    pub fn insert(&mut self, key: Arc<str>, rec: Rec) -> Option<Rec> {
        let (old, split) = insert_rec(&mut self.root, key, rec);
        if old.is_none() {
            self.len += 1;
        }
        if let Some(right) = split {
            let left = self.root.clone();
            let left_count = self.len - right.count;
            let min = match left.min_key() {
                Some(m) => m.clone(),
                None => right.min.clone(),
            };
            self.root = Arc::new(Node::Inner(vec![Child { min, count: left_count, node: left }, right]));
        }
        old
    }

    /// Removes `key`; returns its record.
    pub fn remove(&mut self, key: &str) -> Option<Rec> {
        // Look first so that a miss copies no shared node.
        self.get(key)?;
        let old = remove_rec(&mut self.root, key);
        if old.is_some() {
            self.len -= 1;
        }
        // Collapse a root with a single child.
        loop {
            let only = match &*self.root {
                Node::Inner(c) if c.len() == 1 => c.first().map(|c| c.node.clone()),
                Node::Inner(c) if c.is_empty() => Some(Arc::new(Node::Leaf(Vec::new()))),
                _ => None,
            };
            match only {
                Some(n) => self.root = n,
                None => break,
            }
        }
        old
    }

    /// The number of keys `< key`.
    pub fn rank(&self, key: &str) -> usize {
        let mut node = &*self.root;
        let mut below = 0;
        loop {
            match node {
                Node::Inner(c) => {
                    let i = pick(c, key);
                    below += c.iter().take(i).map(|c| c.count).sum::<usize>();
                    match c.get(i) {
                        Some(child) => node = &child.node,
                        None => return below,
                    }
                }
                Node::Leaf(v) => return below + v.partition_point(|(k, _)| &**k < key),
            }
        }
    }

    /// The number of keys in `[start, end)`; `end = None` means no upper bound.
    pub fn count_range(&self, start: &str, end: Option<&str>) -> usize {
        let hi = match end {
            Some(e) => self.rank(e),
            None => self.len,
        };
        hi.saturating_sub(self.rank(start))
    }

    /// Iterates the entries with key >= `start`, in key order.
    pub fn iter_from(&self, start: &str) -> Iter {
        let mut stack = Vec::new();
        let mut node = self.root.clone();
        loop {
            let next = match &*node {
                Node::Inner(c) => {
                    let i = pick(c, start);
                    let child = c.get(i).map(|c| c.node.clone());
                    stack.push((node.clone(), i + 1));
                    child
                }
                Node::Leaf(v) => {
                    let i = v.partition_point(|(k, _)| &**k < start);
                    stack.push((node.clone(), i));
                    None
                }
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        Iter { stack }
    }
}

fn insert_rec(node: &mut Arc<Node>, key: Arc<str>, rec: Rec) -> (Option<Rec>, Option<Child>) {
    let n = Arc::make_mut(node);
    let old = match n {
        Node::Leaf(v) => match v.binary_search_by(|(k, _)| (**k).cmp(&*key)) {
            Ok(i) => match v.get_mut(i) {
                Some(slot) => Some(std::mem::replace(&mut slot.1, rec)),
                None => None,
            },
            Err(i) => {
                v.insert(i, (key, rec));
                None
            }
        },
        Node::Inner(c) => {
            let i = pick(c, &key);
            let Some(child) = c.get_mut(i) else {
                // An inner node always has children; treat an empty one as a leaf insert.
                *n = Node::Leaf(vec![(key, rec)]);
                return (None, None);
            };
            if *key < *child.min {
                child.min = key.clone();
            }
            let (old, split) = insert_rec(&mut child.node, key, rec);
            if old.is_none() {
                child.count += 1;
            }
            if let Some(right) = split {
                child.count -= right.count;
                c.insert(i + 1, right);
            }
            old
        }
    };
    (old, n.split_if_full())
}

fn remove_rec(node: &mut Arc<Node>, key: &str) -> Option<Rec> {
    match Arc::make_mut(node) {
        Node::Leaf(v) => {
            let i = v.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
            Some(v.remove(i).1)
        }
        Node::Inner(c) => {
            let i = pick(c, key);
            let child = c.get_mut(i)?;
            let old = remove_rec(&mut child.node, key)?;
            child.count -= 1;
            if child.node.width() == 0 {
                c.remove(i);
                return Some(old);
            }
            if let Some(m) = child.node.min_key() {
                child.min = m.clone();
            }
            if child.node.width() < MIN && c.len() > 1 {
                rebalance(c, i);
            }
            Some(old)
        }
    }
}

/// Merges the under-full child `i` with a neighbour, splitting the result again if it is too wide.
fn rebalance(c: &mut Vec<Child>, i: usize) {
    let a = if i > 0 { i - 1 } else { i };
    let b = a + 1;
    if b >= c.len() {
        return;
    }
    let right = c.remove(b);
    let Some(left) = c.get_mut(a) else { return };
    let merged = {
        let l = Arc::make_mut(&mut left.node);
        match (l, &*right.node) {
            (Node::Leaf(l), Node::Leaf(r)) => {
                l.extend(r.iter().cloned());
                true
            }
            (Node::Inner(l), Node::Inner(r)) => {
                l.extend(r.iter().cloned());
                true
            }
            // Siblings always have the same depth; should they not, leave them as they were.
            _ => false,
        }
    };
    if !merged {
        c.insert(b, right);
        return;
    }
    let split = Arc::make_mut(&mut left.node).split_if_full();
    left.count = left.node.count();
    if let Some(s) = split {
        c.insert(b, s);
    }
}

/// An iterator over tree entries in key order; owns `Arc`s of the nodes it walks, so it outlives
/// any lock the tree was cloned under.
pub(crate) struct Iter {
    /// (node, index of the next entry in a leaf / of the next child to descend into).
    stack: Vec<(Arc<Node>, usize)>,
}

impl Iterator for Iter {
    type Item = (Arc<str>, Rec);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            enum Step {
                Yield(Arc<str>, Rec),
                Descend(Arc<Node>),
                Pop,
            }
            let (node, idx) = self.stack.last_mut()?;
            let step = match &**node {
                Node::Leaf(v) => match v.get(*idx) {
                    Some((k, r)) => {
                        *idx += 1;
                        Step::Yield(k.clone(), r.clone())
                    }
                    None => Step::Pop,
                },
                Node::Inner(c) => match c.get(*idx) {
                    Some(child) => {
                        *idx += 1;
                        Step::Descend(child.node.clone())
                    }
                    None => Step::Pop,
                },
            };
            match step {
                Step::Yield(k, r) => return Some((k, r)),
                Step::Descend(n) => self.stack.push((n, 0)),
                Step::Pop => {
                    self.stack.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rec(v: i64) -> Rec {
        Rec { value: Bytes::from(v.to_string()), create: v, modr: v, version: 1 }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn check(t: &Tree, m: &BTreeMap<String, Rec>) {
        assert_eq!(t.len(), m.len());
        let all: Vec<(String, Rec)> = t.iter_from("").map(|(k, r)| (k.to_string(), r)).collect();
        let want: Vec<(String, Rec)> = m.iter().map(|(k, r)| (k.clone(), r.clone())).collect();
        assert_eq!(all, want);
        check_counts(&t.root);
    }

    fn check_counts(n: &Node) -> usize {
        match n {
            Node::Leaf(v) => v.len(),
            Node::Inner(c) => {
                let mut total = 0;
                for ch in c {
                    let got = check_counts(&ch.node);
                    assert_eq!(got, ch.count, "child count");
                    assert_eq!(Some(&ch.min), ch.node.min_key(), "child min");
                    total += got;
                }
                total
            }
        }
    }

    #[test]
    fn random_ops_match_btreemap() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        let mut t = Tree::default();
        let mut m = BTreeMap::new();
        for step in 0..40_000i64 {
            let k = format!("k{:05}", rng.next() % 3000);
            match rng.next() % 3 {
                0 | 1 => {
                    let old = t.insert(Arc::from(k.as_str()), rec(step));
                    assert_eq!(old, m.insert(k.clone(), rec(step)));
                }
                _ => assert_eq!(t.remove(&k), m.remove(&k)),
            }
            assert_eq!(t.get(&k).map(|(_, r)| r.clone()), m.get(&k).cloned());
            if step % 2000 == 0 {
                check(&t, &m);
            }
        }
        check(&t, &m);
        // ranks and range counts
        for _ in 0..2000 {
            let a = format!("k{:05}", rng.next() % 3100);
            let b = format!("k{:05}", rng.next() % 3100);
            let want = m.range(a.clone()..).take_while(|(k, _)| **k < b).count();
            assert_eq!(t.count_range(&a, Some(&b)), want, "{a}..{b}");
            assert_eq!(t.rank(&a), m.range(..a.clone()).count());
            let it: Vec<String> = t.iter_from(&a).take(5).map(|(k, _)| k.to_string()).collect();
            let want: Vec<String> = m.range(a.clone()..).take(5).map(|(k, _)| k.clone()).collect();
            assert_eq!(it, want);
        }
        // remove everything: the tree shrinks back to one empty leaf
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            assert!(t.remove(&k).is_some());
            m.remove(&k);
        }
        check(&t, &m);
        assert!(matches!(&*t.root, Node::Leaf(v) if v.is_empty()));
    }

    #[test]
    fn clones_are_independent() {
        let mut t = Tree::default();
        for i in 0..1000 {
            t.insert(Arc::from(format!("{i:04}")), rec(i));
        }
        let snap = t.clone();
        for i in 0..1000 {
            if i % 2 == 0 {
                t.remove(&format!("{i:04}"));
            } else {
                t.insert(Arc::from(format!("{i:04}")), rec(-i));
            }
        }
        assert_eq!(snap.len(), 1000);
        assert_eq!(t.len(), 500);
        for (i, (k, r)) in snap.iter_from("").enumerate() {
            assert_eq!(&*k, format!("{i:04}"));
            assert_eq!(r, rec(i as i64));
        }
        assert_eq!(t.get("0001").map(|(_, r)| r.modr), Some(-1));
        assert!(t.get("0002").is_none());
        assert_eq!(snap.count_range("0100", Some("0200")), 100);
        assert_eq!(t.count_range("0100", Some("0200")), 50);
        assert_eq!(t.count_range("0100", None), 450);
    }
}
