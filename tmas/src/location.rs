//! Mapping source (POS) locations to TMAS location ids, with validation before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::error::{LocationIdError, LocationMapError, LocationProblem};
use crate::model::LocationId;

/// A location as the source system knows it (e.g. a Lightspeed outlet), named in error reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceLocation {
    /// The source system's id (e.g. the outlet GUID).
    pub id: String,
    /// A human-readable name, when known.
    pub name: Option<String>,
}

impl SourceLocation {
    /// A source location with a name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: Some(name.into()),
        }
    }

    /// A source location known by id only.
    pub fn id_only(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "location \"{name}\" ({})", self.id),
            None => write!(f, "location {}", self.id),
        }
    }
}

/// How a source location id becomes a TMAS location id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationIdStrategy {
    /// The last N characters of the source id. TMAS's Lightspeed X-Series guide prescribes the last
    /// 8 characters of the outlet GUID ([`LocationIdStrategy::lightspeed_x`]).
    LastChars(usize),
    /// The source id is a number, written with leading zeros to `width` digits (`1` -> `0001`),
    /// as for Lightspeed R-Series shop ids.
    ZeroPadded {
        /// Number of digits.
        width: usize,
    },
    /// The source id unchanged.
    Unchanged,
    /// An explicit table from source id to TMAS id; a source id missing from it is an error.
    Table(BTreeMap<String, String>),
}

impl LocationIdStrategy {
    /// The strategy TMAS prescribes for Lightspeed X-Series outlets: the last 8 characters of the GUID.
    pub fn lightspeed_x() -> Self {
        LocationIdStrategy::LastChars(8)
    }

    /// The TMAS id for one source id.
    pub fn map(&self, source_id: &str) -> Result<LocationId, LocationIdError> {
        let source = source_id.trim();
        match self {
            LocationIdStrategy::LastChars(n) => {
                let chars: Vec<char> = source.chars().collect();
                if chars.is_empty() {
                    return Err(LocationIdError::Empty);
                }
                if chars.len() < *n {
                    return Err(LocationIdError::TooShort {
                        id: source.to_owned(),
                        n: *n,
                    });
                }
                let tail: String = chars[chars.len() - n..].iter().collect();
                LocationId::new(tail)
            }
            LocationIdStrategy::ZeroPadded { width } => {
                if source.is_empty() {
                    return Err(LocationIdError::Empty);
                }
                if !source.chars().all(|c| c.is_ascii_digit()) {
                    return Err(LocationIdError::NotNumeric {
                        id: source.to_owned(),
                    });
                }
                let digits = source.trim_start_matches('0');
                let digits = if digits.is_empty() { "0" } else { digits };
                if digits.len() > *width {
                    return Err(LocationIdError::WiderThanPadding {
                        id: source.to_owned(),
                        width: *width,
                    });
                }
                LocationId::new(format!("{digits:0>width$}", width = *width))
            }
            LocationIdStrategy::Unchanged => LocationId::new(source),
            LocationIdStrategy::Table(table) => match table.get(source) {
                Some(id) => LocationId::new(id.clone()),
                None => Err(LocationIdError::NotInTable {
                    id: source.to_owned(),
                }),
            },
        }
    }
}

/// A validated mapping from source locations to distinct TMAS location ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocationMap {
    by_source: BTreeMap<String, (SourceLocation, LocationId)>,
}

impl LocationMap {
    /// Maps every source location with `strategy`. Fails with every problem at once (invalid ids and
    /// two source locations sharing one TMAS id), each naming the source locations involved.
    pub fn build(
        strategy: &LocationIdStrategy,
        sources: impl IntoIterator<Item = SourceLocation>,
    ) -> Result<Self, LocationMapError> {
        let mut problems = Vec::new();
        let mut by_source: BTreeMap<String, (SourceLocation, LocationId)> = BTreeMap::new();
        for source in sources {
            let key = source.id.trim().to_owned();
            if by_source.contains_key(&key) {
                continue;
            }
            match strategy.map(&source.id) {
                Ok(id) => {
                    by_source.insert(key, (source, id));
                }
                Err(error) => problems.push(LocationProblem::Invalid { source, error }),
            }
        }
        let mut by_id: BTreeMap<&LocationId, Vec<&SourceLocation>> = BTreeMap::new();
        for (source, id) in by_source.values() {
            by_id.entry(id).or_default().push(source);
        }
        for (id, sources) in by_id {
            if sources.len() > 1 {
                problems.push(LocationProblem::Collision {
                    id: id.clone(),
                    sources: sources.into_iter().cloned().collect(),
                });
            }
        }
        if problems.is_empty() {
            Ok(Self { by_source })
        } else {
            Err(LocationMapError { problems })
        }
    }

