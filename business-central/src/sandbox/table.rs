//! One entity set's rows in insertion order, with hash indexes on the id, the unique key and
//! the parent key, so that lookups, inserts, updates and deletes do not visit every row.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

/// One stored entity.
pub(crate) type Row = Map<String, Value>;

/// The key a text value is indexed under: lower case, as the sandbox compares text.
pub(crate) fn fold(v: &str) -> Cow<'_, str> {
    if v.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(v)
    } else {
        Cow::Owned(v.to_lowercase())
    }
}

/// The slots holding one indexed value, ascending.
#[derive(Debug, Clone)]
enum Slots {
    One(usize),
    Many(Vec<usize>),
}

impl Slots {
    fn as_slice(&self) -> &[usize] {
        match self {
            Slots::One(s) => std::slice::from_ref(s),
            Slots::Many(v) => v,
        }
    }

    fn add(&mut self, slot: usize) {
        match self {
            Slots::One(s) => {
                let a = *s;
                if a != slot {
                    *self = Slots::Many(if a < slot {
                        vec![a, slot]
                    } else {
                        vec![slot, a]
                    });
                }
            }
            Slots::Many(v) => {
                let pos = v.partition_point(|&x| x < slot);
                if v.get(pos) != Some(&slot) {
                    v.insert(pos, slot);
                }
            }
        }
    }

    /// Removes `slot`; `true` when no slot is left.
    fn remove(&mut self, slot: usize) -> bool {
        match self {
            Slots::One(s) => *s == slot,
            Slots::Many(v) => {
                v.retain(|&x| x != slot);
                if let [only] = v.as_slice() {
                    *self = Slots::One(*only);
                    false
                } else {
                    v.is_empty()
                }
            }
        }
    }
}

/// A hash index of one text field.
#[derive(Debug, Clone)]
struct Index {
    field: &'static str,
    map: HashMap<String, Slots>,
    /// Rows whose field is missing or not text (never in `map`).
    irregular: usize,
}

impl Index {
    fn add(&mut self, slot: usize, row: &Row) {
        match row.get(self.field) {
            Some(Value::String(v)) => match self.map.get_mut(fold(v).as_ref()) {
                Some(slots) => slots.add(slot),
                None => {
                    self.map.insert(fold(v).into_owned(), Slots::One(slot));
                }
            },
            _ => self.irregular += 1,
        }
    }

    fn remove(&mut self, slot: usize, row: &Row) {
        match row.get(self.field) {
            Some(Value::String(v)) => {
                let key = fold(v);
                if self
                    .map
                    .get_mut(key.as_ref())
                    .is_some_and(|slots| slots.remove(slot))
                {
                    self.map.remove(key.as_ref());
                }
            }
            _ => self.irregular = self.irregular.saturating_sub(1),
        }
    }
}

/// Rows of one entity set: insertion order kept, deleted rows leave a gap until compaction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    slots: Vec<Option<Row>>,
    live: usize,
    indexes: Vec<Index>,
    /// Changes whenever rows move to other slots (compaction).
    generation: u64,
}

/// An empty table without indexes.
pub(crate) static EMPTY: Table = Table {
    slots: Vec::new(),
    live: 0,
    indexes: Vec::new(),
    generation: 0,
};

impl Table {
    /// An empty table indexing the given text fields.
    pub fn indexed(fields: &[&'static str]) -> Table {
        Table {
            slots: Vec::new(),
            live: 0,
            indexes: fields
                .iter()
                .map(|f| Index {
                    field: f,
                    map: HashMap::new(),
                    irregular: 0,
                })
                .collect(),
            generation: 0,
        }
    }

    /// Changes whenever rows move to other slots: a slot is a stable position until then.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Slots and rows from `start` on, in insertion order.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = (usize, &Row)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .skip(start)
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
    }

