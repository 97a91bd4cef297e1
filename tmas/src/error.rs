//! Error types.

use std::fmt;

use crate::location::SourceLocation;
use crate::model::LocationId;

/// Why a TMAS location id is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationIdError {
    /// The id is empty.
    #[error("the TMAS location id is empty")]
    Empty,
    /// The id is longer than TMAS accepts.
    #[error("the TMAS location id `{id}` is longer than {max} characters")]
    TooLong {
        /// The offending id.
        id: String,
        /// The maximum length.
        max: usize,
    },
    /// The id has a character other than ASCII letters, digits, `-` and `_`.
    #[error("the TMAS location id `{id}` contains the illegal character {character:?}")]
    IllegalCharacter {
        /// The offending id.
        id: String,
        /// The first illegal character.
        character: char,
    },
    /// The id strategy needs a number and the source id is not one.
    #[error("`{id}` is not a number, so it cannot be zero-padded")]
    NotNumeric {
        /// The source id.
        id: String,
    },
    /// The source id is longer than the zero-padded width.
    #[error("`{id}` is longer than the zero-padded width {width}")]
    WiderThanPadding {
        /// The source id.
        id: String,
        /// The configured width.
        width: usize,
    },
    /// The source id is shorter than the number of trailing characters to keep.
    #[error("`{id}` is shorter than the {n} trailing characters the strategy keeps")]
    TooShort {
        /// The source id.
        id: String,
        /// The number of trailing characters asked for.
        n: usize,
    },
    /// An explicit table has no entry for the source id.
    #[error("`{id}` has no entry in the location table")]
    NotInTable {
        /// The source id.
        id: String,
    },
}

/// One problem found while mapping source locations to TMAS ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationProblem {
    /// A source location maps to no valid TMAS id.
    Invalid {
        /// The source location.
        source: SourceLocation,
        /// Why.
        error: LocationIdError,
    },
    /// Several source locations map to the same TMAS id.
    Collision {
        /// The shared TMAS id.
        id: LocationId,
        /// Every source location that maps to it.
        sources: Vec<SourceLocation>,
    },
}

impl fmt::Display for LocationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocationProblem::Invalid { source, error } => write!(f, "{source}: {error}"),
            LocationProblem::Collision { id, sources } => {
                write!(f, "TMAS location id `{id}` is shared by ")?;
                for (i, s) in sources.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    write!(f, "{s}")?;
                }
                Ok(())
            }
        }
    }
}

/// Every problem found while mapping source locations, reported together before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LocationMapError {
    /// The problems, in source order (collisions after invalid ids).
    pub problems: Vec<LocationProblem>,
}

impl fmt::Display for LocationMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} location id problem(s): ", self.problems.len())?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The output failed.
    #[error("writing the file failed: {0}")]
    Io(#[from] std::io::Error),
    /// The file specification is inconsistent.
    #[error("invalid file specification: {0}")]
    InvalidSpec(String),
    /// A value cannot be written in the file format.
    #[error("invalid {field} `{value}`: {reason}")]
    InvalidValue {
        /// Which field.
        field: &'static str,
        /// The value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// A row names a location that is not in the file's location set.
    #[error("row for location `{0}`, which is not in the file's location set")]
    UnknownLocation(LocationId),
    /// A row lies outside the file's date range or off its interval grid.
    #[error("row for `{location}` at {date} {start} is outside the file's range or interval grid")]
    OutsideRange {
        /// The row's location.
        location: LocationId,
        /// The row's date.
        date: chrono::NaiveDate,
        /// The row's interval start.
        start: String,
    },
    /// Summary rows must come sorted by location, date and interval, each key once.
    #[error("summary rows out of order or repeated at `{location}` {date} {start}")]
    OutOfOrder {
        /// The row's location.
        location: LocationId,
        /// The row's date.
        date: chrono::NaiveDate,
        /// The row's interval start.
        start: String,
    },
}

/// Every error of this crate: one type for callers that handle TMAS failures together. Each
/// variant carries the detailed error of its operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A location id is not acceptable.
    #[error(transparent)]
    LocationId(#[from] LocationIdError),
    /// A location map has invalid or colliding ids.
    #[error(transparent)]
    LocationMap(#[from] LocationMapError),
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A delivery failed.
    #[error(transparent)]
    Delivery(#[from] crate::delivery::DeliveryError),
    /// A traffic request failed.
    #[error(transparent)]
    Traffic(#[from] crate::traffic::TrafficError),
    /// TMAS would reject an imported file.
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
}

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn every_error_converts_into_the_crate_error() {
        let e: Error = LocationIdError::Empty.into();
        assert!(matches!(e, Error::LocationId(LocationIdError::Empty)));
        assert_eq!(e.to_string(), LocationIdError::Empty.to_string());
        let e: Error = WriteError::InvalidSpec("x".into()).into();
        assert!(matches!(e, Error::Write(WriteError::InvalidSpec(_))));
        let e: Error = crate::delivery::DeliveryError::Config("no host".into()).into();
        assert_eq!(e.to_string(), "invalid delivery target: no host");
        let e: Error = crate::traffic::TrafficError::InvalidQuery("q".into()).into();
        assert!(matches!(e, Error::Traffic(_)));
    }
}