    /// The TMAS id of a source location id.
    pub fn get(&self, source_id: &str) -> Option<&LocationId> {
        self.by_source.get(source_id.trim()).map(|(_, id)| id)
    }

    /// Every TMAS id, sorted.
    pub fn locations(&self) -> BTreeSet<LocationId> {
        self.by_source.values().map(|(_, id)| id.clone()).collect()
    }

    /// Each source location with its TMAS id, by source id.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceLocation, &LocationId)> {
        self.by_source.values().map(|(s, id)| (s, id))
    }

    /// Number of mapped locations.
    pub fn len(&self) -> usize {
        self.by_source.len()
    }

    /// Whether no location is mapped.
    pub fn is_empty(&self) -> bool {
        self.by_source.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lightspeed_guid_last_eight() {
        let s = LocationIdStrategy::lightspeed_x();
        assert_eq!(
            s.map("0adaafb3-6583-11e5-fb60-c4ad5a8ce6a5")
                .unwrap()
                .as_str(),
            "5a8ce6a5"
        );
        assert_eq!(
            s.map("abc"),
            Err(LocationIdError::TooShort {
                id: "abc".into(),
                n: 8
            })
        );
    }

    #[test]
    fn zero_padded() {
        let s = LocationIdStrategy::ZeroPadded { width: 4 };
        assert_eq!(s.map("1").unwrap().as_str(), "0001");
        assert_eq!(s.map("0012").unwrap().as_str(), "0012");
        assert_eq!(s.map("00012").unwrap().as_str(), "0012");
        assert!(matches!(
            s.map("12345"),
            Err(LocationIdError::WiderThanPadding { .. })
        ));
        assert!(matches!(
            s.map("12a"),
            Err(LocationIdError::NotNumeric { .. })
        ));
    }

    #[test]
    fn table_and_unchanged() {
        let table = LocationIdStrategy::Table(BTreeMap::from([("a".into(), "SB0007".into())]));
        assert_eq!(table.map("a").unwrap().as_str(), "SB0007");
        assert!(matches!(
            table.map("b"),
            Err(LocationIdError::NotInTable { .. })
        ));
        assert!(matches!(
            LocationIdStrategy::Unchanged.map("store 1"),
            Err(LocationIdError::IllegalCharacter { character: ' ', .. })
        ));
    }

    #[test]
    fn collisions_and_invalid_ids_reported_together_with_names() {
        let err = LocationMap::build(
            &LocationIdStrategy::lightspeed_x(),
            [
                SourceLocation::new("0adaafb3-6583-11e5-fb60-c4ad5a8ce6a5", "Main Street"),
                SourceLocation::new("1bbbbbb3-6583-11e5-fb60-c4ad5a8ce6a5", "Harbour"),
                SourceLocation::new("short", "Popup"),
                SourceLocation::new("0adaafb3-6583-11e5-fb60-c4ad00000001", "Airport"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 2);
        let text = err.to_string();
        assert!(text.contains("\"Popup\""), "{text}");
        assert!(
            text.contains("`5a8ce6a5` is shared by location \"Main Street\""),
            "{text}"
        );
        assert!(text.contains("\"Harbour\""), "{text}");
        assert!(!text.contains("Airport"), "{text}");
    }

    #[test]
    fn valid_map() {
        let map = LocationMap::build(
            &LocationIdStrategy::ZeroPadded { width: 4 },
            [SourceLocation::id_only("2"), SourceLocation::id_only("1")],
        )
        .unwrap();
        assert_eq!(map.get("2").unwrap().as_str(), "0002");
        let ids: Vec<_> = map.locations().into_iter().map(|l| l.to_string()).collect();
        assert_eq!(ids, ["0001", "0002"]);
    }
}
