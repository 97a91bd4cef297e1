//! Stock: the quantity to publish from on-hand stock and open reservations.
//!
//! The default policy is on hand minus open sales reservations, floored at zero.
//!
//! ```
//! use rust_decimal::Decimal;
//! use sync_core::stock::{StockLevel, StockPolicy};
//!
//! let policy = StockPolicy::default();
//! let level = StockLevel::new(Decimal::from(5), Decimal::from(7));
//! assert_eq!(policy.available(&level), Decimal::ZERO);
//! assert_eq!(StockPolicy::on_hand().available(&level), Decimal::from(5));
//! ```

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Stock figures for one item (at one location, when the data has locations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The location, when the data has locations.
    pub location: Option<String>,
    /// Quantity on hand (the target's "inventory").
    pub on_hand: Decimal,
    /// Quantity reserved by open sales orders not yet shipped.
    pub reserved: Decimal,
}

impl StockLevel {
    /// Figures without a location.
    pub fn new(on_hand: Decimal, reserved: Decimal) -> Self {
        Self {
            location: None,
            on_hand,
            reserved,
        }
    }
    /// Figures at a location.
    pub fn at(location: impl Into<String>, on_hand: Decimal, reserved: Decimal) -> Self {
        Self {
            location: Some(location.into()),
            on_hand,
            reserved,
        }
    }
}

/// A caller's calculation.
pub type StockFn = Arc<dyn Fn(&StockLevel) -> Decimal + Send + Sync>;

/// How the quantity is calculated.
#[derive(Clone)]
#[non_exhaustive]
pub enum Calculation {
    /// On hand minus reservations (the default).
    AvailableMinusReserved,
    /// On hand, ignoring reservations.
    OnHand,
    /// A caller's function.
    Custom(StockFn),
}

impl fmt::Debug for Calculation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Calculation::AvailableMinusReserved => f.write_str("AvailableMinusReserved"),
            Calculation::OnHand => f.write_str("OnHand"),
            Calculation::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Whether stock is managed for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Managed {
    /// As the source says.
    #[default]
    FromSource,
    /// Always managed.
    Always,
    /// Never managed: no quantity is published.
    Never,
}

/// A stock policy: calculation, negative floor and stock management override.
#[derive(Debug, Clone)]
pub struct StockPolicy {
    calculation: Calculation,
    allow_negative: bool,
    managed: Managed,
}

impl Default for StockPolicy {
    fn default() -> Self {
        Self {
            calculation: Calculation::AvailableMinusReserved,
            allow_negative: false,
            managed: Managed::FromSource,
        }
    }
}

/// The quantity to publish for an item at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Available {
    /// The location, when the data has locations.
    pub location: Option<String>,
    /// The quantity.
    pub quantity: Decimal,
}

impl StockPolicy {
    /// On hand, ignoring reservations (floored at zero).
    pub fn on_hand() -> Self {
        Self {
            calculation: Calculation::OnHand,
            ..Self::default()
        }
    }
    /// A caller's calculation (floored at zero unless negatives are allowed).
    pub fn custom(f: impl Fn(&StockLevel) -> Decimal + Send + Sync + 'static) -> Self {
        Self {
            calculation: Calculation::Custom(Arc::new(f)),
            ..Self::default()
        }
    }
    /// Allows negative quantities to be published.
    pub fn allow_negative(mut self, allow: bool) -> Self {
        self.allow_negative = allow;
        self
    }
    /// Overrides whether stock is managed.
    pub fn managed(mut self, managed: Managed) -> Self {
        self.managed = managed;
        self
    }

    /// Whether stock is managed, given what the source says.
    pub fn is_managed(&self, source_says: bool) -> bool {
        match self.managed {
            Managed::FromSource => source_says,
            Managed::Always => true,
            Managed::Never => false,
        }
    }

    /// The quantity for one level.
    pub fn available(&self, level: &StockLevel) -> Decimal {
        let q = match &self.calculation {
            Calculation::AvailableMinusReserved => level.on_hand - level.reserved,
            Calculation::OnHand => level.on_hand,
            Calculation::Custom(f) => f(level),
        };
        if self.allow_negative {
            q
        } else {
            q.max(Decimal::ZERO)
        }
    }

    /// Quantities per location for an item, or `None` when stock is not managed
    /// (then no quantity should be written).
    pub fn quantities(
        &self,
        levels: &[StockLevel],
        source_managed: bool,
    ) -> Option<Vec<Available>> {
        if !self.is_managed(source_managed) {
            return None;
        }
        Some(
            levels
                .iter()
                .map(|l| Available {
                    location: l.location.clone(),
                    quantity: self.available(l),
                })
                .collect(),
        )
    }

    /// The total over all locations (each location computed and floored on its own).
    pub fn total(&self, levels: &[StockLevel]) -> Decimal {
        levels.iter().map(|l| self.available(l)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn policies() {
        let l = StockLevel::new(dec!(10), dec!(3));
        assert_eq!(StockPolicy::default().available(&l), dec!(7));
        assert_eq!(StockPolicy::on_hand().available(&l), dec!(10));
        let short = StockLevel::new(dec!(2), dec!(5));
        assert_eq!(StockPolicy::default().available(&short), dec!(0));
        assert_eq!(
            StockPolicy::default()
                .allow_negative(true)
                .available(&short),
            dec!(-3)
        );
        let custom = StockPolicy::custom(|l| l.on_hand - l.reserved * dec!(2));
        assert_eq!(custom.available(&l), dec!(4));
        assert_eq!(custom.available(&short), dec!(0));
    }

    #[test]
    fn managed_and_locations() {
        let levels = [
            StockLevel::at("A", dec!(4), dec!(1)),
            StockLevel::at("B", dec!(1), dec!(3)),
        ];
        let p = StockPolicy::default();
        assert_eq!(p.quantities(&levels, false), None);
        let q = p.quantities(&levels, true).unwrap();
        assert_eq!(
            q[0],
            Available {
                location: Some("A".into()),
                quantity: dec!(3)
            }
        );
        assert_eq!(q[1].quantity, dec!(0));
        assert_eq!(p.total(&levels), dec!(3));
        let always = StockPolicy::default().managed(Managed::Always);
        assert!(always.quantities(&levels, false).is_some());
        assert!(
            StockPolicy::default()
                .managed(Managed::Never)
                .quantities(&levels, true)
                .is_none()
        );
    }

    proptest! {
        #[test]
        fn default_policy_never_negative(on_hand in -1_000_000i64..1_000_000, reserved in -1_000_000i64..1_000_000, scale in 0u32..4) {
            let l = StockLevel::new(Decimal::new(on_hand, scale), Decimal::new(reserved, scale));
            let q = StockPolicy::default().available(&l);
            prop_assert!(q >= Decimal::ZERO);
            prop_assert!(q >= l.on_hand - l.reserved);
            prop_assert!(StockPolicy::on_hand().available(&l) >= Decimal::ZERO);
        }
    }
}