    /// Number of rows.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.live
    }

    /// The rows in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Row> + '_ {
        self.slots.iter().flatten()
    }

    /// The row in `slot`.
    pub fn get(&self, slot: usize) -> Option<&Row> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// Candidate slots (ascending) of the rows whose `field` is text equal to `value` without
    /// case; `None` when `field` is not indexed or some row's `field` is not text (then only a
    /// scan answers like a comparison of every row).
    pub fn candidates(&self, field: &str, value: &str) -> Option<&[usize]> {
        let index = self.indexes.iter().find(|i| i.field == field)?;
        if index.irregular > 0 {
            return None;
        }
        Some(
            index
                .map
                .get(fold(value).as_ref())
                .map(Slots::as_slice)
                .unwrap_or(&[]),
        )
    }

    /// Slots and rows whose `field` (as text, "" when absent) equals `value` ignoring ASCII
    /// case, in insertion order.
    pub fn rows_where<'a>(
        &'a self,
        field: &'a str,
        value: &'a str,
    ) -> Box<dyn Iterator<Item = (usize, &'a Row)> + 'a> {
        fn text<'r>(r: &'r Row, field: &str) -> &'r str {
            r.get(field).and_then(Value::as_str).unwrap_or("")
        }
        match self.candidates(field, value) {
            Some(slots) => Box::new(slots.iter().filter_map(move |&i| {
                self.get(i)
                    .filter(|r| text(r, field).eq_ignore_ascii_case(value))
                    .map(|r| (i, r))
            })),
            None => Box::new(
                self.slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
                    .filter(move |(_, r)| text(r, field).eq_ignore_ascii_case(value)),
            ),
        }
    }

    /// Appends a row; returns its slot.
    pub fn push(&mut self, row: Row) -> usize {
        let slot = self.slots.len();
        for index in &mut self.indexes {
            index.add(slot, &row);
        }
        self.slots.push(Some(row));
        self.live += 1;
        slot
    }

    /// Replaces the row in `slot`; returns the previous one (`None` and no change if empty).
    pub fn set(&mut self, slot: usize, row: Row) -> Option<Row> {
        let cell = self.slots.get_mut(slot)?;
        let old = cell.take()?;
        for index in &mut self.indexes {
            if old.get(index.field) != row.get(index.field) {
                index.remove(slot, &old);
                index.add(slot, &row);
            }
        }
        *cell = Some(row);
        Some(old)
    }

    /// Removes the row in `slot`, leaving a gap; returns it.
    pub fn take(&mut self, slot: usize) -> Option<Row> {
        let old = self.slots.get_mut(slot)?.take()?;
        for index in &mut self.indexes {
            index.remove(slot, &old);
        }
        self.live -= 1;
        if slot + 1 == self.slots.len() {
            // A gap at the end is simply dropped (also how an insert is undone).
            while self.slots.last().is_some_and(Option::is_none) {
                self.slots.pop();
            }
        }
        Some(old)
    }

    /// Puts a removed row back into its gap (undoing [`Table::take`]).
    pub fn restore(&mut self, slot: usize, row: Row) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        if let Some(cell) = self.slots.get_mut(slot)
            && cell.is_none()
        {
            for index in &mut self.indexes {
                index.add(slot, &row);
            }
            *cell = Some(row);
            self.live += 1;
        }
    }

    /// Closes the gaps once they outnumber the rows (slots change: only outside a journal).
    pub fn compact_if_sparse(&mut self) {
        let gaps = self.slots.len() - self.live;
        if gaps <= 64 || gaps <= self.live {
            return;
        }
        let rows: Vec<Row> = std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect();
        for index in &mut self.indexes {
            index.map.clear();
            index.irregular = 0;
        }
        self.live = 0;
        self.generation += 1;
        for row in rows {
            self.push(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(id: &str, number: Value) -> Row {
        json!({"id": id, "number": number})
            .as_object()
            .cloned()
            .unwrap()
    }

    fn ids(t: &Table) -> Vec<&str> {
        t.iter().map(|r| r["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn indexes_follow_push_set_take_and_restore() {
        let mut t = Table::indexed(&["id", "number"]);
        for i in 0..5 {
            t.push(row(&format!("id{i}"), json!(format!("N{i}"))));
        }
        assert_eq!(t.candidates("number", "n3"), Some(&[3][..]));
        assert_eq!(t.rows_where("number", "n3").count(), 1);
        let old = t.set(3, row("id3", json!("X"))).unwrap();
        assert_eq!(old["number"], "N3");
        assert_eq!(t.candidates("number", "N3"), Some(&[][..]));
        assert_eq!(t.candidates("number", "x"), Some(&[3][..]));
        let taken = t.take(1).unwrap();
        assert_eq!(ids(&t), ["id0", "id2", "id3", "id4"]);
        assert_eq!(t.len(), 4);
        assert_eq!(t.candidates("id", "ID1"), Some(&[][..]));
        t.restore(1, taken);
        assert_eq!(ids(&t), ["id0", "id1", "id2", "id3", "id4"]);
        assert_eq!(
            t.rows_where("id", "ID1")
                .map(|(i, _)| i)
                .collect::<Vec<_>>(),
            [1]
        );
        // Taking the last row shortens the table (undoing an insert).
        t.take(4);
        t.take(3);
        assert_eq!(t.slots.len(), 3);
        assert_eq!(t.push(row("id5", json!("N5"))), 3);
    }

    #[test]
    fn duplicates_and_irregular_values() {
        let mut t = Table::indexed(&["number"]);
        t.push(row("a", json!("K")));
        t.push(row("b", json!("k")));
        assert_eq!(t.candidates("number", "K"), Some(&[0, 1][..]));
        t.take(0);
        assert_eq!(t.candidates("number", "k"), Some(&[1][..]));
        t.push(row("c", json!(12)));
        // A non-text value: only a scan compares like the filters do.
        assert_eq!(t.candidates("number", "k"), None);
        assert_eq!(
            t.rows_where("number", "")
                .map(|(i, _)| i)
                .collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(t.candidates("other", "k"), None);
    }

    #[test]
    fn compaction_keeps_order_and_indexes() {
        let mut t = Table::indexed(&["id"]);
        for i in 0..200 {
            t.push(row(&format!("r{i}"), json!("")));
        }
        for i in (0..200).filter(|i| i % 3 != 0) {
            t.take(i);
        }
        t.compact_if_sparse();
        assert_eq!(t.slots.len(), t.len());
        assert_eq!(t.iter().next().unwrap()["id"], "r0");
        let (slot, r) = t.rows_where("id", "R99").next().unwrap();
        assert_eq!((slot, r["id"].as_str()), (33, Some("r99")));
    }
}
